"""Links the portal stores or sends are built from the URL conf (``reverse``), never
written as paths: mounted under another prefix, a detector's evidence and an e-mail's
link point to the pages where they are served. This module is itself the URL conf of
its tests: the whole portal under ``/portal/``."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import include, path

from contracts import services
from contracts.models import Flag, FlagRule, OutgoingEmail
from tests.factories import FixedContractFactory, MilestoneFactory
from tests.fixtures.feedback import client_feedback, ended_contract, freelancer_feedback

urlpatterns = [path("portal/", include("contracts_portal.urls"))]

NOW = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_detectors_evidence_links_the_contract_page_where_it_is_served():
    with time_machine.travel(NOW - timedelta(days=2), tick=False):
        contract = FixedContractFactory(started_at=NOW - timedelta(days=2))
        milestone = MilestoneFactory(contract=contract, amount_cents=100_00)
        services.milestone_fund(milestone=milestone, by=contract.client)
    with time_machine.travel(NOW, tick=False):
        services.contract_end(contract=contract, by=contract.freelancer, reason="other")

    flag = Flag.objects.get(rule=FlagRule.QUICK_END)
    assert flag.evidence["contract_url"] == f"/portal/contracts/{contract.pk}/"


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_the_feedback_revealed_email_links_the_contract_page_where_it_is_served(settings):
    settings.PORTAL_BASE_URL = "https://portal.example/"
    contract = ended_contract()
    client_feedback(contract)
    freelancer_feedback(contract)

    email = OutgoingEmail.objects.get(key=f"feedback-revealed:{contract.pk}:{contract.client_id}")
    assert f"The contract: https://portal.example/portal/contracts/{contract.pk}/#feedback" in email.body_text

"""A suspension reports how many open contracts it ended: the service that ends them
counts them (``AccountSuspension.contracts_ended``, and on a reviewer's decision to
suspend ``FlagDecision.suspension``), and the review page says that number."""

import pytest
from django.urls import reverse

from contracts import services
from contracts.models import FlagDecisionKind
from tests.factories import FixedContractFactory, HourlyContractFactory, UserFactory
from tests.fixtures.flags import flag_about
from tests.fixtures.people import reviewer


def with_open_and_ended_contracts(username: str):
    """A user party to two open contracts and one already ended."""
    user = UserFactory(username=username)
    FixedContractFactory(freelancer=user)
    HourlyContractFactory(client=user)
    ended = FixedContractFactory(freelancer=user)
    services.contract_end(contract=ended, by=user, reason="completed")
    return user


@pytest.mark.django_db
def test_a_suspension_reports_the_open_contracts_it_ended():
    gary = with_open_and_ended_contracts("gary")

    suspension = services.account_suspend(user=gary, by=reviewer(), rule="Rule", explanation="Explained.")

    assert suspension.contracts_ended == 2


@pytest.mark.django_db
def test_a_decision_to_suspend_carries_the_suspension_it_made_and_other_decisions_none():
    gary = with_open_and_ended_contracts("gary")
    rita = reviewer()

    dismissed = services.flag_decide(flag=flag_about(UserFactory()), by=rita, decision="dismiss", note="Fine.")
    suspended = services.flag_decide(flag=flag_about(gary), by=rita, decision=FlagDecisionKind.SUSPEND, note="Yes.")

    assert dismissed.suspension is None
    assert suspended.suspension.user == gary
    assert suspended.suspension.contracts_ended == 2


@pytest.mark.django_db
def test_the_review_page_says_the_number_of_contracts_the_service_ended(client, monkeypatch):
    gary = with_open_and_ended_contracts("gary")
    flag = flag_about(gary)
    decide = services.flag_decide

    def decide_and_count_seven(**kwargs):
        made = decide(**kwargs)
        made.suspension.contracts_ended = 7
        return made

    monkeypatch.setattr(services, "flag_decide", decide_and_count_seven)
    client.force_login(reviewer())

    response = client.post(
        reverse("review_flag", args=[flag.pk]),
        {"decision": FlagDecisionKind.SUSPEND, "note": "Confirmed.", "message_to_user": ""},
        follow=True,
    )

    assert "7 open contracts ended, with escrow returned to the clients." in response.content.decode()

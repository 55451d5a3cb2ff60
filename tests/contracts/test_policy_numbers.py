"""Every policy number is read from contracts_portal/settings/policy.py where it is
stated: pages through the ``policy`` context value, rule refusals, services and views
from the settings as currently set: each of those tests changes a policy and reads
the new number. The milestone minimum's database constraint and the scheduled work's
labels, fixed when the models load, are checked against the setting they are built from."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.urls import reverse

from contracts import services
from contracts.context_processors import policy
from contracts.models import EscrowRefundRequest, JobKind, Milestone, StateChange
from contracts_portal.errors import DomainError
from contracts_portal.settings import policy as policy_module
from tests.factories import FixedContractFactory, UserFactory
from tests.fixtures.contracts import funded
from tests.fixtures.feedback import client_feedback, ended_contract
from tests.fixtures.pages import unescaped

NOW = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)


def test_templates_get_every_policy_number_as_currently_set(rf, settings):
    settings.REFUND_WINDOW_DAYS = 90

    numbers = policy(rf.get(reverse("home")))["policy"]

    assert set(numbers) == {name for name in vars(policy_module) if name.isupper()}
    assert numbers["REFUND_WINDOW_DAYS"] == 90
    assert numbers["FEEDBACK_WINDOW_DAYS"] == django_settings.FEEDBACK_WINDOW_DAYS


@pytest.mark.django_db
def test_the_pages_state_the_refund_window_as_set(client, settings):
    settings.REFUND_WINDOW_DAYS = 90
    freelancer = UserFactory()
    client.force_login(freelancer)

    assert "in the last 90 days" in unescaped(client.get(reverse("refunds")))
    assert "refunds stay possible for 90 days" in unescaped(client.get(reverse("home")))


@pytest.mark.django_db
def test_the_settings_page_states_the_hour_the_billing_week_is_invoiced_as_set(client, settings):
    settings.HOURLY_WEEK_INVOICE_HOUR_UTC = 9
    client.force_login(UserFactory())

    assert "can be changed until Monday 09:00 UTC, when it is invoiced" in unescaped(
        client.get(reverse("account_settings"))
    )


@pytest.mark.django_db
def test_the_end_preview_states_the_answer_period_and_feedback_window_as_set(client, settings):
    settings.REFUND_REQUEST_RESPONSE_DAYS = 10
    settings.FEEDBACK_WINDOW_DAYS = 21
    contract = FixedContractFactory()
    milestone = funded(contract)
    client.force_login(contract.client)

    page = unescaped(
        client.post(
            reverse("contract_end", args=[contract.pk]),
            {
                "preview": "1",
                "plan_transition": "end",
                "state": contract.state,
                f"milestone_{milestone.pk}_choice": "nothing",
            },
        )
    )

    assert "a refund request the freelancer has 10 days to approve or dispute" in page
    assert "(21 days after the end)" in page


@pytest.mark.django_db
def test_the_contract_page_states_the_public_feedback_minimum_as_set(client, settings):
    settings.PUBLIC_FEEDBACK_MIN_NET_CENTS = 5_00
    contract = ended_contract(paid_cents=100_00, refund_cents=96_00)
    client_feedback(contract)
    client.force_login(contract.client)

    page = unescaped(client.get(reverse("contract_detail", args=[contract.pk])))

    assert "Payments on this contract came to less than $5.00, so its feedback does not appear" in page


@pytest.mark.django_db
def test_refusals_state_the_proposal_expiry_and_answer_period_as_set(settings):
    settings.END_PROPOSAL_EXPIRY_DAYS = 3
    settings.REFUND_REQUEST_RESPONSE_DAYS = 10
    contract = FixedContractFactory()
    milestone = funded(contract)
    with time_machine.travel(NOW, tick=False):
        services.contract_propose_end(contract=contract, by=contract.freelancer)
    with time_machine.travel(NOW + timedelta(days=3), tick=False), pytest.raises(DomainError) as refused:
        services.contract_accept_end(contract=contract, by=contract.client, reason="completed")
    assert refused.value.message == "There is no open proposal to end this contract (it may have expired after 3 days)."

    with time_machine.travel(NOW + timedelta(days=4), tick=False):
        services.contract_end(
            contract=contract,
            by=contract.client,
            reason="completed",
            milestone_decisions={milestone.pk: services.MilestoneDecision(services.MilestoneChoice.PAY_NOTHING)},
        )
    request = EscrowRefundRequest.objects.get(milestone=milestone)
    with time_machine.travel(NOW + timedelta(days=14), tick=False):
        assert request.refusal("approve", contract.freelancer) == (
            "The 10 days to answer this refund request are over; it was approved automatically."
        )


@pytest.mark.django_db
def test_an_unanswered_refund_request_is_approved_with_the_answer_period_as_set(settings):
    settings.REFUND_REQUEST_RESPONSE_DAYS = 10
    contract = FixedContractFactory()
    asked_back = funded(contract)
    with time_machine.travel(NOW, tick=False):
        services.contract_end(
            contract=contract,
            by=contract.client,
            reason="completed",
            milestone_decisions={asked_back.pk: services.MilestoneDecision(services.MilestoneChoice.PAY_NOTHING)},
        )
    request = EscrowRefundRequest.objects.get(milestone=asked_back)
    with time_machine.travel(NOW + timedelta(days=10), tick=False):
        services.refund_request_approve_unanswered(request_id=request.pk)

    assert StateChange.objects.get(transition="approve_unanswered").reason == "No answer within 10 days"


@pytest.mark.django_db
def test_unreviewed_work_is_released_with_the_review_period_as_set(settings):
    settings.MILESTONE_AUTO_RELEASE_DAYS = 20
    contract = FixedContractFactory()
    milestone = funded(contract)
    with time_machine.travel(NOW, tick=False):
        services.milestone_submit(milestone=milestone, by=contract.freelancer, note="Done")
    with time_machine.travel(NOW + timedelta(days=20), tick=False):
        services.milestone_release_unreviewed(milestone_id=milestone.pk)

    assert StateChange.objects.get(transition="release").reason == "Not reviewed within 20 days"


@pytest.mark.django_db
def test_the_views_confirm_with_the_proposal_expiry_and_review_period_as_set(client, settings):
    settings.END_PROPOSAL_EXPIRY_DAYS = 3
    settings.MILESTONE_AUTO_RELEASE_DAYS = 20
    contract = FixedContractFactory()
    milestone = funded(contract)

    client.force_login(contract.freelancer)
    submitted = unescaped(
        client.post(reverse("milestone_action", args=[milestone.pk, "submit"]), {"note": "Done"}, follow=True)
    )
    client.force_login(contract.client)
    proposed = unescaped(client.post(reverse("contract_action", args=[contract.pk, "propose_end"]), follow=True))

    assert "the client has 20 days to review it." in submitted
    assert "the other party has 3 days to accept." in proposed


def test_the_milestone_minimum_constraint_is_built_from_the_policy():
    (constraint,) = [c for c in Milestone._meta.constraints if c.name == "milestone_minimum_5_dollars"]

    assert constraint.condition.children == [("amount_cents__gte", django_settings.MILESTONE_MINIMUM_CENTS)]


def test_the_scheduled_work_labels_name_the_policy_periods():
    assert JobKind.FEEDBACK_REMINDER.label == f"Feedback reminder (day {django_settings.FEEDBACK_REMINDER_DAY})"
    assert JobKind.REFUND_REQUEST_AUTO_APPROVE.label == (
        f"Unanswered refund request approved ({django_settings.REFUND_REQUEST_RESPONSE_DAYS} days)"
    )

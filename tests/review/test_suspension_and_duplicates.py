"""One way to suspend an account (the service, from the review queue and the admin
alike), what the suspended person reads, and a review queue without duplicates or
stale flags: one event raises one flag per rule and person, and a suspension closes
the person's other open flags."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from billing.selectors import balance_of, escrow_held_cents
from contracts import services
from contracts.models import (
    AccountSuspension,
    ContractState,
    EndKind,
    Flag,
    FlagDecision,
    FlagDecisionKind,
    FlagRule,
    rule_public_explanation,
)
from contracts.services import MilestoneChoice, MilestoneDecision
from contracts.views.review import flags_with_status
from contracts_portal.errors import DomainError
from tests.factories import PASSWORD, FixedContractFactory, HourlyContractFactory, UserFactory
from tests.fixtures.contracts import fresh, funded
from tests.fixtures.flags import flag_about, status_of
from tests.fixtures.people import reviewer

NOW = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)


# 3. A suspension made in the admin goes through the service.


@pytest.mark.django_db
def test_a_suspension_added_in_the_admin_ends_open_contracts_returns_escrow_and_closes_open_flags(admin_client):
    gary = UserFactory(username="gary")
    fixed = FixedContractFactory(freelancer=gary)
    milestone = funded(fixed, 250_00)
    hourly = HourlyContractFactory(client=gary)
    open_flag = flag_about(gary)

    response = admin_client.post(
        reverse("admin:contracts_accountsuspension_add"),
        {
            "user": gary.pk,
            "rule": "Payment outside the platform",
            "explanation": "Asking to be paid outside the platform breaks the terms of service.",
            "message_to_user": "",
            "internal_note": "Confirmed with the client by phone.",
        },
    )

    assert response.status_code == 302
    assert fresh(gary).is_active is False
    assert fresh(fixed).state == fresh(hourly).state == ContractState.ENDED
    assert fresh(fixed).end_kind == EndKind.FORCED
    assert escrow_held_cents(milestone) == 0
    assert balance_of(f"client-funds:{fixed.client_id}") == 0  # $250 and its fee, charged and given back
    assert status_of(open_flag) == "closed"


@pytest.mark.django_db
def test_the_admin_refuses_a_second_suspension_and_ones_own_with_a_message(admin_client, admin_user):
    gary = UserFactory(username="gary")
    services.account_suspend(user=gary, by=admin_user, rule="Rule", explanation="Explained.")
    form = {"rule": "Again", "explanation": "Again.", "message_to_user": "", "internal_note": ""}

    again = admin_client.post(reverse("admin:contracts_accountsuspension_add"), {"user": gary.pk, **form})
    own = admin_client.post(reverse("admin:contracts_accountsuspension_add"), {"user": admin_user.pk, **form})

    assert again.status_code == own.status_code == 200
    assert "This account is already closed." in again.content.decode()
    assert "You cannot close your own account." in own.content.decode()
    assert AccountSuspension.objects.count() == 1


@pytest.mark.django_db
def test_staff_without_the_permission_to_suspend_cannot_suspend_through_the_service():
    staff = UserFactory(is_staff=True)
    with pytest.raises(DomainError, match="Only reviewers and administrators"):
        services.account_suspend(user=UserFactory(), by=staff, rule="Rule", explanation="Explained.")
    assert not AccountSuspension.objects.exists()


# 9. The suspended person reads the rule and its public explanation, never the internal note.


@pytest.mark.django_db
def test_a_suspended_user_signing_in_reads_the_rule_its_explanation_and_the_message_never_the_internal_note(client):
    gary = UserFactory(username="gary")
    flag = flag_about(gary, rule=FlagRule.OFF_PLATFORM_CONTACT)
    with time_machine.travel(NOW, tick=False):
        services.flag_decide(
            flag=flag,
            by=reviewer(),
            decision=FlagDecisionKind.SUSPEND,
            note="Client says he asked for PayPal twice; suspect he runs several accounts.",
            message_to_user="You may ask for a review by replying to our e-mail.",
        )

    page = client.post(reverse("login"), {"login": "gary", "password": PASSWORD}).content.decode()

    closed = "This account was permanently closed on 2026-03-04: Payment or contact details for outside the platform."
    assert closed in page
    assert rule_public_explanation(FlagRule.OFF_PLATFORM_CONTACT).replace("'", "&#x27;") in page
    assert "Message from the platform: You may ask for a review by replying to our e-mail." in page
    assert "suspect" not in page
    suspension = AccountSuspension.objects.get(user=gary)
    assert suspension.internal_note.startswith("Client says")


@pytest.mark.django_db
def test_the_review_form_offers_a_separate_message_to_the_user_and_says_the_note_is_internal(client):
    client.force_login(reviewer())
    page = client.get(reverse("review_flag", args=[flag_about(UserFactory()).pk])).content.decode()
    assert 'name="message_to_user"' in page
    assert "Internal note" in page
    assert 'value="closed"' not in page


@pytest.mark.django_db
def test_a_reviewer_cannot_choose_the_closed_with_the_account_decision():
    with pytest.raises(DomainError, match="Choose dismiss, warn or suspend."):
        services.flag_decide(
            flag=flag_about(UserFactory()), by=reviewer(), decision=FlagDecisionKind.CLOSED_WITH_ACCOUNT, note="x"
        )


# 14. One event, one flag per rule and person; a suspension closes the person's other open flags.


def client_ends_paying_nothing(contract, *, message: str, note: str = ""):
    milestones = list(contract.milestones.all())
    services.contract_end(
        contract=contract,
        by=contract.client,
        reason="other",
        note=note,
        milestone_decisions={m.pk: MilestoneDecision(MilestoneChoice.PAY_NOTHING) for m in milestones},
        message_to_freelancer=message,
    )


@pytest.mark.django_db
def test_one_message_in_two_refund_requests_raises_one_flag():
    contract = FixedContractFactory()
    funded(contract)
    funded(contract)

    client_ends_paying_nothing(contract, message="I'll pay you via PayPal instead, send me your address")

    assert contract.refund_requests.count() == 2
    (flag,) = Flag.objects.filter(rule=FlagRule.OFF_PLATFORM_CONTACT)
    assert (flag.subject, flag.evidence["source"]) == (contract.client, "A refund request message")
    assert "also_written" not in flag.evidence


@pytest.mark.django_db
def test_an_end_note_and_a_refund_request_message_of_one_end_raise_one_flag_holding_both_texts(client):
    contract = FixedContractFactory()
    funded(contract)

    client_ends_paying_nothing(contract, note="Moving this to WhatsApp", message="Paying you by bank transfer")

    (flag,) = Flag.objects.filter(rule=FlagRule.OFF_PLATFORM_CONTACT)
    assert flag.evidence["text"] == "Paying you by bank transfer"
    assert flag.evidence["also_written"] == [
        {
            "source": "The reason given for ending",
            "text": "Moving this to WhatsApp",
            "matches": [{"kind": "messaging app", "text": "WhatsApp"}],
        }
    ]
    client.force_login(reviewer())
    page = client.get(reverse("review_flag", args=[flag.pk])).content.decode()
    assert "Also written in the same event" in page
    assert "Moving this to <mark>WhatsApp</mark>" in page


@pytest.mark.django_db
def test_texts_of_different_events_still_raise_one_flag_each():
    contract = HourlyContractFactory()
    services.contract_propose_end(contract=contract, by=contract.client, note="Reach me at boss@example.com")
    services.contract_end(contract=contract, by=contract.client, reason="other", note="on WhatsApp now")
    assert Flag.objects.filter(rule=FlagRule.OFF_PLATFORM_CONTACT, subject=contract.client).count() == 2


@pytest.mark.django_db
def test_suspending_closes_the_users_other_open_flags_with_a_decision_that_says_so_and_leaves_decided_ones():
    gary, other = UserFactory(), UserFactory()
    admin = reviewer()
    decided_on = flag_about(gary, rule=FlagRule.QUICK_REFUND)
    still_open = flag_about(gary, rule=FlagRule.OFF_PLATFORM_CONTACT)
    dismissed = flag_about(gary)
    services.flag_decide(flag=dismissed, by=admin, decision=FlagDecisionKind.DISMISS, note="Fine.")
    someone_elses = flag_about(other)

    with time_machine.travel(NOW, tick=False):
        services.flag_decide(flag=decided_on, by=admin, decision=FlagDecisionKind.SUSPEND, note="Confirmed.")

    assert status_of(decided_on) == "suspended"
    assert status_of(still_open) == "closed"
    (closing,) = FlagDecision.objects.filter(flag=still_open)
    assert closing.decided_by == admin
    assert closing.note == (
        "Closed without review: the account was suspended on 2026-03-04 "
        "(Most of a payment refunded soon after it was made)."
    )
    assert status_of(dismissed) == "dismissed"
    assert status_of(someone_elses) == "open"
    assert flags_with_status().filter(subject=gary, status="open").count() == 0


@pytest.mark.django_db
def test_the_queue_lists_flags_closed_with_the_account_under_their_own_status(client):
    gary = UserFactory()
    admin = reviewer()
    services.flag_decide(flag=flag_about(gary), by=admin, decision=FlagDecisionKind.SUSPEND, note="Confirmed.")
    other = flag_about(gary, rule=FlagRule.QUICK_REFUND, key="later")
    # Raised after the suspension (a sweep finishing late): open until someone decides it.
    assert status_of(other) == "open"
    closed = flag_about(UserFactory())
    services.account_suspend(user=closed.subject, by=admin, rule="Rule", explanation="Explained.")
    client.force_login(admin)
    page = client.get(reverse("review_queue"), {"status": "closed"}).content.decode()
    assert f"/review/flags/{closed.pk}/" in page
    assert f"/review/flags/{other.pk}/" not in page

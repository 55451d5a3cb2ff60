"""Reviewers' decisions, at the service level (contracts/services/review.py): on flags
(dismiss, warn, suspend: the account closed and its open contracts force-ended, hourly
time billed and escrow returned), who may decide, decisions being append-only, and
the split of a disputed refund request, moved through the ledger once.

Fees: 10% freelancer service fee on each payment, 5% client marketplace fee on each
charge (contracts_portal/settings/policy.py)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction

from billing.models import Invoice, LedgerEntry, LedgerTransaction, Payment
from billing.selectors import balance_of, escrow_held_cents
from contracts import services
from contracts.models import (
    AccountSuspension,
    Contract,
    ContractState,
    EndKind,
    EscrowRefundRequest,
    Flag,
    FlagDecision,
    FlagDecisionKind,
    FlagRule,
    MilestoneState,
    Notification,
    NotificationKind,
    RefundRequestState,
    StateChange,
    rule_public_explanation,
)
from contracts.models.flags import REVIEWER_DECISIONS
from contracts.services import MilestoneChoice, MilestoneDecision
from contracts_portal.errors import DomainError
from tests.factories import (
    PASSWORD,
    DiaryEntryFactory,
    FixedContractFactory,
    HourlyContractFactory,
    UserFactory,
)
from tests.fixtures.contracts import fresh, funded
from tests.fixtures.flags import flag_about, status_of
from tests.fixtures.money import assert_ledger_balanced, balances
from tests.fixtures.people import force_end_admin, reviewer, with_permission

NOW = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)  # a Wednesday


# Helpers.


def decide(flag, by, decision, note="Looked at the evidence."):
    return services.flag_decide(flag=flag, by=by, decision=decision, note=note)


def ledger_rows() -> tuple[int, int, int]:
    return LedgerTransaction.objects.count(), LedgerEntry.objects.count(), Payment.objects.count()


# Dismiss and warn.


@pytest.mark.django_db
def test_dismissing_records_who_when_and_the_note_and_changes_nothing_else():
    subject, admin = UserFactory(), reviewer()
    flag = flag_about(subject)

    with time_machine.travel(NOW, tick=False):
        made = decide(flag, admin, FlagDecisionKind.DISMISS, note="  A WhatsApp bot is the job itself.  ")

    made = fresh(made)
    assert (made.flag, made.decision, made.decided_by) == (flag, FlagDecisionKind.DISMISS, admin)
    assert made.created_at == NOW
    assert made.note == "A WhatsApp bot is the job itself."
    assert status_of(flag) == "dismissed"
    assert fresh(subject).is_active
    assert not AccountSuspension.objects.exists()
    assert not Notification.objects.filter(user=subject).exists()


@pytest.mark.django_db
def test_warning_notifies_the_subject_of_the_rule_its_explanation_and_the_message_never_the_internal_note():
    contract = HourlyContractFactory()
    subject, admin = contract.freelancer, reviewer()
    flag = flag_about(subject, rule=FlagRule.OFF_PLATFORM_CONTACT, contract=contract)

    services.flag_decide(
        flag=flag,
        by=admin,
        decision=FlagDecisionKind.WARN,
        note="Third time this month; watch closely.",
        message_to_user="Keep payments in the portal.",
    )

    (notification,) = Notification.objects.filter(user=subject)
    assert notification.kind == NotificationKind.CONTRACT
    assert notification.contract == contract
    assert FlagRule.OFF_PLATFORM_CONTACT.label in notification.message
    assert rule_public_explanation(FlagRule.OFF_PLATFORM_CONTACT) in notification.message
    assert "Message from the platform: Keep payments in the portal." in notification.message
    assert "Third time" not in notification.message
    assert status_of(flag) == "warned"
    assert fresh(subject).is_active
    assert not Notification.objects.exclude(user=subject).exists()


@pytest.mark.django_db
def test_a_flag_with_no_decision_is_open():
    flag = flag_about(UserFactory())
    assert status_of(flag) == "open"


# Suspend.


@pytest.mark.django_db
def test_suspending_closes_the_account_and_force_ends_every_open_contract(client):
    bob, carol, dave = UserFactory(), UserFactory(), UserFactory()
    subject, admin = UserFactory(username="gary"), reviewer()
    assert client.login(username="gary", password=PASSWORD)
    client.logout()
    with time_machine.travel(NOW - timedelta(days=20), tick=False):
        earlier = HourlyContractFactory(client=dave, freelancer=subject)
        services.contract_end(contract=earlier, by=dave, reason="completed")
    earlier = fresh(earlier)
    earlier_changes = StateChange.objects.filter(contract=earlier).count()
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        hourly = HourlyContractFactory(client=bob, freelancer=subject)  # $50.00 an hour
        DiaryEntryFactory(contract=hourly, minutes=120)
        fixed = FixedContractFactory(client=carol, freelancer=subject)
        milestone = funded(fixed)
        as_client = HourlyContractFactory(client=subject, freelancer=bob)
        noticed = HourlyContractFactory(client=dave, freelancer=subject, notice_days=7)
        services.contract_give_notice(contract=noticed, by=subject, reason="completed")
    assert fresh(noticed).state == ContractState.ENDING
    flag = flag_about(subject, contract=fixed)
    flags_before = Flag.objects.count()

    with time_machine.travel(NOW, tick=False):
        decide(flag, admin, FlagDecisionKind.SUSPEND, note="Moved three clients off the platform.")

    suspension = AccountSuspension.objects.get(user=subject)
    assert suspension.rule == FlagRule.QUICK_END.label
    assert suspension.explanation == rule_public_explanation(FlagRule.QUICK_END)
    assert suspension.internal_note == "Moved three clients off the platform."
    assert (suspension.created_by, suspension.created_at) == (admin, NOW)
    assert fresh(subject).is_active is False
    assert client.login(username="gary", password=PASSWORD) is False
    assert status_of(flag) == "suspended"

    for contract in (hourly, fixed, as_client, noticed):
        contract = fresh(contract)
        assert contract.state == ContractState.ENDED
        assert (contract.end_kind, contract.ended_by, contract.ended_at) == (EndKind.FORCED, admin, NOW)
        assert contract.end_reason_note == f"Account closed: {FlagRule.QUICK_END.label}"

    invoice = Invoice.objects.get(contract=hourly)
    assert (invoice.minutes, invoice.amount_cents) == (120, 100_00)
    assert balances(hourly) == {"client": -105_00, "escrow": 0, "earnings": 90_00, "fees": 15_00}

    assert fresh(milestone).state == MilestoneState.REFUNDED
    assert escrow_held_cents(milestone) == 0
    assert balance_of(f"client-funds:{carol.pk}") == 0  # $100 + the $5 fee, charged and given back

    assert not Invoice.objects.filter(contract__in=(as_client, noticed)).exists()

    assert fresh(earlier).ended_at == earlier.ended_at
    assert (fresh(earlier).end_kind, fresh(earlier).ended_by) == (EndKind.PARTY, dave)
    assert StateChange.objects.filter(contract=earlier).count() == earlier_changes

    assert Flag.objects.count() == flags_before  # forced ends are not quick ends
    assert_ledger_balanced()


@pytest.mark.django_db
@pytest.mark.parametrize("rule", FlagRule.values)
def test_suspending_on_any_rule_raises_no_flag_about_the_reviewer_or_anyone(rule):
    contract = FixedContractFactory(started_at=NOW - timedelta(days=2))
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        funded(contract)
    admin = reviewer()
    flag = flag_about(contract.freelancer, rule=rule, contract=contract)

    with time_machine.travel(NOW, tick=False):
        decide(flag, admin, FlagDecisionKind.SUSPEND)

    assert fresh(contract).state == ContractState.ENDED
    raised = [(each.rule, each.subject, each.explanation) for each in Flag.objects.order_by("pk")]
    assert raised == [(flag.rule, flag.subject, flag.explanation)]


@pytest.mark.django_db
def test_suspending_an_already_suspended_user_is_refused_and_records_nothing():
    subject, admin = UserFactory(), reviewer()
    first, second = flag_about(subject), flag_about(subject, rule=FlagRule.QUICK_REFUND)
    decide(first, admin, FlagDecisionKind.SUSPEND)

    assert [d.decision for d in FlagDecision.objects.filter(flag=second)] == [FlagDecisionKind.CLOSED_WITH_ACCOUNT]
    with pytest.raises(DomainError, match="This account is already closed."):
        decide(second, admin, FlagDecisionKind.SUSPEND)

    assert FlagDecision.objects.filter(flag=second).count() == 1
    assert AccountSuspension.objects.filter(user=subject).count() == 1
    with pytest.raises(DomainError, match="This account is already closed."):
        services.account_suspend(user=subject, by=admin, rule="Again", explanation="Again")


@pytest.mark.django_db
def test_a_failed_suspension_leaves_the_account_and_its_contracts_as_they_were():
    subject, admin = UserFactory(), reviewer()
    contract = HourlyContractFactory(freelancer=subject)
    AccountSuspension.objects.create(user=subject, rule="Earlier", explanation="Closed before", created_by=admin)

    with pytest.raises(DomainError):
        decide(flag_about(subject), admin, FlagDecisionKind.SUSPEND)

    assert fresh(contract).state == ContractState.ACTIVE


# Decisions are append-only.


@pytest.mark.django_db
def test_a_decision_cannot_be_edited_or_deleted():
    admin = reviewer()
    made = decide(flag_about(UserFactory()), admin, FlagDecisionKind.DISMISS)

    made.note = "Changed my mind"
    with pytest.raises(DomainError, match="cannot be changed"):
        made.save()
    with pytest.raises(DomainError, match="cannot be deleted"):
        made.delete()
    with pytest.raises(DomainError, match="cannot be changed"):
        FlagDecision.objects.filter(pk=made.pk).update(note="Changed")
    with pytest.raises(DomainError, match="cannot be deleted"):
        FlagDecision.objects.filter(pk=made.pk).delete()
    assert fresh(made).note == "Looked at the evidence."


@pytest.mark.django_db
@pytest.mark.postgres
def test_the_database_refuses_to_change_or_delete_a_decision(on_postgres):
    made = decide(flag_about(UserFactory()), reviewer(), FlagDecisionKind.DISMISS)
    for sql in (
        "UPDATE contracts_flagdecision SET note = 'changed' WHERE id = %s",
        "DELETE FROM contracts_flagdecision WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [made.pk])
    assert fresh(made).note == "Looked at the evidence."


@pytest.mark.django_db
def test_a_second_decision_is_a_new_row_and_the_latest_is_the_status():
    subject, first_admin, second_admin = UserFactory(), reviewer(), reviewer()
    flag = flag_about(subject)
    with time_machine.travel(NOW, tick=False):
        first = decide(flag, first_admin, FlagDecisionKind.DISMISS, note="Looks fine")
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        second = decide(flag, second_admin, FlagDecisionKind.WARN, note="Second look: it is not")

    assert list(flag.decisions.all()) == [second, first]
    assert (fresh(first).decision, fresh(first).note) == (FlagDecisionKind.DISMISS, "Looks fine")
    assert status_of(flag) == "warned"


# Who may decide a flag, and how.


@pytest.mark.django_db
def test_a_reviewer_cannot_decide_a_flag_about_themselves():
    admin = reviewer()
    flag = flag_about(admin)
    for decision in REVIEWER_DECISIONS:
        with pytest.raises(DomainError, match="You cannot review a flag about yourself"):
            decide(flag, admin, decision)
    assert not FlagDecision.objects.exists()
    assert fresh(admin).is_active


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who",
    [
        UserFactory,
        lambda: UserFactory(is_staff=True),
        force_end_admin,
        lambda: reviewer(is_active=False),
    ],
    ids=["user", "staff", "staff-with-force-end", "inactive-reviewer"],
)
def test_only_an_active_reviewer_can_decide_a_flag(who):
    subject = UserFactory()
    flag = flag_about(subject)
    for decision in FlagDecisionKind.values:
        with pytest.raises(DomainError, match="Only reviewers can decide this."):
            decide(flag, who(), decision)
    assert not FlagDecision.objects.exists()
    assert fresh(subject).is_active
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_a_superuser_is_a_reviewer():
    admin = UserFactory(is_staff=True, is_superuser=True)
    assert services.is_reviewer(admin)
    decide(flag_about(UserFactory()), admin, FlagDecisionKind.DISMISS)


@pytest.mark.django_db
@pytest.mark.parametrize("note", ["", "   \n"])
def test_a_decision_needs_a_note(note):
    flag = flag_about(UserFactory())
    with pytest.raises(DomainError, match="Write a note"):
        decide(flag, reviewer(), FlagDecisionKind.SUSPEND, note=note)
    assert not FlagDecision.objects.exists()
    assert not AccountSuspension.objects.exists()


@pytest.mark.django_db
def test_an_unknown_decision_is_refused():
    with pytest.raises(DomainError, match="Choose dismiss, warn or suspend."):
        decide(flag_about(UserFactory()), reviewer(), "ban")
    assert not FlagDecision.objects.exists()


# Disputed refund requests: the reviewer's split.


def disputed(amount_cents: int = 100_00):
    """A $100 milestone, funded; the client ends paying nothing; the freelancer disputes."""
    contract = FixedContractFactory()
    milestone = funded(contract, amount_cents)
    with time_machine.travel(NOW, tick=False):
        services.contract_end(
            contract=contract,
            by=contract.client,
            reason="unsuccessful",
            milestone_decisions={milestone.pk: MilestoneDecision(MilestoneChoice.PAY_NOTHING)},
            message_to_freelancer="Not what we asked for",
        )
    request = EscrowRefundRequest.objects.get(milestone=milestone)
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        services.refund_request_dispute(request=request, by=contract.freelancer, statement="Delivered as agreed")
    return fresh(contract), fresh(milestone), fresh(request)


def resolve(request, by, freelancer_cents, note="Half the screens were delivered."):
    with time_machine.travel(NOW + timedelta(days=3), tick=False):
        return services.refund_request_resolve(request=request, by=by, freelancer_cents=freelancer_cents, note=note)


@pytest.mark.django_db
def test_a_70_30_split_pays_the_freelancer_70_and_returns_30_and_its_fee_to_the_client():
    contract, milestone, request = disputed()
    admin = reviewer()
    assert balances(contract) == {"client": -105_00, "escrow": 100_00, "earnings": 0, "fees": 5_00}

    resolve(request, admin, 70_00)

    request = fresh(request)
    assert request.state == RefundRequestState.RESOLVED
    assert (request.resolved_by, request.freelancer_share_cents) == (admin, 70_00)
    assert request.resolution_note == "Half the screens were delivered."
    payment = Payment.objects.get(contract=contract)
    assert (payment.amount_cents, payment.freelancer_fee_cents, payment.client_fee_cents) == (70_00, 7_00, 3_50)
    assert fresh(milestone).state == MilestoneState.REFUNDED
    assert escrow_held_cents(milestone) == 0
    # The client paid $70 plus the $3.50 fee on it; $30 and its $1.50 fee came back.
    assert balances(contract) == {"client": -73_50, "escrow": 0, "earnings": 63_00, "fees": 10_50}
    for user in (contract.client, contract.freelancer):
        (notification,) = Notification.objects.filter(
            user=user, kind=NotificationKind.REFUND_REQUEST, message__contains="is decided"
        )
        assert "$70.00 to the freelancer, $30.00 back to the client" in notification.message
    assert_ledger_balanced()


@pytest.mark.django_db
def test_a_dispute_is_decided_once_a_second_decision_is_refused_and_moves_nothing():
    contract, milestone, request = disputed()
    admin = reviewer()
    resolve(request, admin, 70_00)
    before = (ledger_rows(), balances(contract))

    for share in (70_00, 0, 100_00):
        with pytest.raises(DomainError):
            resolve(request, admin, share)

    assert (ledger_rows(), balances(contract)) == before
    assert fresh(request).freelancer_share_cents == 70_00
    assert_ledger_balanced()


@pytest.mark.django_db
def test_a_dispute_decided_all_to_the_client_refunds_the_milestone():
    contract, milestone, request = disputed()
    resolve(request, reviewer(), 0)
    assert fresh(milestone).state == MilestoneState.REFUNDED
    assert not Payment.objects.exists()
    assert balances(contract) == {"client": 0, "escrow": 0, "earnings": 0, "fees": 0}
    assert_ledger_balanced()


@pytest.mark.django_db
def test_a_dispute_decided_all_to_the_freelancer_releases_the_milestone():
    contract, milestone, request = disputed()
    resolve(request, reviewer(), 100_00)
    assert fresh(milestone).state == MilestoneState.RELEASED
    assert Payment.objects.get(contract=contract).amount_cents == 100_00
    assert balances(contract) == {"client": -105_00, "escrow": 0, "earnings": 90_00, "fees": 15_00}
    assert_ledger_balanced()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who",
    [UserFactory, lambda: UserFactory(is_staff=True), force_end_admin],
    ids=["user", "staff", "staff-with-force-end"],
)
def test_only_a_reviewer_can_decide_a_dispute(who):
    contract, milestone, request = disputed()
    before = (ledger_rows(), balances(contract))
    with pytest.raises(DomainError, match="Only reviewers can decide this."):
        resolve(request, who(), 50_00)
    assert fresh(request).state == RefundRequestState.DISPUTED
    assert (ledger_rows(), balances(contract)) == before


@pytest.mark.django_db
@pytest.mark.parametrize("party", ["client", "freelancer"])
def test_a_reviewer_who_is_a_party_of_the_contract_cannot_decide_its_dispute(party):
    contract, milestone, request = disputed()
    with_permission(getattr(contract, party), "review_flags")
    party_reviewer = type(contract.client).objects.get(pk=getattr(contract, f"{party}_id"))
    before = (ledger_rows(), balances(contract))

    with pytest.raises(DomainError, match="You cannot decide a dispute on your own contract."):
        resolve(request, party_reviewer, 100_00 if party == "freelancer" else 0)

    assert fresh(request).state == RefundRequestState.DISPUTED
    assert (ledger_rows(), balances(contract)) == before


@pytest.mark.django_db
def test_a_freelancer_share_above_the_requested_amount_is_refused():
    contract, milestone, request = disputed()
    before = (ledger_rows(), balances(contract))
    for share in (100_01, -1):
        with pytest.raises(DomainError, match=r"between \$0.00 and \$100.00"):
            resolve(request, reviewer(), share)
    assert fresh(request).state == RefundRequestState.DISPUTED
    assert (ledger_rows(), balances(contract)) == before


@pytest.mark.django_db
def test_a_dispute_decision_needs_a_note():
    contract, milestone, request = disputed()
    with pytest.raises(DomainError, match="Write a note"):
        resolve(request, reviewer(), 50_00, note="  ")
    assert fresh(request).state == RefundRequestState.DISPUTED


@pytest.mark.django_db
def test_an_open_refund_request_cannot_be_decided_before_the_freelancer_disputes_it():
    contract = FixedContractFactory()
    milestone = funded(contract)
    services.contract_end(
        contract=contract,
        by=contract.client,
        reason="other",
        milestone_decisions={milestone.pk: MilestoneDecision(MilestoneChoice.PAY_NOTHING)},
    )
    request = EscrowRefundRequest.objects.get(milestone=milestone)
    before = (ledger_rows(), balances(contract))
    with pytest.raises(DomainError):
        services.refund_request_resolve(request=request, by=reviewer(), freelancer_cents=50_00, note="Split")
    assert fresh(request).state == RefundRequestState.OPEN
    assert (ledger_rows(), balances(contract)) == before
    assert Contract.objects.get(pk=contract.pk).state == ContractState.ENDED

"""Escrow of fixed-price milestones (fund, submit, release), the $5 minimum, how a
contract end settles escrow (freelancer ends: everything back to the client; client
ends: a decision per funded milestone, unpaid parts become refund requests), refund
requests (approve, dispute, approved after 7 days of silence), the end preview, and
the final invoice of an hourly contract.

Fees: 10% freelancer service fee on each payment, 5% client marketplace fee on each
charge (contracts_portal/settings/policy.py)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.apps import apps
from django.db.models import Sum

from billing.models import (
    EscrowMovement,
    EscrowMovementKind,
    Invoice,
    LedgerTransaction,
    Payment,
    PaymentSource,
)
from billing.selectors import escrow_held_cents
from contracts import services
from contracts.models import (
    ContractKind,
    ContractState,
    DiaryEntry,
    EscrowRefundRequest,
    Milestone,
    MilestoneState,
    RefundRequestState,
)
from contracts.services import MilestoneChoice, MilestoneDecision
from contracts_portal.errors import DomainError
from tests.factories import (
    DiaryEntryFactory,
    FixedContractFactory,
    HourlyContractFactory,
    MilestoneFactory,
    UserFactory,
)
from tests.fixtures.contracts import fresh, funded
from tests.fixtures.money import assert_ledger_balanced, balances

NOW = datetime(2025, 6, 4, 9, 30, tzinfo=UTC)

FULL = MilestoneDecision(MilestoneChoice.PAY_IN_FULL)
NOTHING = MilestoneDecision(MilestoneChoice.PAY_NOTHING)


def part(cents: int) -> MilestoneDecision:
    return MilestoneDecision(MilestoneChoice.PAY_PART, pay_cents=cents)


# Helpers.


def row_counts() -> dict[str, int]:
    """Rows of every table of the project: a preview must not change any of them."""
    return {model._meta.label: model._base_manager.count() for model in apps.get_models()}


def snapshot(contract) -> dict:
    return {
        "rows": row_counts(),
        "contract": fresh(contract).state,
        "milestones": list(contract.milestones.order_by("pk").values_list("pk", "state")),
        "balances": balances(contract),
    }


def end(contract, by, decisions=None, **kwargs):
    return services.contract_end(contract=contract, by=by, reason="completed", milestone_decisions=decisions, **kwargs)


# Funding, submitting, releasing.


@pytest.mark.django_db
def test_client_funding_is_charged_the_amount_plus_5_percent_and_escrow_holds_the_amount():
    contract = FixedContractFactory()
    milestone = MilestoneFactory(contract=contract, amount_cents=100_00)

    with time_machine.travel(NOW, tick=False):
        services.milestone_fund(milestone=milestone, by=contract.client)

    milestone = fresh(milestone)
    assert milestone.state == MilestoneState.FUNDED
    assert milestone.funded_at == NOW
    assert escrow_held_cents(milestone) == 10000
    movement = EscrowMovement.objects.get(milestone=milestone)
    assert (movement.kind, movement.amount_cents, movement.client_fee_cents) == (EscrowMovementKind.FUND, 10000, 500)
    assert balances(contract) == {"client": -10500, "escrow": 10000, "earnings": 0, "fees": 500}
    assert_ledger_balanced()


@pytest.mark.django_db
def test_funding_an_odd_amount_rounds_the_marketplace_fee_half_up():
    contract = FixedContractFactory()
    funded(contract, 33_33)  # 5% of $33.33 = 166.65 cents → 167
    assert balances(contract) == {"client": -3500, "escrow": 3333, "earnings": 0, "fees": 167}
    assert_ledger_balanced()


@pytest.mark.django_db
def test_only_the_client_can_fund_a_milestone():
    contract = FixedContractFactory()
    milestone = MilestoneFactory(contract=contract, amount_cents=100_00)
    for who in (contract.freelancer, UserFactory()):
        with pytest.raises(DomainError, match="Only the client of this contract can do this."):
            services.milestone_fund(milestone=milestone, by=who)
    assert fresh(milestone).state == MilestoneState.PENDING
    assert LedgerTransaction.objects.count() == 0
    assert EscrowMovement.objects.count() == 0


@pytest.mark.django_db
def test_a_funded_milestone_cannot_be_funded_twice():
    contract = FixedContractFactory()
    milestone = funded(contract, 100_00)
    with pytest.raises(DomainError):
        services.milestone_fund(milestone=milestone, by=contract.client)
    assert balances(contract) == {"client": -10500, "escrow": 10000, "earnings": 0, "fees": 500}
    assert EscrowMovement.objects.filter(milestone=milestone).count() == 1


@pytest.mark.django_db
def test_only_the_freelancer_can_submit_work_on_a_funded_milestone():
    contract = FixedContractFactory()
    milestone = funded(contract, 100_00)
    with pytest.raises(DomainError, match="Only the freelancer of this contract can do this."):
        services.milestone_submit(milestone=milestone, by=contract.client, note="Done")
    assert fresh(milestone).state == MilestoneState.FUNDED

    with time_machine.travel(NOW, tick=False):
        services.milestone_submit(milestone=milestone, by=contract.freelancer, note="Logo in three sizes")

    milestone = fresh(milestone)
    assert milestone.state == MilestoneState.SUBMITTED
    assert milestone.submitted_at == NOW
    assert milestone.submission_note == "Logo in three sizes"
    assert escrow_held_cents(milestone) == 10000  # submitting moves no money
    assert balances(contract) == {"client": -10500, "escrow": 10000, "earnings": 0, "fees": 500}


@pytest.mark.django_db
def test_work_cannot_be_submitted_on_an_unfunded_milestone():
    contract = FixedContractFactory()
    milestone = MilestoneFactory(contract=contract, amount_cents=100_00)
    with pytest.raises(DomainError):
        services.milestone_submit(milestone=milestone, by=contract.freelancer)
    assert fresh(milestone).state == MilestoneState.PENDING


@pytest.mark.django_db
@pytest.mark.parametrize("submitted", [False, True])
def test_client_release_pays_the_freelancer_less_the_10_percent_service_fee(submitted):
    contract = FixedContractFactory()
    milestone = funded(contract, 100_00, submitted=submitted)

    payment = services.milestone_release(milestone=milestone, by=contract.client)

    assert fresh(milestone).state == MilestoneState.RELEASED
    assert (payment.amount_cents, payment.freelancer_fee_cents, payment.client_fee_cents) == (10000, 1000, 500)
    assert payment.net_to_freelancer_cents == 9000
    assert payment.source == PaymentSource.MILESTONE_RELEASE
    assert (payment.client_id, payment.freelancer_id, payment.milestone_id) == (
        contract.client_id,
        contract.freelancer_id,
        milestone.pk,
    )
    assert escrow_held_cents(milestone) == 0
    assert balances(contract) == {"client": -10500, "escrow": 0, "earnings": 9000, "fees": 1500}
    assert_ledger_balanced()


@pytest.mark.django_db
def test_only_the_client_can_release_a_milestone():
    contract = FixedContractFactory()
    milestone = funded(contract, 100_00, submitted=True)
    with pytest.raises(DomainError, match="Only the client of this contract can do this."):
        services.milestone_release(milestone=milestone, by=contract.freelancer)
    assert fresh(milestone).state == MilestoneState.SUBMITTED
    assert Payment.objects.count() == 0
    assert balances(contract) == {"client": -10500, "escrow": 10000, "earnings": 0, "fees": 500}


@pytest.mark.django_db
def test_unfunded_milestone_cannot_be_released():
    contract = FixedContractFactory()
    milestone = MilestoneFactory(contract=contract, amount_cents=100_00)
    with pytest.raises(DomainError):
        services.milestone_release(milestone=milestone, by=contract.client)
    assert Payment.objects.count() == 0
    assert LedgerTransaction.objects.count() == 0


# The $5 minimum.


@pytest.mark.django_db
def test_contract_create_refuses_a_milestone_of_4_dollars_99():
    client, freelancer = UserFactory(), UserFactory()
    with pytest.raises(DomainError) as refused:
        services.contract_create(
            client=client,
            freelancer=freelancer,
            kind=ContractKind.FIXED,
            title="Logo",
            milestones=[("Sketches", 10_00), ("Final", 4_99)],
        )
    assert str(refused.value) == "A milestone must be at least $5.00."
    assert Milestone.objects.count() == 0
    assert not client.contracts_as_client.exists()


@pytest.mark.django_db
def test_contract_create_accepts_a_milestone_of_exactly_5_dollars():
    contract = services.contract_create(
        client=UserFactory(),
        freelancer=UserFactory(),
        kind=ContractKind.FIXED,
        title="Logo",
        milestones=[("Final", 5_00)],
    )
    assert list(contract.milestones.values_list("amount_cents", "state")) == [(500, MilestoneState.PENDING)]


@pytest.mark.django_db
def test_milestone_add_refuses_4_dollars_99_and_accepts_5_dollars():
    contract = FixedContractFactory()
    with pytest.raises(DomainError, match=r"A milestone must be at least \$5\.00\."):
        services.milestone_add(contract=contract, by=contract.client, title="Tiny", amount_cents=4_99)
    assert contract.milestones.count() == 0

    added = services.milestone_add(contract=contract, by=contract.client, title="Small", amount_cents=5_00)
    assert added.amount_cents == 500
    services.milestone_fund(milestone=added, by=contract.client)
    assert balances(contract) == {"client": -525, "escrow": 500, "earnings": 0, "fees": 25}


# The freelancer ends a fixed-price contract.


@pytest.mark.django_db
def test_freelancer_end_returns_all_unreleased_escrow_and_its_fee_and_cancels_unfunded_milestones():
    contract = FixedContractFactory()
    paid = funded(contract, 100_00)
    services.milestone_release(milestone=paid, by=contract.client)
    held = funded(contract, 200_00)
    submitted = funded(contract, 50_00, submitted=True)
    unfunded = MilestoneFactory(contract=contract, amount_cents=80_00)
    assert balances(contract) == {"client": -36750, "escrow": 25000, "earnings": 9000, "fees": 2750}

    plan = end(contract, contract.freelancer)

    assert fresh(contract).state == ContractState.ENDED
    assert plan.escrow_returned_cents == 25000
    assert plan.escrow_released_cents == 0
    assert plan.refund_requested_cents == 0
    assert fresh(paid).state == MilestoneState.RELEASED
    assert fresh(held).state == MilestoneState.REFUNDED
    assert fresh(submitted).state == MilestoneState.REFUNDED
    assert fresh(unfunded).state == MilestoneState.CANCELLED
    assert escrow_held_cents(held) == 0
    assert escrow_held_cents(submitted) == 0
    returns = EscrowMovement.objects.filter(kind=EscrowMovementKind.RETURN).order_by("milestone_id")
    assert list(returns.values_list("milestone_id", "amount_cents", "client_fee_cents")) == [
        (held.pk, 20000, 1000),
        (submitted.pk, 5000, 250),
    ]
    # Only the released milestone is paid for: $100 + $5 fee charged, $90 earned, $15 fees.
    assert balances(contract) == {"client": -10500, "escrow": 0, "earnings": 9000, "fees": 1500}
    assert EscrowRefundRequest.objects.count() == 0
    assert Payment.objects.count() == 1
    assert_ledger_balanced()


@pytest.mark.django_db
def test_freelancer_end_needs_no_milestone_decisions():
    contract = FixedContractFactory()
    milestone = funded(contract, 100_00)
    end(contract, contract.freelancer, decisions={milestone.pk: FULL})
    # A freelancer cannot pay themself: the escrow still goes back to the client.
    assert fresh(milestone).state == MilestoneState.REFUNDED
    assert Payment.objects.count() == 0
    assert balances(contract) == {"client": 0, "escrow": 0, "earnings": 0, "fees": 0}
    assert_ledger_balanced()


# The client ends a fixed-price contract.


@pytest.mark.django_db
def test_client_end_without_a_decision_for_every_funded_milestone_is_refused_and_changes_nothing():
    contract = FixedContractFactory()
    first = funded(contract, 100_00)
    second = funded(contract, 200_00, submitted=True)
    MilestoneFactory(contract=contract, amount_cents=80_00)
    before = snapshot(contract)

    with pytest.raises(DomainError) as refused:
        end(contract, contract.client, decisions={first.pk: FULL})
    assert second.title in str(refused.value)
    assert "$200.00" in str(refused.value)

    with pytest.raises(DomainError):
        end(contract, contract.client)

    assert snapshot(contract) == before
    assert before["contract"] == ContractState.ACTIVE
    assert before["balances"] == {"client": -31500, "escrow": 30000, "earnings": 0, "fees": 1500}


@pytest.mark.django_db
def test_client_end_pay_in_full_pays_the_freelancer_the_whole_escrow():
    contract = FixedContractFactory()
    milestone = funded(contract, 100_00, submitted=True)

    plan = end(contract, contract.client, decisions={milestone.pk: FULL})

    assert fresh(contract).state == ContractState.ENDED
    assert plan.escrow_released_cents == 10000
    assert fresh(milestone).state == MilestoneState.RELEASED
    payment = Payment.objects.get(milestone=milestone)
    assert (payment.amount_cents, payment.freelancer_fee_cents, payment.client_fee_cents) == (10000, 1000, 500)
    assert EscrowRefundRequest.objects.count() == 0
    assert balances(contract) == {"client": -10500, "escrow": 0, "earnings": 9000, "fees": 1500}
    assert_ledger_balanced()


@pytest.mark.django_db
def test_client_end_pay_part_pays_the_part_and_requests_a_refund_of_the_rest():
    contract = FixedContractFactory()
    milestone = funded(contract, 100_00)

    with time_machine.travel(NOW, tick=False):
        plan = end(
            contract,
            contract.client,
            decisions={milestone.pk: part(30_00)},
            note="Private: never again",
            message_to_freelancer="Only the sketches",
        )

    assert (plan.escrow_released_cents, plan.refund_requested_cents, plan.escrow_returned_cents) == (3000, 7000, 0)
    payment = Payment.objects.get(milestone=milestone)
    assert (payment.amount_cents, payment.freelancer_fee_cents, payment.client_fee_cents) == (3000, 300, 150)
    request = EscrowRefundRequest.objects.get(milestone=milestone)
    assert request.amount_cents == 7000
    assert request.state == RefundRequestState.OPEN
    assert request.created_at == NOW
    assert request.respond_by == NOW + timedelta(days=7)
    assert request.client_statement == "Only the sketches"
    assert fresh(milestone).state == MilestoneState.REFUND_REQUESTED
    assert escrow_held_cents(milestone) == 7000
    assert balances(contract) == {"client": -10500, "escrow": 7000, "earnings": 2700, "fees": 800}
    assert_ledger_balanced()


@pytest.mark.django_db
def test_client_end_pay_nothing_requests_a_refund_of_the_whole_escrow():
    contract = FixedContractFactory()
    milestone = funded(contract, 100_00)

    plan = end(contract, contract.client, decisions={milestone.pk: NOTHING})

    assert (plan.escrow_released_cents, plan.refund_requested_cents) == (0, 10000)
    assert Payment.objects.count() == 0
    request = EscrowRefundRequest.objects.get(milestone=milestone)
    assert request.amount_cents == 10000
    assert fresh(milestone).state == MilestoneState.REFUND_REQUESTED
    # Nothing moves until the freelancer answers: the escrow is still held.
    assert balances(contract) == {"client": -10500, "escrow": 10000, "earnings": 0, "fees": 500}
    assert_ledger_balanced()


@pytest.mark.django_db
def test_client_end_settles_each_funded_milestone_by_its_own_decision():
    contract = FixedContractFactory()
    full = funded(contract, 100_00)
    partly = funded(contract, 200_00, submitted=True)
    nothing = funded(contract, 50_00)
    unfunded = MilestoneFactory(contract=contract, amount_cents=80_00)

    plan = end(contract, contract.client, decisions={full.pk: FULL, partly.pk: part(50_00), nothing.pk: NOTHING})

    assert (plan.escrow_released_cents, plan.refund_requested_cents) == (15000, 20000)
    assert fresh(full).state == MilestoneState.RELEASED
    assert fresh(partly).state == MilestoneState.REFUND_REQUESTED
    assert fresh(nothing).state == MilestoneState.REFUND_REQUESTED
    assert fresh(unfunded).state == MilestoneState.CANCELLED
    assert dict(EscrowRefundRequest.objects.values_list("milestone_id", "amount_cents")) == {
        partly.pk: 15000,
        nothing.pk: 5000,
    }
    # Charged 36750; released 15000 (fee 1500 taken); held 20000.
    assert balances(contract) == {"client": -36750, "escrow": 20000, "earnings": 13500, "fees": 3250}
    assert_ledger_balanced()


@pytest.mark.django_db
@pytest.mark.parametrize("pay_cents", [0, -1, 100_00, 100_01])
def test_client_end_pay_part_must_be_more_than_zero_and_less_than_what_is_held(pay_cents):
    contract = FixedContractFactory()
    milestone = funded(contract, 100_00)
    before = snapshot(contract)

    with pytest.raises(DomainError) as refused:
        end(contract, contract.client, decisions={milestone.pk: part(pay_cents)})

    assert "$100.00" in str(refused.value)
    assert snapshot(contract) == before
    assert before["balances"] == {"client": -10500, "escrow": 10000, "earnings": 0, "fees": 500}


@pytest.mark.django_db
def test_client_end_with_an_unknown_choice_is_refused_and_changes_nothing():
    contract = FixedContractFactory()
    milestone = funded(contract, 100_00)
    before = snapshot(contract)
    with pytest.raises(DomainError, match="Choose whether to pay in full, in part or nothing"):
        end(contract, contract.client, decisions={milestone.pk: MilestoneDecision("maybe", pay_cents=50_00)})
    assert snapshot(contract) == before


@pytest.mark.django_db
def test_funding_is_refused_once_the_contract_has_ended():
    contract = FixedContractFactory()
    milestone = MilestoneFactory(contract=contract, amount_cents=100_00)
    end(contract, contract.freelancer)
    assert fresh(milestone).state == MilestoneState.CANCELLED
    with pytest.raises(DomainError):
        services.milestone_fund(milestone=milestone, by=contract.client)
    assert LedgerTransaction.objects.count() == 0
    assert balances(contract) == {"client": 0, "escrow": 0, "earnings": 0, "fees": 0}


# Refund requests.


def _requested(pay_cents: int | None = None, *, at=NOW):
    contract = FixedContractFactory()
    milestone = funded(contract, 100_00)
    decision = NOTHING if pay_cents is None else part(pay_cents)
    with time_machine.travel(at, tick=False):
        end(contract, contract.client, decisions={milestone.pk: decision})
    return contract, milestone, EscrowRefundRequest.objects.get(milestone=milestone)


@pytest.mark.django_db
def test_freelancer_approving_a_refund_request_returns_the_escrow_and_its_fee_to_the_client():
    contract, milestone, request = _requested(30_00)

    with time_machine.travel(NOW + timedelta(days=2), tick=False):
        services.refund_request_approve(request=request, by=contract.freelancer)

    request = fresh(request)
    assert request.state == RefundRequestState.APPROVED
    assert request.answered_at == NOW + timedelta(days=2)
    assert request.auto_approved is False
    assert fresh(milestone).state == MilestoneState.REFUNDED
    assert escrow_held_cents(milestone) == 0
    returned = EscrowMovement.objects.get(milestone=milestone, kind=EscrowMovementKind.RETURN)
    assert (returned.amount_cents, returned.client_fee_cents) == (7000, 350)
    # The client paid $30 plus the $1.50 fee on it, and nothing else.
    assert balances(contract) == {"client": -3150, "escrow": 0, "earnings": 2700, "fees": 450}
    assert_ledger_balanced()


@pytest.mark.django_db
def test_only_the_freelancer_can_approve_a_refund_request():
    contract, milestone, request = _requested()
    for who in (contract.client, UserFactory()):
        with (
            time_machine.travel(NOW + timedelta(days=1), tick=False),
            pytest.raises(DomainError, match="Only the freelancer of this contract can answer a refund request."),
        ):
            services.refund_request_approve(request=request, by=who)
    assert fresh(request).state == RefundRequestState.OPEN
    assert balances(contract) == {"client": -10500, "escrow": 10000, "earnings": 0, "fees": 500}


@pytest.mark.django_db
def test_disputing_a_refund_request_keeps_the_escrow_held():
    contract, milestone, request = _requested(40_00)

    with time_machine.travel(NOW + timedelta(days=3), tick=False):
        services.refund_request_dispute(request=request, by=contract.freelancer, statement="  All work was delivered ")

    request = fresh(request)
    assert request.state == RefundRequestState.DISPUTED
    assert request.freelancer_statement == "All work was delivered"
    assert request.answered_at == NOW + timedelta(days=3)
    assert fresh(milestone).state == MilestoneState.REFUND_REQUESTED
    assert escrow_held_cents(milestone) == 6000
    assert balances(contract) == {"client": -10500, "escrow": 6000, "earnings": 3600, "fees": 900}
    assert_ledger_balanced()


@pytest.mark.django_db
@pytest.mark.parametrize("statement", ["", "   "])
def test_disputing_a_refund_request_needs_a_statement(statement):
    contract, milestone, request = _requested()
    with (
        time_machine.travel(NOW + timedelta(days=1), tick=False),
        pytest.raises(DomainError, match="Explain why you dispute the refund"),
    ):
        services.refund_request_dispute(request=request, by=contract.freelancer, statement=statement)
    assert fresh(request).state == RefundRequestState.OPEN
    assert escrow_held_cents(milestone) == 10000


@pytest.mark.django_db
def test_unanswered_refund_request_is_not_approved_before_7_days():
    contract, milestone, request = _requested()
    before = snapshot(contract)
    with (
        time_machine.travel(NOW + timedelta(days=7) - timedelta(seconds=1), tick=False),
        pytest.raises(DomainError, match="The freelancer still has until 2025-06-11 09:30 UTC"),
    ):
        services.refund_request_approve_unanswered(request_id=request.pk)
    assert snapshot(contract) == before
    assert fresh(request).state == RefundRequestState.OPEN


@pytest.mark.django_db
def test_unanswered_refund_request_is_approved_after_7_days():
    contract, milestone, request = _requested()
    at = NOW + timedelta(days=7)
    with time_machine.travel(at, tick=False):
        services.refund_request_approve_unanswered(request_id=request.pk)

    request = fresh(request)
    assert request.state == RefundRequestState.APPROVED
    assert request.auto_approved is True
    assert request.answered_at == at
    assert fresh(milestone).state == MilestoneState.REFUNDED
    assert balances(contract) == {"client": 0, "escrow": 0, "earnings": 0, "fees": 0}
    assert_ledger_balanced()


@pytest.mark.django_db
def test_freelancer_cannot_answer_a_refund_request_after_7_days():
    contract, milestone, request = _requested()
    with (
        time_machine.travel(NOW + timedelta(days=8), tick=False),
        pytest.raises(DomainError, match="The 7 days to answer this refund request are over"),
    ):
        services.refund_request_dispute(request=request, by=contract.freelancer, statement="Delivered")
        with pytest.raises(DomainError, match="The 7 days to answer this refund request are over"):
            services.refund_request_approve(request=request, by=contract.freelancer)
    assert fresh(request).state == RefundRequestState.OPEN
    assert escrow_held_cents(milestone) == 10000


# The end preview.


@pytest.mark.django_db
def test_client_end_preview_shows_what_contract_end_then_does_and_writes_nothing():
    contract = FixedContractFactory()
    full = funded(contract, 100_00)
    partly = funded(contract, 200_00)
    unfunded = MilestoneFactory(contract=contract, amount_cents=80_00)
    decisions = {full.pk: FULL, partly.pk: part(50_00)}
    before = snapshot(contract)

    preview = services.contract_end_preview(contract=fresh(contract), by=contract.client, decisions=decisions)

    assert snapshot(contract) == before
    assert not preview.needs_milestone_choices
    assert (preview.escrow_released_cents, preview.refund_requested_cents, preview.escrow_returned_cents) == (
        15000,
        15000,
        0,
    )
    assert [(o.milestone.pk, o.pay_cents, o.requested_cents) for o in preview.milestones] == [
        (full.pk, 10000, 0),
        (partly.pk, 5000, 15000),
    ]
    assert [m.pk for m in preview.cancelled_milestones] == [unfunded.pk]

    plan = end(contract, contract.client, decisions=decisions)

    assert (plan.escrow_released_cents, plan.refund_requested_cents, plan.escrow_returned_cents) == (
        preview.escrow_released_cents,
        preview.refund_requested_cents,
        preview.escrow_returned_cents,
    )
    assert Payment.objects.filter(contract=contract).aggregate(total=Sum("amount_cents"))["total"] == 15000
    assert EscrowRefundRequest.objects.filter(contract=contract).aggregate(total=Sum("amount_cents"))["total"] == 15000
    assert fresh(unfunded).state == MilestoneState.CANCELLED
    assert_ledger_balanced()


@pytest.mark.django_db
def test_client_end_preview_without_decisions_asks_for_them_and_writes_nothing():
    contract = FixedContractFactory()
    milestone = funded(contract, 100_00)
    before = snapshot(contract)

    preview = services.contract_end_preview(contract=contract, by=contract.client)

    assert preview.needs_milestone_choices
    assert [(o.milestone.pk, o.held_cents) for o in preview.milestones] == [(milestone.pk, 10000)]
    assert snapshot(contract) == before


@pytest.mark.django_db
def test_freelancer_end_preview_shows_the_escrow_to_return_and_writes_nothing():
    contract = FixedContractFactory()
    funded(contract, 100_00)
    funded(contract, 40_00, submitted=True)
    before = snapshot(contract)

    preview = services.contract_end_preview(contract=contract, by=contract.freelancer)

    assert snapshot(contract) == before
    assert preview.escrow_returned_cents == 14000
    plan = end(contract, contract.freelancer)
    assert plan.escrow_returned_cents == preview.escrow_returned_cents
    returned = EscrowMovement.objects.filter(kind=EscrowMovementKind.RETURN).aggregate(total=Sum("amount_cents"))
    assert returned["total"] == 14000
    assert balances(contract) == {"client": 0, "escrow": 0, "earnings": 0, "fees": 0}
    assert_ledger_balanced()


@pytest.mark.django_db
def test_hourly_end_preview_shows_the_time_and_amount_that_contract_end_then_bills():
    contract = HourlyContractFactory()
    DiaryEntryFactory(contract=contract, minutes=90)
    before = snapshot(contract)

    preview = services.contract_end_preview(contract=contract, by=contract.client)

    assert snapshot(contract) == before
    assert (preview.unbilled_minutes, preview.unbilled_cents, preview.client_fee_on_unbilled_cents) == (90, 7500, 375)
    assert preview.locks_diary

    plan = end(contract, contract.client)
    invoice = Invoice.objects.get(contract=contract)
    assert (invoice.minutes, invoice.amount_cents) == (preview.unbilled_minutes, preview.unbilled_cents)
    assert invoice.payment.client_fee_cents == preview.client_fee_on_unbilled_cents
    assert (plan.unbilled_minutes, plan.unbilled_cents) == (90, 7500)


# Hourly contracts end with a final invoice.


@pytest.mark.django_db
@pytest.mark.parametrize("ender", ["freelancer", "client"])
def test_hourly_end_invoices_unbilled_time_at_the_rate_with_both_fees(ender):
    contract = HourlyContractFactory()  # $50.00 an hour
    entry = DiaryEntryFactory(contract=contract, minutes=90)

    with time_machine.travel(NOW, tick=False):
        end(contract, getattr(contract, ender))

    contract = fresh(contract)
    assert contract.state == ContractState.ENDED
    invoice = Invoice.objects.get(contract=contract)
    assert (invoice.minutes, invoice.rate_cents, invoice.amount_cents) == (90, 5000, 7500)
    assert invoice.issued_at == NOW
    payment = invoice.payment
    assert (payment.amount_cents, payment.freelancer_fee_cents, payment.client_fee_cents) == (7500, 750, 375)
    assert payment.source == PaymentSource.HOURLY_INVOICE
    assert DiaryEntry.objects.get(pk=entry.pk).invoice_id == invoice.pk
    # Client charged $75.00 + 5% = $78.75; freelancer paid $75.00 − 10% = $67.50.
    assert balances(contract) == {"client": -7875, "escrow": 0, "earnings": 6750, "fees": 1125}
    assert_ledger_balanced()


@pytest.mark.django_db
def test_hourly_end_bills_all_unbilled_entries_together():
    contract = HourlyContractFactory(hourly_rate_cents=33_33)
    today = NOW.date()
    with time_machine.travel(NOW, tick=False):
        DiaryEntryFactory(contract=contract, minutes=45, work_date=today)
        DiaryEntryFactory(contract=contract, minutes=62, work_date=today - timedelta(days=1))
        end(contract, contract.freelancer)
    invoice = Invoice.objects.get(contract=contract)
    # 107 minutes at $33.33/h = 5943.85 cents → 5944.
    assert (invoice.minutes, invoice.amount_cents) == (107, 5944)
    assert (invoice.period_start, invoice.period_end) == (today - timedelta(days=1), today)
    # Fees: 5% of 5944 = 297.2 → 297; 10% = 594.4 → 594.
    assert balances(contract) == {"client": -6241, "escrow": 0, "earnings": 5350, "fees": 891}
    assert_ledger_balanced()


@pytest.mark.django_db
def test_hourly_end_with_no_time_creates_no_invoice_and_moves_no_money():
    contract = HourlyContractFactory()

    plan = end(contract, contract.client)

    assert fresh(contract).state == ContractState.ENDED
    assert (plan.unbilled_minutes, plan.unbilled_cents) == (0, 0)
    assert Invoice.objects.count() == 0
    assert Payment.objects.count() == 0
    assert LedgerTransaction.objects.count() == 0
    assert balances(contract) == {"client": 0, "escrow": 0, "earnings": 0, "fees": 0}

"""The plans behind the refund and release previews (billing.services.refunds.refund_plan,
contracts.services.milestones.milestone_release_plan): the figures a person reads before
confirming, computed by the code that then moves exactly those figures.

Fees: 10% freelancer service fee on each payment, 5% client marketplace fee on each
charge (contracts_portal/settings/policy.py)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from billing.models import LedgerTransaction, Payment, Refund
from billing.selectors import escrow_held_cents
from billing.services.refunds import STALE_REFUND, refund_create, refund_plan
from contracts import services
from contracts.models import Milestone, MilestoneState
from contracts.services.milestones import STALE_RELEASE, milestone_release_plan
from contracts_portal.errors import DomainError
from tests.factories import FixedContractFactory
from tests.fixtures.contracts import funded
from tests.fixtures.money import assert_ledger_balanced, balances

PAID_AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def funded_milestone(amount_cents: int) -> Milestone:
    """“Logo” of “Brand identity”, with ``amount_cents`` in escrow."""
    return funded(FixedContractFactory(title="Brand identity"), amount_cents, "Logo")


def paid(amount_cents: int) -> Payment:
    """A milestone of ``amount_cents`` funded and released in full at PAID_AT."""
    with time_machine.travel(PAID_AT, tick=False):
        milestone = funded_milestone(amount_cents)
        return services.milestone_release(milestone=milestone, by=milestone.contract.client)


def moved(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {account: after[account] - before[account] for account in before}


# Refund plans.


@pytest.mark.django_db
def test_refund_plan_of_100_of_a_400_payment_returns_10_of_service_fee_and_5_of_marketplace_fee_leaving_300():
    payment = paid(400_00)

    with time_machine.travel(PAID_AT + timedelta(days=3)):
        plan = refund_plan(payment=payment, by=payment.freelancer, amount_cents=100_00)

    assert plan.amount_cents == 100_00
    assert plan.freelancer_fee_returned_cents == 10_00
    assert plan.client_fee_returned_cents == 5_00
    assert plan.client_gets_back_cents == 105_00
    assert plan.freelancer_gives_back_cents == 90_00
    assert (plan.refunded_before_cents, plan.left_before_cents, plan.left_after_cents) == (0, 400_00, 300_00)
    assert not plan.refunds_all


@pytest.mark.django_db
def test_refund_plan_after_an_earlier_refund_counts_what_is_left_and_the_fees_already_returned():
    payment = paid(400_00)
    with time_machine.travel(PAID_AT + timedelta(days=3)):
        refund_create(payment=payment, by=payment.freelancer, amount_cents=100_00, idempotency_key="first")

        plan = refund_plan(payment=payment, by=payment.freelancer, amount_cents=300_00)

    assert (plan.refunded_before_cents, plan.left_before_cents, plan.left_after_cents) == (100_00, 300_00, 0)
    assert (plan.freelancer_fee_returned_cents, plan.client_fee_returned_cents) == (30_00, 15_00)
    assert plan.refunds_all


@pytest.mark.django_db
def test_refund_plan_of_an_odd_amount_rounds_each_fee_half_up_like_the_refund_does():
    payment = paid(33_33)  # service fee 333, marketplace fee 167

    with time_machine.travel(PAID_AT + timedelta(days=3)):
        plan = refund_plan(payment=payment, by=payment.freelancer, amount_cents=10_00)
        made = refund_create(payment=payment, by=payment.freelancer, amount_cents=10_00, idempotency_key="odd")

    assert (plan.freelancer_fee_returned_cents, plan.client_fee_returned_cents) == (100, 50)
    assert (made.freelancer_fee_returned_cents, made.client_fee_returned_cents) == (100, 50)


@pytest.mark.django_db
def test_refund_create_moves_exactly_the_figures_of_the_plan_shown_before_it():
    payment = paid(400_00)
    before = balances(payment.contract)

    with time_machine.travel(PAID_AT + timedelta(days=3)):
        plan = refund_plan(payment=payment, by=payment.freelancer, amount_cents=150_00)
        refund_create(
            payment=payment,
            by=payment.freelancer,
            amount_cents=150_00,
            idempotency_key="shown",
            refunded_before_cents=plan.refunded_before_cents,
        )

    assert moved(before, balances(payment.contract)) == {
        "client": plan.client_gets_back_cents,
        "earnings": -plan.freelancer_gives_back_cents,
        "fees": -(plan.freelancer_fee_returned_cents + plan.client_fee_returned_cents),
        "escrow": 0,
    }
    assert_ledger_balanced()


@pytest.mark.django_db
def test_refund_plan_moves_and_writes_nothing():
    payment = paid(400_00)
    rows = (Refund.objects.count(), LedgerTransaction.objects.count())
    before = balances(payment.contract)

    with time_machine.travel(PAID_AT + timedelta(days=3)):
        refund_plan(payment=payment, by=payment.freelancer, amount_cents=400_00)

    assert (Refund.objects.count(), LedgerTransaction.objects.count()) == rows
    assert balances(payment.contract) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount_cents", "message"),
    [
        (0, "The refund must be more than zero."),
        (400_01, "You can refund at most $400.00 of this payment: $0.00 of $400.00 has been refunded already."),
    ],
)
def test_refund_plan_refuses_an_amount_it_cannot_refund_at_the_amount(amount_cents, message):
    payment = paid(400_00)

    with time_machine.travel(PAID_AT + timedelta(days=3)), pytest.raises(DomainError) as refused:
        refund_plan(payment=payment, by=payment.freelancer, amount_cents=amount_cents)

    assert (refused.value.message, refused.value.code) == (message, "amount")


@pytest.mark.django_db
def test_refund_plan_for_the_client_or_after_the_window_is_refused_with_the_same_rules_as_the_refund():
    payment = paid(400_00)

    with time_machine.travel(PAID_AT + timedelta(days=3)), pytest.raises(DomainError) as client:
        refund_plan(payment=payment, by=payment.client, amount_cents=10_00)
    with time_machine.travel(PAID_AT + timedelta(days=180, seconds=1)), pytest.raises(DomainError) as late:
        refund_plan(payment=payment, by=payment.freelancer, amount_cents=10_00)

    assert client.value.message == "Only the freelancer who received this payment can refund it."
    assert late.value.message.startswith("Refunds are possible for 180 days after a payment")


@pytest.mark.django_db
def test_refund_confirmed_from_a_preview_made_before_another_refund_is_refused_as_stale_and_moves_nothing():
    payment = paid(400_00)
    with time_machine.travel(PAID_AT + timedelta(days=3)):
        shown = refund_plan(payment=payment, by=payment.freelancer, amount_cents=300_00)
        refund_create(payment=payment, by=payment.freelancer, amount_cents=100_00, idempotency_key="other-tab")
        before = balances(payment.contract)

        with pytest.raises(DomainError) as refused:
            refund_create(
                payment=payment,
                by=payment.freelancer,
                amount_cents=300_00,
                idempotency_key="stale",
                refunded_before_cents=shown.refunded_before_cents,
            )

    assert (refused.value.message, refused.value.code) == (STALE_REFUND, "stale")
    assert balances(payment.contract) == before
    assert list(Refund.objects.values_list("amount_cents", flat=True)) == [100_00]


@pytest.mark.django_db
def test_a_repeated_confirmation_returns_its_refund_even_though_the_payment_changed_with_it():
    payment = paid(400_00)
    with time_machine.travel(PAID_AT + timedelta(days=3)):
        confirmation = {"amount_cents": 400_00, "idempotency_key": "double-click", "refunded_before_cents": 0}
        first = refund_create(payment=payment, by=payment.freelancer, **confirmation)
        second = refund_create(payment=payment, by=payment.freelancer, **confirmation)

    assert second.pk == first.pk
    assert Refund.objects.count() == 1


# Release plans.


@pytest.mark.django_db
def test_release_plan_of_150_of_400_in_escrow_takes_a_15_fee_pays_135_carries_7_50_and_leaves_250():
    milestone = funded_milestone(400_00)

    plan = milestone_release_plan(milestone=milestone, by=milestone.contract.client, amount_cents=150_00)

    assert plan.amount_cents == 150_00
    assert plan.freelancer_fee_cents == 15_00
    assert plan.net_to_freelancer_cents == 135_00
    assert plan.client_fee_carried_cents == 7_50
    assert (plan.held_before_cents, plan.left_in_escrow_cents) == (400_00, 250_00)
    assert not plan.pays_in_full


@pytest.mark.django_db
def test_release_plan_of_all_the_escrow_pays_the_milestone_in_full():
    milestone = funded_milestone(400_00)

    plan = milestone_release_plan(milestone=milestone, by=milestone.contract.client, amount_cents=400_00)

    assert (plan.left_in_escrow_cents, plan.pays_in_full) == (0, True)
    assert (plan.freelancer_fee_cents, plan.client_fee_carried_cents) == (40_00, 20_00)


@pytest.mark.django_db
def test_release_plan_after_a_part_payment_carries_the_rest_of_the_marketplace_fee():
    milestone = funded_milestone(333_33)  # marketplace fee 16.67
    client = milestone.contract.client
    services.milestone_release(milestone=milestone, by=client, amount_cents=100_00, idempotency_key="part")

    plan = milestone_release_plan(milestone=milestone, by=client, amount_cents=233_33)

    first = Payment.objects.get()
    assert first.client_fee_cents + plan.client_fee_carried_cents == 16_67
    assert (plan.held_before_cents, plan.left_in_escrow_cents) == (233_33, 0)


@pytest.mark.django_db
def test_milestone_release_moves_exactly_the_figures_of_the_plan_and_writes_nothing_before():
    milestone = funded_milestone(400_00)
    client = milestone.contract.client
    before = balances(milestone.contract)

    plan = milestone_release_plan(milestone=milestone, by=client, amount_cents=150_00)
    assert balances(milestone.contract) == before and Payment.objects.count() == 0
    payment = services.milestone_release(
        milestone=milestone,
        by=client,
        amount_cents=150_00,
        idempotency_key="shown",
        held_before_cents=plan.held_before_cents,
    )

    assert (payment.amount_cents, payment.freelancer_fee_cents, payment.client_fee_cents) == (
        plan.amount_cents,
        plan.freelancer_fee_cents,
        plan.client_fee_carried_cents,
    )
    assert moved(before, balances(milestone.contract)) == {
        "escrow": -plan.amount_cents,
        "earnings": plan.net_to_freelancer_cents,
        "fees": plan.freelancer_fee_cents,
        "client": 0,
    }
    assert escrow_held_cents(milestone) == plan.left_in_escrow_cents
    assert_ledger_balanced()


@pytest.mark.django_db
def test_release_plan_refuses_the_freelancer_and_more_than_the_escrow():
    milestone = funded_milestone(400_00)

    with pytest.raises(DomainError) as freelancer:
        milestone_release_plan(milestone=milestone, by=milestone.contract.freelancer, amount_cents=10_00)
    with pytest.raises(DomainError) as too_much:
        milestone_release_plan(milestone=milestone, by=milestone.contract.client, amount_cents=400_01)

    assert freelancer.value.message == "Only the client of this contract can do this."
    assert (too_much.value.message, too_much.value.code) == (
        "Enter an amount above $0.00 and at most $400.00, the amount in escrow.",
        "amount",
    )


@pytest.mark.django_db
def test_release_confirmed_from_a_preview_made_before_another_release_is_refused_as_stale_and_moves_nothing():
    milestone = funded_milestone(400_00)
    client = milestone.contract.client
    shown = milestone_release_plan(milestone=milestone, by=client, amount_cents=100_00)
    services.milestone_release(milestone=milestone, by=client, amount_cents=50_00, idempotency_key="other-tab")

    with pytest.raises(DomainError) as refused:
        services.milestone_release(
            milestone=milestone,
            by=client,
            amount_cents=100_00,
            idempotency_key="stale",
            held_before_cents=shown.held_before_cents,
        )

    assert (refused.value.message, refused.value.code) == (STALE_RELEASE, "stale")
    assert escrow_held_cents(milestone) == 350_00
    assert list(Payment.objects.values_list("amount_cents", flat=True)) == [50_00]


@pytest.mark.django_db
def test_a_repeated_confirmation_of_a_full_release_returns_its_payment_once_the_milestone_is_paid():
    milestone = funded_milestone(400_00)
    client = milestone.contract.client
    confirmation = {"amount_cents": 400_00, "idempotency_key": "double-click", "held_before_cents": 400_00}

    first = services.milestone_release(milestone=milestone, by=client, **confirmation)
    second = services.milestone_release(milestone=milestone, by=client, **confirmation)

    assert second.pk == first.pk
    assert Milestone.objects.get(pk=milestone.pk).state == MilestoneState.RELEASED
    assert Payment.objects.count() == 1

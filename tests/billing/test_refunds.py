"""Refunds (billing.services.refunds.refund_create): who may refund, how much, for how
long, the fees returned pro rata, idempotency, and a ledger that always balances.

Fees: 10% freelancer service fee on each payment, 5% client marketplace fee on each
charge (contracts_portal/settings/policy.py)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from billing.models import LedgerEntry, LedgerTransaction, Payment, Refund, TransactionKind
from billing.selectors import refunded_cents
from billing.services.invoices import invoice_unbilled_time
from billing.services.refunds import refund_create
from contracts import services
from contracts.models import ContractState
from contracts_portal.errors import DomainError
from tests.factories import (
    DiaryEntryFactory,
    FixedContractFactory,
    HourlyContractFactory,
    MilestoneFactory,
    UserFactory,
)
from tests.fixtures.money import assert_ledger_balanced, milestone_payment, payment_balances, refund

PAID_AT = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)


# Helpers.


def invoiced_payment(minutes: int, *, contract=None) -> Payment:
    """Recorded time invoiced at the contract's rate ($50.00/h by default)."""
    contract = contract or HourlyContractFactory()
    DiaryEntryFactory(contract=contract, minutes=minutes)
    with transaction.atomic():
        invoice = invoice_unbilled_time(contract=contract, key=f"test-invoice:{contract.pk}", at=timezone.now())
    return invoice.payment


def money_rows() -> tuple[int, int, int]:
    return Refund.objects.count(), LedgerTransaction.objects.count(), LedgerEntry.objects.count()


# Who may refund.


@pytest.mark.django_db
def test_client_of_the_payment_cannot_refund_it():
    payment = milestone_payment(100_00)
    before, rows = payment_balances(payment), money_rows()
    with pytest.raises(DomainError) as refused:
        refund(payment, 50_00, by=payment.client)
    assert str(refused.value) == "Only the freelancer who received this payment can refund it."
    assert money_rows() == rows
    assert payment_balances(payment) == before
    assert_ledger_balanced()


@pytest.mark.django_db
def test_another_freelancer_cannot_refund_someone_elses_payment():
    payment = milestone_payment(100_00)
    other = milestone_payment(100_00).freelancer
    rows = money_rows()
    with pytest.raises(DomainError, match="Only the freelancer who received this payment"):
        refund(payment, 50_00, by=other)
    with pytest.raises(DomainError, match="Only the freelancer who received this payment"):
        refund(payment, 50_00, by=UserFactory())
    assert money_rows() == rows


@pytest.mark.django_db
def test_refund_without_a_user_is_refused():
    payment = milestone_payment(100_00)
    rows = money_rows()
    with pytest.raises(DomainError, match="Only the freelancer who received this payment"):
        refund_create(payment=payment, by=None, amount_cents=50_00, idempotency_key="anon")
    assert money_rows() == rows


@pytest.mark.django_db
def test_refund_needs_an_idempotency_key():
    payment = milestone_payment(100_00)
    with pytest.raises(ValueError):
        refund_create(payment=payment, by=payment.freelancer, amount_cents=50_00, idempotency_key="")
    assert Refund.objects.count() == 0


@pytest.mark.django_db
def test_a_key_too_long_for_the_ledger_is_refused_with_a_message_and_moves_nothing():
    payment = milestone_payment(100_00)
    rows = money_rows()
    with pytest.raises(DomainError, match="reload the page"):
        refund(payment, 50_00, key="k" * 101)
    assert money_rows() == rows
    assert refund(payment, 50_00, key="k" * 100).amount_cents == 50_00


# Full and partial refunds, fees returned pro rata.


@pytest.mark.django_db
def test_full_refund_of_a_milestone_payment_returns_everything_to_the_client():
    payment = milestone_payment(100_00)
    assert (payment.amount_cents, payment.freelancer_fee_cents, payment.client_fee_cents) == (10000, 1000, 500)
    assert payment_balances(payment) == {"client": -10500, "earnings": 9000, "escrow": 0, "fees": 1500}

    made = refund(payment, 100_00)

    assert (made.amount_cents, made.freelancer_fee_returned_cents, made.client_fee_returned_cents) == (10000, 1000, 500)
    assert payment_balances(payment) == {"client": 0, "earnings": 0, "escrow": 0, "fees": 0}
    assert refunded_cents(payment) == 10000
    assert_ledger_balanced()


@pytest.mark.django_db
def test_refund_of_100_dollars_returns_10_dollars_of_service_fee_and_costs_the_freelancer_90():
    payment = milestone_payment(300_00)
    assert (payment.freelancer_fee_cents, payment.client_fee_cents) == (3000, 1500)
    assert payment_balances(payment) == {"client": -31500, "earnings": 27000, "escrow": 0, "fees": 4500}

    made = refund(payment, 100_00)

    assert made.freelancer_fee_returned_cents == 1000
    assert payment_balances(payment)["earnings"] == 27000 - 9000
    assert_ledger_balanced()


@pytest.mark.django_db
def test_client_gets_the_refund_plus_the_pro_rata_marketplace_fee():
    payment = milestone_payment(300_00)

    made = refund(payment, 100_00)

    assert made.client_fee_returned_cents == 500
    assert payment_balances(payment) == {"client": -31500 + 10500, "earnings": 18000, "escrow": 0, "fees": 4500 - 1500}
    entries = dict(made.ledger_transaction.entries.values_list("account__code", "amount_cents"))
    assert entries == {
        f"client-funds:{payment.client_id}": 10500,
        f"earnings:{payment.freelancer_id}": -9000,
        "platform-fees": -1500,
    }
    assert made.ledger_transaction.kind == TransactionKind.REFUND
    assert_ledger_balanced()


@pytest.mark.django_db
def test_partial_refund_of_an_hourly_invoice_returns_fees_pro_rata():
    payment = invoiced_payment(90)  # 1:30 at $50.00/h = $75.00
    assert (payment.amount_cents, payment.freelancer_fee_cents, payment.client_fee_cents) == (7500, 750, 375)
    assert payment_balances(payment) == {"client": -7875, "earnings": 6750, "escrow": 0, "fees": 1125}

    made = refund(payment, 25_00)

    assert (made.freelancer_fee_returned_cents, made.client_fee_returned_cents) == (250, 125)
    assert payment_balances(payment) == {
        "client": -7875 + 2625,
        "earnings": 6750 - 2250,
        "escrow": 0,
        "fees": 1125 - 375,
    }
    assert_ledger_balanced()


@pytest.mark.django_db
def test_pro_rata_fee_of_an_odd_partial_refund_rounds_half_up():
    payment = milestone_payment(33_33)  # service fee 333.3 → 333, marketplace fee 166.65 → 167
    assert (payment.freelancer_fee_cents, payment.client_fee_cents) == (333, 167)

    made = refund(payment, 10_00)

    # 1000/3333 of 333 = 99.91 → 100; of 167 = 50.1 → 50.
    assert (made.freelancer_fee_returned_cents, made.client_fee_returned_cents) == (100, 50)
    assert payment_balances(payment) == {"client": -3500 + 1050, "earnings": 3000 - 900, "escrow": 0, "fees": 500 - 150}
    assert_ledger_balanced()


@pytest.mark.django_db
def test_several_partial_refunds_adding_up_to_the_payment_return_exactly_the_whole_fees():
    payment = milestone_payment(10_00)  # service fee 100, marketplace fee 50
    assert (payment.freelancer_fee_cents, payment.client_fee_cents) == (100, 50)

    made = [refund(payment, part) for part in (3_33, 3_33, 3_34)]

    # Each third alone would round to 17 cents of marketplace fee: 51 in all.
    assert [r.freelancer_fee_returned_cents for r in made] == [33, 34, 33]
    assert [r.client_fee_returned_cents for r in made] == [17, 16, 17]
    assert sum(r.freelancer_fee_returned_cents for r in made) == 100
    assert sum(r.client_fee_returned_cents for r in made) == 50
    assert payment_balances(payment) == {"client": 0, "earnings": 0, "escrow": 0, "fees": 0}
    assert_ledger_balanced()


@pytest.mark.django_db
def test_many_one_cent_refunds_then_the_rest_return_exactly_the_whole_fees():
    payment = milestone_payment(33_33)
    made = [refund(payment, 1) for _ in range(7)]
    made.append(refund(payment, 33_33 - 7))
    assert sum(r.amount_cents for r in made) == 3333
    assert sum(r.freelancer_fee_returned_cents for r in made) == 333
    assert sum(r.client_fee_returned_cents for r in made) == 167
    assert payment_balances(payment) == {"client": 0, "earnings": 0, "escrow": 0, "fees": 0}
    assert_ledger_balanced()


# Never more than what is left.


@pytest.mark.django_db
def test_refund_of_more_than_the_payment_is_refused():
    payment = milestone_payment(300_00)
    rows, before = money_rows(), payment_balances(payment)
    with pytest.raises(DomainError) as refused:
        refund(payment, 300_01)
    assert str(refused.value) == (
        "You can refund at most $300.00 of this payment: $0.00 of $300.00 has been refunded already."
    )
    assert money_rows() == rows
    assert payment_balances(payment) == before


@pytest.mark.django_db
def test_second_partial_refund_exceeding_what_is_left_is_refused_naming_what_is_left():
    payment = milestone_payment(300_00)
    refund(payment, 200_00)
    rows, before = money_rows(), payment_balances(payment)

    with pytest.raises(DomainError) as refused:
        refund(payment, 150_00)

    assert "$100.00" in str(refused.value)
    assert str(refused.value) == (
        "You can refund at most $100.00 of this payment: $200.00 of $300.00 has been refunded already."
    )
    assert money_rows() == rows
    assert payment_balances(payment) == before
    assert refunded_cents(payment) == 20000
    assert_ledger_balanced()


@pytest.mark.django_db
def test_second_partial_refund_of_exactly_what_is_left_is_accepted():
    payment = milestone_payment(300_00)
    refund(payment, 200_00)
    refund(payment, 100_00)
    assert refunded_cents(payment) == 30000
    assert payment_balances(payment) == {"client": 0, "earnings": 0, "escrow": 0, "fees": 0}
    assert_ledger_balanced()


@pytest.mark.django_db
def test_refund_after_a_full_refund_is_refused():
    payment = milestone_payment(100_00)
    refund(payment, 100_00)
    rows = money_rows()
    with pytest.raises(DomainError) as refused:
        refund(payment, 1)
    assert str(refused.value) == "This payment has already been refunded in full."
    assert money_rows() == rows
    assert_ledger_balanced()


@pytest.mark.django_db
@pytest.mark.parametrize("amount_cents", [0, -100])
def test_refund_of_zero_or_less_is_refused(amount_cents):
    payment = milestone_payment(100_00)
    rows = money_rows()
    with pytest.raises(DomainError, match="The refund must be more than zero."):
        refund(payment, amount_cents)
    assert money_rows() == rows


# The 180-day window.


@pytest.mark.django_db
@pytest.mark.parametrize("days", [0, 179, 180])
def test_payment_up_to_180_days_old_is_refundable(days):
    with time_machine.travel(PAID_AT, tick=False):
        payment = milestone_payment(300_00)
    with time_machine.travel(PAID_AT + timedelta(days=days), tick=False):
        made = refund(payment, 100_00)
    assert made.created_at == PAID_AT + timedelta(days=days)
    assert made.freelancer_fee_returned_cents == 1000
    assert payment_balances(payment) == {"client": -21000, "earnings": 18000, "escrow": 0, "fees": 3000}
    assert_ledger_balanced()


@pytest.mark.django_db
def test_payment_is_refundable_until_the_same_instant_180_days_later():
    """Paid at 10:00 on day 0: still refundable at 10:00:00 on day 180."""
    with time_machine.travel(PAID_AT, tick=False):
        payment = milestone_payment(300_00)
    with time_machine.travel(PAID_AT + timedelta(days=180), tick=False):
        assert refund(payment, 100_00).created_at == datetime(2025, 8, 30, 10, 0, tzinfo=UTC)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "after", [timedelta(days=180, seconds=1), timedelta(days=180, minutes=1), timedelta(days=180, hours=23)]
)
def test_refund_even_a_moment_after_180_days_is_refused_with_a_message_naming_180_days(after):
    with time_machine.travel(PAID_AT, tick=False):
        payment = milestone_payment(300_00)
    rows, before = money_rows(), payment_balances(payment)
    with time_machine.travel(PAID_AT + after, tick=False), pytest.raises(DomainError) as refused:
        refund(payment, 100_00)
    assert str(refused.value) == (
        "Refunds are possible for 180 days after a payment: this one was made on 2025-03-03 10:00 UTC "
        "and could be refunded until 2025-08-30 10:00 UTC."
    )
    assert money_rows() == rows
    assert payment_balances(payment) == before
    assert_ledger_balanced()


@pytest.mark.django_db
def test_refund_on_day_181_is_refused():
    with time_machine.travel(PAID_AT, tick=False):
        payment = milestone_payment(300_00)
    with time_machine.travel(PAID_AT + timedelta(days=181), tick=False), pytest.raises(DomainError, match="180 days"):
        refund(payment, 100_00)
    assert Refund.objects.count() == 0


@pytest.mark.django_db
def test_refund_a_year_later_is_refused():
    with time_machine.travel(PAID_AT, tick=False):
        payment = milestone_payment(300_00)
    with time_machine.travel(PAID_AT + timedelta(days=365, hours=5), tick=False), pytest.raises(DomainError) as refused:
        refund(payment, 100_00)
    assert "could be refunded until 2025-08-30 10:00 UTC" in str(refused.value)
    assert Refund.objects.count() == 0


@pytest.mark.django_db
def test_refunds_page_and_selector_use_the_same_window_as_the_service(client):
    """One minute after the window closes, the page says the payment can no longer be
    refunded and the selector no longer counts it as refundable; a minute before, neither."""
    from billing.selectors import refundable_payments

    with time_machine.travel(PAID_AT, tick=False):
        payment = milestone_payment(300_00)
    client.force_login(payment.freelancer)
    for after, open_ in ((timedelta(days=180) - timedelta(minutes=1), True), (timedelta(days=180, minutes=1), False)):
        with time_machine.travel(PAID_AT + after, tick=False):
            assert refundable_payments(payment.freelancer).get(pk=payment.pk).in_window is open_
            page = client.get("/refunds/").content.decode()
            assert ("could be refunded until 2025-08-30 10:00 UTC" in page) is not open_


@pytest.mark.django_db
def test_refund_window_counts_from_the_payment_not_from_the_funding():
    contract = FixedContractFactory()
    milestone = MilestoneFactory(contract=contract, amount_cents=100_00)
    with time_machine.travel(PAID_AT, tick=False):
        services.milestone_fund(milestone=milestone, by=contract.client)
    with time_machine.travel(PAID_AT + timedelta(days=100), tick=False):
        payment = services.milestone_release(milestone=milestone, by=contract.client)
    with time_machine.travel(PAID_AT + timedelta(days=250), tick=False):
        made = refund(payment, 100_00)
    assert made.amount_cents == 10000
    assert payment_balances(payment) == {"client": 0, "earnings": 0, "escrow": 0, "fees": 0}
    assert_ledger_balanced()


# Idempotency.


@pytest.mark.django_db
def test_same_idempotency_key_twice_makes_one_refund():
    payment = milestone_payment(300_00)
    first = refund(payment, 100_00, key="form-123")
    after_first = payment_balances(payment), money_rows()

    second = refund(payment, 100_00, key="form-123")

    assert second.pk == first.pk
    assert Refund.objects.filter(payment=payment).count() == 1
    assert (payment_balances(payment), money_rows()) == after_first
    assert payment_balances(payment) == {"client": -21000, "earnings": 18000, "escrow": 0, "fees": 3000}
    assert refunded_cents(payment) == 10000
    assert_ledger_balanced()


@pytest.mark.django_db
def test_same_idempotency_key_for_a_different_amount_is_refused():
    payment = milestone_payment(300_00)
    refund(payment, 100_00, key="form-9")
    rows = money_rows()
    with pytest.raises(DomainError, match="already used for another refund"):
        refund(payment, 50_00, key="form-9")
    assert money_rows() == rows
    assert refunded_cents(payment) == 10000


@pytest.mark.django_db
def test_different_idempotency_keys_make_separate_refunds():
    payment = milestone_payment(300_00)
    refund(payment, 100_00, key="a")
    refund(payment, 100_00, key="b")
    assert Refund.objects.filter(payment=payment).count() == 2
    assert refunded_cents(payment) == 20000
    assert payment_balances(payment) == {"client": -10500, "earnings": 9000, "escrow": 0, "fees": 1500}
    assert_ledger_balanced()


# Ended contracts.


@pytest.mark.django_db
def test_refund_on_a_fixed_price_contract_ended_by_the_freelancer_is_allowed():
    payment = milestone_payment(300_00)
    contract = payment.contract
    services.contract_end(contract=contract, by=contract.freelancer, reason="completed")
    contract.refresh_from_db()
    assert contract.state == ContractState.ENDED

    made = refund(payment, 100_00)

    assert (made.amount_cents, made.freelancer_fee_returned_cents, made.client_fee_returned_cents) == (10000, 1000, 500)
    assert payment_balances(payment) == {"client": -21000, "earnings": 18000, "escrow": 0, "fees": 3000}
    assert_ledger_balanced()


@pytest.mark.django_db
def test_refund_of_the_final_invoice_of_an_ended_hourly_contract_is_allowed():
    contract = HourlyContractFactory()
    DiaryEntryFactory(contract=contract, minutes=90)
    services.contract_end(contract=contract, by=contract.client, reason="completed")
    payment = contract.invoices.get().payment
    assert payment.amount_cents == 7500

    made = refund(payment, 75_00)

    assert (made.freelancer_fee_returned_cents, made.client_fee_returned_cents) == (750, 375)
    assert payment_balances(payment) == {"client": 0, "earnings": 0, "escrow": 0, "fees": 0}
    assert_ledger_balanced()


# What a refund records.


@pytest.mark.django_db
def test_refund_records_who_when_why_and_its_ledger_transaction():
    with time_machine.travel(PAID_AT, tick=False):
        payment = milestone_payment(300_00)
    at = PAID_AT + timedelta(days=3)
    with time_machine.travel(at, tick=False):
        made = refund(payment, 100_00, key="k1", reason="Client was unhappy with the logo")
    made.refresh_from_db()
    assert made.created_by_id == payment.freelancer_id
    assert made.created_at == at
    assert made.reason == "Client was unhappy with the logo"
    assert made.ledger_transaction.idempotency_key == "refund:k1"
    assert made.ledger_transaction.created_at == at
    assert made.ledger_transaction.contract_id == payment.contract_id


@pytest.mark.django_db
def test_refund_leaves_other_payments_of_the_contract_untouched():
    contract = FixedContractFactory()
    first = milestone_payment(100_00, contract=contract)
    second = milestone_payment(200_00, contract=contract)
    refund(first, 100_00)
    assert refunded_cents(first) == 10000
    assert refunded_cents(second) == 0
    # The second payment still stands: $200 charged with $10 fee, $180 earned, $30 fees.
    assert payment_balances(second) == {"client": -21000, "earnings": 18000, "escrow": 0, "fees": 3000}
    assert_ledger_balanced()

"""Races between real threads, each with its own PostgreSQL connection: the services'
row locks (``select_for_update``) and the database triggers must let exactly one of
two conflicting actions through, and the ledger must balance afterwards."""

import threading
from collections import Counter

import pytest
from django.db import DatabaseError, connection
from django.db.models import Count, Sum
from django.utils import timezone

from billing.models import EscrowMovement, EscrowMovementKind, Invoice, LedgerEntry, LedgerTransaction, Payment, Refund
from billing.services.refunds import refund_create
from contracts import services
from contracts.models import (
    Contract,
    ContractState,
    DiaryEntry,
    EscrowRefundRequest,
    Milestone,
    MilestoneState,
    StateChange,
)
from contracts.services import MilestoneChoice, MilestoneDecision
from contracts_portal.errors import DomainError
from tests.factories import DiaryEntryFactory, FixedContractFactory, HourlyContractFactory, MilestoneFactory
from tests.fixtures.money import assert_ledger_balanced, milestone_payment

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 5
ALREADY_ENDED = "This contract has already ended; ending is final."


class Outcome:
    def __init__(self, name: str) -> None:
        self.name = name
        self.result = None
        self.error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def __repr__(self) -> str:
        return f"<{self.name}: {'ok' if self.ok else repr(self.error)}>"


def race(**actions) -> dict[str, Outcome]:
    """Run each action in its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(actions), timeout=30)
    outcomes = {name: Outcome(name) for name in actions}

    def run(name, action):
        try:
            barrier.wait()
            outcomes[name].result = action()
        except BaseException as error:  # noqa: BLE001 - reported to the test
            outcomes[name].error = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item, name=item[0]) for item in actions.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [thread.name for thread in threads if thread.is_alive()] == []
    return outcomes


# (1) Both parties end an hourly contract at the same moment.


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_parties_ending_an_hourly_contract_at_once_end_it_exactly_once(round_):
    contract = HourlyContractFactory(hourly_rate_cents=5000)
    DiaryEntryFactory(contract=contract, minutes=90)
    DiaryEntryFactory(contract=contract, minutes=30, work_date=timezone.now().date() - timezone.timedelta(days=1))

    outcomes = race(
        client=lambda: services.contract_end(contract=contract, by=contract.client, reason="completed"),
        freelancer=lambda: services.contract_end(contract=contract, by=contract.freelancer, reason="other"),
    )

    winners = [o for o in outcomes.values() if o.ok]
    losers = [o for o in outcomes.values() if not o.ok]
    assert len(winners) == 1, outcomes
    assert len(losers) == 1, outcomes
    assert isinstance(losers[0].error, DomainError), outcomes
    assert str(losers[0].error) == ALREADY_ENDED

    ended = Contract.objects.get(pk=contract.pk)
    winner = contract.client if winners[0].name == "client" else contract.freelancer
    assert (ended.state, ended.ended_by_id) == (ContractState.ENDED, winner.pk)
    assert StateChange.objects.filter(contract=contract, subject="contract", target="ended").count() == 1
    invoice = Invoice.objects.get(contract=contract)
    assert (invoice.minutes, invoice.amount_cents) == (120, 100_00)
    assert Payment.objects.filter(contract=contract).count() == 1
    assert DiaryEntry.objects.filter(contract=contract, invoice__isnull=True).count() == 0
    assert DiaryEntry.objects.filter(contract=contract, invoice=invoice).count() == 2
    assert LedgerTransaction.objects.filter(contract=contract).count() == 1
    assert_ledger_balanced()


# (2) Freelancer ends a fixed-price contract while the client ends it paying in full.


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_parties_ending_a_fixed_price_contract_at_once_settle_each_milestone_exactly_once(round_):
    contract = FixedContractFactory()
    funded = [
        MilestoneFactory(contract=contract, position=1, amount_cents=100_00),
        MilestoneFactory(contract=contract, position=2, amount_cents=250_00),
    ]
    pending = MilestoneFactory(contract=contract, position=3, amount_cents=50_00)
    for milestone in funded:
        services.milestone_fund(milestone=milestone, by=contract.client)
    services.milestone_submit(milestone=funded[1], by=contract.freelancer, note="Done")
    decisions = {m.pk: MilestoneDecision(MilestoneChoice.PAY_IN_FULL) for m in funded}

    outcomes = race(
        client=lambda: services.contract_end(
            contract=contract, by=contract.client, reason="completed", milestone_decisions=decisions
        ),
        freelancer=lambda: services.contract_end(contract=contract, by=contract.freelancer, reason="other"),
    )

    winners = [o for o in outcomes.values() if o.ok]
    losers = [o for o in outcomes.values() if not o.ok]
    assert len(winners) == 1, outcomes
    assert len(losers) == 1, outcomes
    assert isinstance(losers[0].error, DomainError), outcomes
    assert str(losers[0].error) == ALREADY_ENDED
    client_won = winners[0].name == "client"

    assert Contract.objects.get(pk=contract.pk).state == ContractState.ENDED
    assert StateChange.objects.filter(contract=contract, subject="contract", target="ended").count() == 1
    for milestone in funded:
        settled = EscrowMovement.objects.filter(milestone=milestone).exclude(kind=EscrowMovementKind.FUND)
        expected_kind = EscrowMovementKind.RELEASE if client_won else EscrowMovementKind.RETURN
        assert list(settled.values_list("kind", "amount_cents")) == [(expected_kind, milestone.amount_cents)]
        expected_state = MilestoneState.RELEASED if client_won else MilestoneState.REFUNDED
        assert Milestone.objects.get(pk=milestone.pk).state == expected_state
    assert Milestone.objects.get(pk=pending.pk).state == MilestoneState.CANCELLED
    assert Payment.objects.filter(contract=contract).count() == (2 if client_won else 0)
    assert EscrowRefundRequest.objects.filter(contract=contract).count() == 0
    escrow_left = LedgerEntry.objects.filter(account__code=f"escrow:{contract.pk}").aggregate(t=Sum("amount_cents"))
    assert escrow_left["t"] == 0
    assert_ledger_balanced()


# (3) Refunds racing on one payment.


@pytest.fixture
def payment(transactional_db) -> Payment:
    """A $100.00 milestone payment ($10.00 service fee, $5.00 client fee)."""
    paid = milestone_payment(100_00)
    assert (paid.amount_cents, paid.freelancer_fee_cents, paid.client_fee_cents) == (100_00, 10_00, 5_00)
    return paid


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_refunds_of_sixty_percent_racing_on_one_payment_let_exactly_one_through(payment, round_):
    outcomes = race(
        **{
            f"refund{n}": (
                lambda n=n: refund_create(
                    payment=payment, by=payment.freelancer, amount_cents=60_00, idempotency_key=f"race-{n}"
                )
            )
            for n in (1, 2)
        }
    )

    winners = [o for o in outcomes.values() if o.ok]
    losers = [o for o in outcomes.values() if not o.ok]
    assert len(winners) == 1, outcomes
    assert len(losers) == 1, outcomes
    assert isinstance(losers[0].error, DomainError), outcomes
    assert str(losers[0].error) == (
        "You can refund at most $40.00 of this payment: $60.00 of $100.00 has been refunded already."
    )
    refunds = Refund.objects.filter(payment=payment)
    assert list(refunds.values_list("amount_cents", "freelancer_fee_returned_cents", "client_fee_returned_cents")) == [
        (60_00, 6_00, 3_00)
    ]
    assert refunds.aggregate(total=Sum("amount_cents"))["total"] <= payment.amount_cents
    assert_ledger_balanced()


def test_eight_refunds_of_twenty_percent_racing_on_one_payment_let_exactly_five_through(payment):
    outcomes = race(
        **{
            f"refund{n}": (
                lambda n=n: refund_create(
                    payment=payment, by=payment.freelancer, amount_cents=20_00, idempotency_key=f"fifth-{n}"
                )
            )
            for n in range(8)
        }
    )

    succeeded = [o for o in outcomes.values() if o.ok]
    failed = [o for o in outcomes.values() if not o.ok]
    assert len(succeeded) == 5, outcomes
    assert len(failed) == 3, outcomes
    assert Counter(type(o.error) for o in failed) == Counter({DomainError: 3})
    assert {str(o.error) for o in failed} == {"This payment has already been refunded in full."}
    totals = Refund.objects.filter(payment=payment).aggregate(
        amount=Sum("amount_cents"),
        freelancer_fee=Sum("freelancer_fee_returned_cents"),
        client_fee=Sum("client_fee_returned_cents"),
        count=Count("id"),
    )
    assert totals == {"amount": 100_00, "freelancer_fee": 10_00, "client_fee": 5_00, "count": 5}
    assert_ledger_balanced()


# (4) Time recorded while the contract ends: billed, or refused; never left unbilled.


def assert_no_unbilled_time_after_the_end(contract: Contract, *, extra_minutes_in: bool) -> None:
    ended = Contract.objects.get(pk=contract.pk)
    assert ended.state == ContractState.ENDED
    assert DiaryEntry.objects.filter(contract=contract, invoice__isnull=True).count() == 0
    invoice = Invoice.objects.get(contract=contract)
    expected_minutes = 60 + (30 if extra_minutes_in else 0)
    assert invoice.minutes == expected_minutes
    assert invoice.amount_cents == expected_minutes * 5000 // 60
    assert DiaryEntry.objects.filter(contract=contract).aggregate(t=Sum("minutes"))["t"] == expected_minutes
    assert_ledger_balanced()


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_time_recorded_while_the_contract_ends_is_invoiced_or_refused_never_left_unbilled(round_):
    contract = HourlyContractFactory(hourly_rate_cents=5000)
    DiaryEntryFactory(contract=contract, minutes=60)

    outcomes = race(
        add=lambda: services.diary_entry_add(
            contract=contract, by=contract.freelancer, work_date=timezone.now().date(), minutes=30, memo="Last fix"
        ),
        end=lambda: services.contract_end(contract=contract, by=contract.client, reason="completed"),
    )

    assert outcomes["end"].ok, outcomes
    add = outcomes["add"]
    if not add.ok:
        assert isinstance(add.error, DomainError), outcomes
        assert str(add.error) == (
            "This contract has ended, so its work diary is locked: no time can be added, changed or removed."
        )
    else:
        assert DiaryEntry.objects.get(pk=add.result.pk).invoice_id is not None
    assert_no_unbilled_time_after_the_end(contract, extra_minutes_in=add.ok)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_time_written_past_the_service_while_the_contract_ends_is_invoiced_or_refused_by_the_database(round_):
    """The model layer reads the contract's state without locking it; the trigger's
    FOR SHARE read of the contract row still puts the insert before or after the end."""
    contract = HourlyContractFactory(hourly_rate_cents=5000)
    DiaryEntryFactory(contract=contract, minutes=60)
    stale = Contract.objects.get(pk=contract.pk)

    outcomes = race(
        add=lambda: DiaryEntry.objects.create(
            contract=stale, work_date=timezone.now().date(), minutes=30, memo="Recorded from a stale page"
        ),
        end=lambda: services.contract_end(contract=contract, by=contract.freelancer, reason="completed"),
    )

    assert outcomes["end"].ok, outcomes
    add = outcomes["add"]
    if not add.ok:
        assert isinstance(add.error, DomainError | DatabaseError), outcomes
        assert "locked" in str(add.error)
    else:
        assert DiaryEntry.objects.get(pk=add.result.pk).invoice_id is not None
    assert_no_unbilled_time_after_the_end(contract, extra_minutes_in=add.ok)

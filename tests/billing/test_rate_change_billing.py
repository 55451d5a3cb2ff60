"""Billing across a rate change (issue 14): time is invoiced one billing week at a
time, each week at the rate in force that week. A rate accepted during a week applies
from the next one: the week of the acceptance is billed at the old rate, the weeks
after at the new one, by the Monday invoices and by the final invoice at the end.
Parties acting at once on a rate get one outcome."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from billing.models import Invoice, Payment
from contracts import services
from contracts.models import DiaryEntry, RateChange, RateChangeProposal, StateChange
from contracts.selectors import diary_summary
from contracts_portal.errors import DomainError
from tests.billing.test_concurrency import ROUNDS, race
from tests.factories import HourlyContractFactory
from tests.fixtures.money import assert_ledger_balanced, balances
from tests.fixtures.pages import text

WEEK_1 = date(2026, 3, 9)  # Monday
WEEK_2 = date(2026, 3, 16)
WEDNESDAY = datetime(2026, 3, 11, 10, 0, tzinfo=UTC)
MONDAY_MORNING = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def raised(clara, felix):
    """$50.00 an hour until Felix's $60.00 is accepted on Wednesday of week 1, with 2
    hours recorded that Wednesday and 3 hours on Monday morning of week 2."""
    with at(WEDNESDAY):
        contract = HourlyContractFactory(
            client=clara, freelancer=felix, title="Data pipeline", started_at=WEDNESDAY - timedelta(days=30)
        )
        services.diary_entry_add(contract=contract, by=felix, work_date=date(2026, 3, 11), minutes=120, memo="ETL")
        proposal = services.rate_change_propose(contract=contract, by=felix, rate_cents=60_00)
        services.rate_change_accept(proposal=proposal, by=clara)
    with at(MONDAY_MORNING):
        services.diary_entry_add(contract=contract, by=felix, work_date=WEEK_2, minutes=180, memo="Loader")
    return contract


def invoices(contract) -> list[tuple]:
    return list(
        Invoice.objects.filter(contract=contract)
        .order_by("period_start")
        .values_list("period_start", "period_end", "minutes", "rate_cents", "amount_cents")
    )


@pytest.mark.django_db
def test_the_week_of_the_acceptance_is_billed_at_the_old_rate_and_the_next_week_at_the_new(raised):
    with at(datetime(2026, 3, 16, 12, 0, tzinfo=UTC)):
        first = services.contract_invoice_week(contract_id=raised.pk, monday=WEEK_1)
    with at(datetime(2026, 3, 23, 12, 0, tzinfo=UTC)):
        second = services.contract_invoice_week(contract_id=raised.pk, monday=WEEK_2)

    assert invoices(raised) == [
        (date(2026, 3, 11), date(2026, 3, 11), 120, 50_00, 100_00),
        (WEEK_2, WEEK_2, 180, 60_00, 180_00),
    ]
    assert (first.payment.amount_cents, second.payment.amount_cents) == (100_00, 180_00)
    assert not DiaryEntry.objects.filter(contract=raised, invoice__isnull=True).exists()
    assert_ledger_balanced()


@pytest.mark.django_db
def test_an_end_before_last_week_is_invoiced_bills_each_week_at_its_rate_in_the_final_invoice(raised, clara):
    with at(MONDAY_MORNING + timedelta(hours=1)):
        plan = services.contract_end_preview(contract=raised, by=clara)
        assert (plan.unbilled_minutes, plan.unbilled_cents, plan.unbilled_rates) == (300, 280_00, (50_00, 60_00))
        services.contract_end(contract=raised, by=clara, reason="completed")

    assert invoices(raised) == [
        (date(2026, 3, 11), date(2026, 3, 11), 120, 50_00, 100_00),
        (WEEK_2, WEEK_2, 180, 60_00, 180_00),
    ]
    keys = sorted(Payment.objects.filter(contract=raised).values_list("ledger_transaction__idempotency_key", flat=True))
    assert keys == [
        f"contract:{raised.pk}:final-invoice",
        f"contract:{raised.pk}:final-invoice:week-of:2026-03-09",
    ]
    # The client paid both weeks and the 5% fee on each; the freelancer got each less 10%.
    assert balances(raised)["client"] == -(280_00 + 5_00 + 9_00)
    assert balances(raised)["earnings"] == 90_00 + 162_00
    assert_ledger_balanced()
    with at(datetime(2026, 3, 16, 12, 0, tzinfo=UTC)), pytest.raises(DomainError):
        services.contract_invoice_week(contract_id=raised.pk, monday=WEEK_1)
    assert Invoice.objects.filter(contract=raised).count() == 2


@pytest.mark.django_db
def test_the_end_preview_names_the_rate_of_each_week_it_bills(raised, clara, client):
    client.force_login(clara)
    with at(MONDAY_MORNING + timedelta(hours=1)):
        page = text(client.get(reverse("contract_end", args=[raised.pk])))

    assert "Hours billed: 5:00 h at $50.00/h then $60.00/h (each week at its rate) = $280.00" in page


@pytest.mark.django_db
def test_without_a_rate_change_the_final_invoice_of_two_weeks_is_one_invoice_a_week(clara, felix):
    with at(WEDNESDAY):
        contract = HourlyContractFactory(client=clara, freelancer=felix, started_at=WEDNESDAY - timedelta(days=30))
        services.diary_entry_add(contract=contract, by=felix, work_date=date(2026, 3, 11), minutes=60, memo="A")
    with at(MONDAY_MORNING):
        services.diary_entry_add(contract=contract, by=felix, work_date=WEEK_2, minutes=30, memo="B")
        services.contract_end(contract=contract, by=felix, reason="completed")

    assert invoices(contract) == [
        (date(2026, 3, 11), date(2026, 3, 11), 60, 50_00, 50_00),
        (WEEK_2, WEEK_2, 30, 50_00, 25_00),
    ]


@pytest.mark.django_db
def test_the_diary_summary_prices_unbilled_time_week_by_week(raised):
    with at(MONDAY_MORNING):
        summary = diary_summary(raised)

    assert (summary.unbilled_minutes, summary.unbilled_cents) == (300, 100_00 + 180_00)


@pytest.mark.django_db
def test_a_rate_proposed_but_not_accepted_bills_nothing_at_it(clara, felix):
    with at(WEDNESDAY):
        contract = HourlyContractFactory(client=clara, freelancer=felix, started_at=WEDNESDAY - timedelta(days=30))
        services.rate_change_propose(contract=contract, by=felix, rate_cents=90_00)
    with at(MONDAY_MORNING):
        services.diary_entry_add(contract=contract, by=felix, work_date=WEEK_2, minutes=60, memo="A")
        services.contract_end(contract=contract, by=clara, reason="completed")

    assert invoices(contract) == [(WEEK_2, WEEK_2, 60, 50_00, 50_00)]


# Races between real threads (PostgreSQL row locks): one outcome, never a rate twice.


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_both_parties_proposing_at_once_leaves_exactly_one_proposal_waiting():
    for _ in range(ROUNDS):
        contract = HourlyContractFactory()
        outcomes = race(
            client=lambda c=contract: services.rate_change_propose(contract=c, by=c.client, rate_cents=55_00),
            freelancer=lambda c=contract: services.rate_change_propose(contract=c, by=c.freelancer, rate_cents=65_00),
        )
        assert sorted(outcome.ok for outcome in outcomes.values()) == [False, True], outcomes
        refused = next(outcome.error for outcome in outcomes.values() if not outcome.ok)
        assert isinstance(refused, DomainError) and "still waiting for an answer" in refused.message
        assert RateChangeProposal.objects.filter(contract=contract, state="proposed").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_accepting_while_the_proposer_withdraws_has_one_outcome_and_at_most_one_rate():
    for _ in range(ROUNDS):
        contract = HourlyContractFactory()
        proposal = services.rate_change_propose(contract=contract, by=contract.freelancer, rate_cents=65_00)
        outcomes = race(
            accept=lambda p=proposal, c=contract: services.rate_change_accept(proposal=p, by=c.client),
            withdraw=lambda p=proposal, c=contract: services.rate_change_withdraw(proposal=p, by=c.freelancer),
        )
        assert sorted(outcome.ok for outcome in outcomes.values()) == [False, True], outcomes
        state = RateChangeProposal.objects.get(pk=proposal.pk).state
        assert state == ("accepted" if outcomes["accept"].ok else "withdrawn")
        assert RateChange.objects.filter(contract=contract).count() == (1 if outcomes["accept"].ok else 0)
        assert StateChange.objects.filter(subject="rate change", subject_id=proposal.pk).count() == 2

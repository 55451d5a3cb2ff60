"""Each page runs a fixed number of SQL queries, whatever the amount of data behind it.

Every test builds a small and a large version of the same data for two different
users, counts the queries of the small page (after one warm-up request), and then
requires the large page to run exactly as many: one more query per row would be an
N+1 query in a view, selector or template."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.models import Payment
from billing.services.invoices import invoice_unbilled_time
from billing.services.payments import charge_client_and_pay_freelancer
from billing.services.refunds import refund_create
from contracts import services
from contracts.services import MilestoneChoice, MilestoneDecision
from tests.factories import (
    DiaryEntryFactory,
    FixedContractFactory,
    HourlyContractFactory,
    MilestoneFactory,
    UserFactory,
)
from tests.fixtures.pages import browser_for


def small_page_queries(browser, url: str) -> int:
    """Queries of one GET of ``url``, measured after a warm-up request."""
    assert browser.get(url).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = browser.get(url)
    assert response.status_code == 200
    return len(captured)


def assert_same_queries_for_large_page(django_assert_max_num_queries, browser, url: str, expected: int):
    browser.get(url)
    with django_assert_max_num_queries(expected) as captured:
        response = browser.get(url)
    assert response.status_code == 200
    assert len(captured) == expected, "the large page runs more queries than the small one"
    return response


# Data builders.


def diary_entries(contract, count: int, *, invoice_every: int = 0, refund_cents: int = 0) -> None:
    """``count`` entries on consecutive days back from today; with ``invoice_every``,
    the oldest are invoiced in groups of that many, and each invoice's payment partly
    refunded."""
    today = timezone.now().date()
    days = sorted(today - timedelta(days=back) for back in range(count))
    for position, day in enumerate(days, start=1):
        DiaryEntryFactory(contract=contract, work_date=day, minutes=30 + position, memo=f"Work of {day}")
        if invoice_every and position % invoice_every == 0 and position < count:
            with transaction.atomic():
                invoice = invoice_unbilled_time(
                    contract=contract, key=f"invoice:{contract.pk}:{position}", at=timezone.now(), through=day
                )
            if refund_cents:
                refund_create(
                    payment=invoice.payment,
                    by=contract.freelancer,
                    amount_cents=refund_cents,
                    idempotency_key=f"refund:{invoice.pk}",
                )


def pause_and_resume(contract, times: int) -> None:
    for _ in range(times):
        services.contract_pause(contract=contract, by=contract.client, reason="Holiday")
        services.contract_resume(contract=contract, by=contract.client)


def milestones_with_payments(contract, count: int) -> list:
    """``count`` milestones: a third not funded, a third funded, a third partly paid
    with part of the payment refunded."""
    milestones = []
    for position in range(1, count + 1):
        milestone = MilestoneFactory(
            contract=contract, position=position, title=f"Milestone {position}", amount_cents=100_00
        )
        milestones.append(milestone)
        if position % 3 == 1:
            continue
        services.milestone_fund(milestone=milestone, by=contract.client)
        if position % 3 == 0:
            payment = services.milestone_release(
                milestone=milestone, by=contract.client, amount_cents=40_00, idempotency_key=f"part-{position}"
            )
            refund_create(
                payment=payment, by=contract.freelancer, amount_cents=5_00, idempotency_key=f"refund-{payment.pk}"
            )
    return milestones


def end_paying_nothing(contract) -> None:
    funded = contract.milestones.filter(state__in=("funded", "submitted"))
    services.contract_end(
        contract=contract,
        by=contract.client,
        reason="unsuccessful",
        milestone_decisions={m.pk: MilestoneDecision(MilestoneChoice.PAY_NOTHING) for m in funded},
    )


def jobs(freelancer, count: int) -> None:
    now = timezone.now()
    for number in range(count):
        started_at = now - timedelta(days=number, hours=1)
        if number % 2:
            contract = FixedContractFactory(freelancer=freelancer, started_at=started_at)
            milestone = MilestoneFactory(contract=contract, amount_cents=50_00)
            services.milestone_fund(milestone=milestone, by=contract.client)
        else:
            contract = HourlyContractFactory(freelancer=freelancer, started_at=started_at)
            DiaryEntryFactory(contract=contract, work_date=now.date(), minutes=45)


def payments_with_refunds(freelancer, count: int) -> list[Payment]:
    """``count`` payments to ``freelancer``, each on its own contract and partly
    refunded; every fourth one is older than the refund window."""
    now = timezone.now()
    payments = []
    for number in range(count):
        if number % 2:
            contract = FixedContractFactory(freelancer=freelancer)
            milestone = MilestoneFactory(contract=contract, amount_cents=120_00)
            services.milestone_fund(milestone=milestone, by=contract.client)
            payment = services.milestone_release(milestone=milestone, by=contract.client)
        else:
            contract = HourlyContractFactory(freelancer=freelancer)
            paid_at = now - timedelta(days=200 if number % 4 == 0 else number)
            with transaction.atomic():
                payment = charge_client_and_pay_freelancer(
                    contract=contract, amount_cents=80_00, key=f"hours:{contract.pk}", at=paid_at, memo="Hours"
                )
        if payment.paid_at > now - timedelta(days=180):
            refund_create(payment=payment, by=freelancer, amount_cents=10_00, idempotency_key=f"r:{payment.pk}")
        payments.append(payment)
    return payments


# The pages.


@pytest.mark.django_db
def test_my_jobs_runs_the_same_queries_for_3_and_30_contracts(django_assert_max_num_queries):
    few, many = UserFactory(), UserFactory()
    jobs(few, 3)
    jobs(many, 30)
    url = reverse("my_jobs")

    expected = small_page_queries(browser_for(few), url)
    first_page = assert_same_queries_for_large_page(django_assert_max_num_queries, browser_for(many), url, expected)
    second_page = assert_same_queries_for_large_page(
        django_assert_max_num_queries, browser_for(many), f"{url}?page=2", expected
    )

    assert len(first_page.context["page"].object_list) == 20
    assert len(second_page.context["page"].object_list) == 10


@pytest.mark.django_db
def test_hourly_contract_page_runs_the_same_queries_for_5_and_60_diary_entries(django_assert_max_num_queries):
    small = HourlyContractFactory(started_at=timezone.now() - timedelta(days=90))
    large = HourlyContractFactory(started_at=timezone.now() - timedelta(days=90))
    diary_entries(small, 5, invoice_every=3, refund_cents=1_00)
    diary_entries(large, 60, invoice_every=3, refund_cents=1_00)
    pause_and_resume(small, 1)
    pause_and_resume(large, 12)

    for party in ("client", "freelancer"):
        expected = small_page_queries(browser_for(getattr(small, party)), reverse("contract_detail", args=[small.pk]))
        response = assert_same_queries_for_large_page(
            django_assert_max_num_queries,
            browser_for(getattr(large, party)),
            reverse("contract_detail", args=[large.pk]),
            expected,
        )
        # Groups of 3 days are invoiced one billing week per invoice: 19 groups, some across a Monday.
        invoices = min(large.invoices.count(), 20)
        assert invoices >= 19
        assert len(response.context["invoices"]) == invoices
        assert len(response.context["payments"]) == invoices
        assert len(response.context["history"]) == 24


@pytest.mark.django_db
def test_ended_hourly_contract_page_runs_the_same_queries_for_5_and_60_diary_entries(django_assert_max_num_queries):
    small = HourlyContractFactory(started_at=timezone.now() - timedelta(days=90))
    large = HourlyContractFactory(started_at=timezone.now() - timedelta(days=90))
    diary_entries(small, 5, invoice_every=2)
    diary_entries(large, 60, invoice_every=2)
    for contract in (small, large):
        services.contract_end(contract=contract, by=contract.freelancer, reason="completed")

    expected = small_page_queries(browser_for(small.freelancer), reverse("contract_detail", args=[small.pk]))
    assert_same_queries_for_large_page(
        django_assert_max_num_queries,
        browser_for(large.freelancer),
        reverse("contract_detail", args=[large.pk]),
        expected,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("ended", [False, True], ids=["open", "ended-by-client"])
def test_fixed_contract_page_runs_the_same_queries_for_3_and_21_milestones_with_payments_and_refunds(
    django_assert_max_num_queries, ended
):
    small, large = FixedContractFactory(), FixedContractFactory()
    milestones_with_payments(small, 3)
    milestones_with_payments(large, 21)
    if ended:
        end_paying_nothing(small)
        end_paying_nothing(large)

    for party in ("client", "freelancer"):
        expected = small_page_queries(browser_for(getattr(small, party)), reverse("contract_detail", args=[small.pk]))
        response = assert_same_queries_for_large_page(
            django_assert_max_num_queries,
            browser_for(getattr(large, party)),
            reverse("contract_detail", args=[large.pk]),
            expected,
        )
        assert len(response.context["milestones"]) == 21
        assert len(response.context["payments"]) == 7
        assert len(response.context["refund_requests"]) == (14 if ended else 0)


@pytest.mark.django_db
def test_diary_page_runs_the_same_queries_for_5_and_60_entries(django_assert_max_num_queries):
    small = HourlyContractFactory(started_at=timezone.now() - timedelta(days=90))
    large = HourlyContractFactory(started_at=timezone.now() - timedelta(days=90))
    diary_entries(small, 5, invoice_every=2)
    diary_entries(large, 60, invoice_every=2)

    expected = small_page_queries(browser_for(small.freelancer), reverse("diary", args=[small.pk]))
    response = assert_same_queries_for_large_page(
        django_assert_max_num_queries, browser_for(large.freelancer), reverse("diary", args=[large.pk]), expected
    )

    assert len(response.context["page"].object_list) == 50


@pytest.mark.django_db
def test_refunds_page_runs_the_same_queries_for_2_and_20_payments_with_refunds(django_assert_max_num_queries):
    few, many = UserFactory(), UserFactory()
    payments_with_refunds(few, 2)
    payments_with_refunds(many, 20)
    url = reverse("refunds")

    expected = small_page_queries(browser_for(few), url)
    response = assert_same_queries_for_large_page(django_assert_max_num_queries, browser_for(many), url, expected)

    rows = response.context["rows"]
    assert len(rows) == 20
    assert sum(1 for row in rows if row["form"] is None) == 5

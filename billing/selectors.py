from dataclasses import dataclass
from datetime import date

from django.db.models import Case, Count, IntegerField, OuterRef, Prefetch, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce

from contracts.models import DiaryEntry, hourly_rates, week_start

from .models import (
    EscrowMovement,
    EscrowMovementKind,
    Invoice,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Payment,
    Refund,
)
from .money import hourly_amount_cents
from .refund_window import oldest_refundable_paid_at


def account_balance_cents(account: LedgerAccount) -> int:
    return LedgerEntry.objects.filter(account=account).aggregate(total=Coalesce(Sum("amount_cents"), 0))["total"]


def refunded_cents(payment: Payment) -> int:
    return Refund.objects.filter(payment=payment).aggregate(total=Coalesce(Sum("amount_cents"), 0))["total"]


def refund_totals(payment: Payment) -> dict[str, int]:
    return Refund.objects.filter(payment=payment).aggregate(
        amount=Coalesce(Sum("amount_cents"), 0),
        freelancer_fee=Coalesce(Sum("freelancer_fee_returned_cents"), 0),
        client_fee=Coalesce(Sum("client_fee_returned_cents"), 0),
    )


def escrow_totals(milestone) -> dict[str, int]:
    """Funded, released and returned cents of a milestone, the fee charged with the
    funding, and the share of that fee already carried by releases and returns."""
    totals = EscrowMovement.objects.filter(milestone=milestone).aggregate(
        funded=Coalesce(Sum("amount_cents", filter=Q(kind=EscrowMovementKind.FUND)), 0),
        released=Coalesce(Sum("amount_cents", filter=Q(kind=EscrowMovementKind.RELEASE)), 0),
        returned=Coalesce(Sum("amount_cents", filter=Q(kind=EscrowMovementKind.RETURN)), 0),
        fee_charged=Coalesce(Sum("client_fee_cents", filter=Q(kind=EscrowMovementKind.FUND)), 0),
        fee_allocated=Coalesce(Sum("client_fee_cents", filter=~Q(kind=EscrowMovementKind.FUND)), 0),
    )
    totals["held"] = totals["funded"] - totals["released"] - totals["returned"]
    return totals


def escrow_held_cents(milestone) -> int:
    return escrow_totals(milestone)["held"]


def escrow_held_by_milestone(contract) -> dict[int, int]:
    """Cents held in escrow for each milestone of a contract, in one query."""
    rows = (
        EscrowMovement.objects.filter(milestone__contract=contract)
        .values("milestone_id")
        .annotate(
            funded=Coalesce(Sum("amount_cents", filter=Q(kind=EscrowMovementKind.FUND)), 0),
            paid_out=Coalesce(Sum("amount_cents", filter=~Q(kind=EscrowMovementKind.FUND)), 0),
        )
    )
    return {row["milestone_id"]: row["funded"] - row["paid_out"] for row in rows}


def balance_of(code: str) -> int:
    """Balance of the account with this code; 0 for an account never used."""
    account = LedgerAccount.objects.filter(code=code).first()
    return 0 if account is None else account_balance_cents(account)


def unbalanced_transactions() -> list[tuple[str, int, int]]:
    """(key, sum, entry count) of every ledger transaction that does not sum to zero
    or has fewer than two entries: empty when the ledger is sound."""
    totals = LedgerTransaction.objects.annotate(
        total=Coalesce(Sum("entries__amount_cents"), 0), lines=Count("entries")
    ).filter(Q(lines__lt=2) | ~Q(total=0))
    return list(totals.values_list("idempotency_key", "total", "lines"))


def contract_payments(contract):
    """The contract's payments, newest first, with what was refunded and each refund
    with its reason (``refund_list``, oldest first; the reason is the freelancer's word
    to the client, shown to both parties): a queryset the contract page shows one page
    of at a time, the refunds of the page's payments read in one query."""
    # A correlated subquery, not a join and GROUP BY: only the page's rows sum their
    # refunds, and the count of the paginator needs no join at all.
    refunded = Subquery(
        Refund.objects.filter(payment=OuterRef("pk"))
        .order_by()
        .values("payment")
        .annotate(total=Sum("amount_cents"))
        .values("total")[:1],
        output_field=IntegerField(),
    )
    refunds = Refund.objects.only("payment", "amount_cents", "reason", "created_at").order_by("created_at", "id")
    return (
        Payment.objects.filter(contract=contract)
        .annotate(refunded_cents=Coalesce(refunded, Value(0)))
        .select_related("milestone")
        .prefetch_related(Prefetch("refunds", queryset=refunds, to_attr="refund_list"))
        .order_by("-paid_at", "-id")
    )


# Hourly time not invoiced yet, week by week at the rate in force that week.


@dataclass(frozen=True)
class UnbilledWeek:
    monday: date
    first_day: date
    last_day: date
    minutes: int
    rate_cents: int

    @property
    def amount_cents(self) -> int:
        return hourly_amount_cents(self.minutes, self.rate_cents)


def unbilled_entries(contract, *, through: date | None = None):
    entries = DiaryEntry.objects.filter(contract=contract, invoice__isnull=True)
    if through is not None:
        entries = entries.filter(work_date__lte=through)
    return entries


def unbilled_weeks(contract, *, through: date | None = None) -> list[UnbilledWeek]:
    """The unbilled time (up to ``through``) week by week, oldest first, each with the
    rate in force that week."""
    days = (
        unbilled_entries(contract, through=through)
        .order_by()
        .values("work_date")
        .annotate(minutes=Sum("minutes"))
        .values_list("work_date", "minutes")
    )
    by_week: dict[date, list[tuple[date, int]]] = {}
    for work_date, minutes in days:
        by_week.setdefault(week_start(work_date), []).append((work_date, minutes))
    if not by_week:
        return []
    rates = hourly_rates(contract)
    return [
        UnbilledWeek(
            monday=monday,
            first_day=min(day for day, _ in week),
            last_day=max(day for day, _ in week),
            minutes=sum(minutes for _, minutes in week),
            rate_cents=rates.for_week(monday) or 0,
        )
        for monday, week in sorted(by_week.items())
    ]


def contract_invoices(contract):
    return Invoice.objects.filter(contract=contract).order_by("-issued_at", "-id")


def refundable_payments(freelancer, *, now=None):
    """The freelancer's payments, newest first, with what has been refunded, and
    whether each is still inside the refund window."""
    oldest_refundable = oldest_refundable_paid_at(now)
    return (
        Payment.objects.filter(freelancer=freelancer)
        .select_related("contract", "client")
        .annotate(
            refunded_cents=Coalesce(Sum("refunds__amount_cents"), Value(0)),
            in_window=Case(When(paid_at__gte=oldest_refundable, then=Value(True)), default=Value(False)),
        )
        .order_by("-paid_at", "-id")
    )

"""Read-side queries for the portal's pages: a fixed number of SQL queries per page,
whatever the number of contracts, diary entries, milestones or payments."""

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.models import EscrowMovement, EscrowMovementKind, Invoice
from billing.selectors import escrow_held_by_milestone, unbilled_weeks

from .models import (
    ChecklistItem,
    Contract,
    ContractState,
    DiaryEntry,
    EndReason,
    RateChange,
    RateChangeProposal,
    RateChangeState,
    StateChange,
    TermSchedule,
    WeeklyLimitChange,
    next_billing_week,
    week_start,
)
from .models.rules import declared_transitions

# Transitions whose reason is the private reason for ending (``private_reason``).
PRIVATE_REASON_TRANSITIONS = {
    name for name, declared in declared_transitions(Contract).items() if declared.get("private_reason")
}


def my_jobs(user, *, status: str = "active"):
    """The user's contracts as client or freelancer, newest first, with the minutes
    recorded this week (hourly) and the escrow held (fixed-price) annotated."""
    monday = week_start(timezone.now().date())
    minutes_this_week = Subquery(
        DiaryEntry.objects.filter(contract=OuterRef("pk"), work_date__gte=monday)
        .order_by()
        .values("contract")
        .annotate(total=Sum("minutes"))
        .values("total")[:1],
        output_field=IntegerField(),
    )
    escrow_held = Subquery(
        EscrowMovement.objects.filter(milestone__contract=OuterRef("pk"))
        .order_by()
        .values("milestone__contract")
        .annotate(
            total=Sum(
                Case(
                    When(kind=EscrowMovementKind.FUND, then=F("amount_cents")),
                    default=-F("amount_cents"),
                )
            )
        )
        .values("total")[:1],
        output_field=IntegerField(),
    )
    # The parties are prefetched for the page's rows rather than joined: joined, the
    # planner hashes the whole user table twice before it sorts and cuts the page
    # (docs/benchmarks.md, My Jobs of a user with 500 contracts).
    contracts = (
        Contract.objects.filter(Q(client=user) | Q(freelancer=user))
        .prefetch_related("client", "freelancer")
        .annotate(
            minutes_this_week=Coalesce(minutes_this_week, Value(0)),
            escrow_held_cents=Coalesce(escrow_held, Value(0)),
        )
        .order_by("-started_at", "-id")
    )
    if status == "active":
        contracts = contracts.exclude(state=ContractState.ENDED)
    elif status == "ended":
        contracts = contracts.filter(state=ContractState.ENDED)
    return contracts


def portal_overview() -> dict[str, int]:
    return Contract.objects.aggregate(
        total=Count("id"),
        open=Count("id", filter=~Q(state=ContractState.ENDED)),
        ended=Count("id", filter=Q(state=ContractState.ENDED)),
    )


def job_counts(user) -> dict[str, int]:
    return Contract.objects.filter(Q(client=user) | Q(freelancer=user)).aggregate(
        active=Count("id", filter=~Q(state=ContractState.ENDED)),
        ended=Count("id", filter=Q(state=ContractState.ENDED)),
    )


@dataclass(frozen=True)
class DiarySummary:
    minutes_this_week: int
    unbilled_minutes: int
    unbilled_cents: int
    total_minutes: int
    entries: list


def _sum_of(queryset, field: str):
    """The sum of ``field`` over ``queryset`` (rows of one contract) as a subquery, 0 when empty."""
    total = Subquery(
        queryset.order_by().values("contract").annotate(total=Sum(field)).values("total")[:1],
        output_field=IntegerField(),
    )
    return Coalesce(total, Value(0))


def diary_summary(contract: Contract, *, recent: int = 10) -> DiarySummary:
    monday = week_start(timezone.now().date())
    # One query of three sums, each on its own index: this week's entries, the unbilled
    # ones, and the invoices, whose minutes are those of the entries they billed (every
    # billed entry is on exactly one invoice and neither ever changes). Summing the
    # whole diary instead read every entry of a diary of years (docs/benchmarks.md).
    totals = (
        Contract.objects.filter(pk=contract.pk)
        .annotate(
            this_week=_sum_of(DiaryEntry.objects.filter(contract=OuterRef("pk"), work_date__gte=monday), "minutes"),
            unbilled=_sum_of(DiaryEntry.objects.filter(contract=OuterRef("pk"), invoice__isnull=True), "minutes"),
            invoiced=_sum_of(Invoice.objects.filter(contract=OuterRef("pk")), "minutes"),
        )
        .values("this_week", "unbilled", "invoiced")
        .get()
    )
    totals["total"] = totals["unbilled"] + totals["invoiced"]
    entries = list(DiaryEntry.objects.filter(contract=contract).order_by("-work_date", "-id")[:recent])
    for entry in entries:
        entry.contract = contract
    return DiarySummary(
        minutes_this_week=totals["this_week"],
        unbilled_minutes=totals["unbilled"],
        unbilled_cents=sum(week.amount_cents for week in unbilled_weeks(contract)),
        total_minutes=totals["total"],
        entries=entries,
    )


def contract_history(contract: Contract, viewer) -> list[StateChange]:
    """The transition log as the viewer may see it: the private reason for ending is
    shown only to the person who gave it."""
    changes = list(StateChange.objects.filter(contract=contract).select_related("actor").order_by("created_at", "id"))
    for change in changes:
        change.visible_reason = change.reason
        if change.transition in PRIVATE_REASON_TRANSITIONS:
            is_own = change.actor_id == viewer.pk and change.reason in EndReason.values
            change.visible_reason = f"private reason: {EndReason(change.reason).label}" if is_own else ""
    return changes


# Rows of a contract's payments and invoices (``billing.selectors.contract_payments``
# and ``contract_invoices``) shown per page of the contract page: a contract of several
# years has hundreds of each, and rendering them all made the page several times
# slower than the rest of the portal (docs/benchmarks.md).
CONTRACT_PAGE_ROWS = 20


def contract_milestones(contract: Contract):
    held = escrow_held_by_milestone(contract)
    milestones = list(contract.milestones.order_by("position", "id"))
    for milestone in milestones:
        milestone.contract = contract
        milestone.held_cents = held.get(milestone.pk, 0)
    return milestones


def contract_refund_requests(contract: Contract):
    requests = list(contract.refund_requests.select_related("milestone").order_by("-created_at"))
    for request in requests:
        request.contract = contract
        request.milestone.contract = contract
    return requests


@dataclass(frozen=True)
class ClosureChecklists:
    mine: list
    theirs_done: int
    theirs_total: int


def closure_checklists(contract: Contract, viewer) -> ClosureChecklists | None:
    """The viewer's closure checklist and the other party's progress on theirs."""
    if contract.is_open:
        return None
    items = list(ChecklistItem.objects.filter(contract=contract).order_by("user_id", "position"))
    theirs = [item for item in items if item.user_id != viewer.pk]
    return ClosureChecklists(
        mine=[item for item in items if item.user_id == viewer.pk],
        theirs_done=sum(1 for item in theirs if item.done_at),
        theirs_total=len(theirs),
    )


@dataclass(frozen=True)
class TermChange:
    """A rate or weekly limit decided during the contract, for the weeks from ``effective_from`` on."""

    effective_from: date
    term: str  # "rate" or "limit"
    value: int | None
    decided_at: datetime
    decided_by: object


@dataclass(frozen=True)
class HourlyTerms:
    """An hourly contract's rate and weekly limit as they stand: this billing week's,
    the next one's where a change was decided, every change made, the proposal of a
    new rate waiting for an answer, and the week a change made now would apply from."""

    rate_cents: int
    upcoming_rate: tuple[date, int] | None
    limit: int | None
    upcoming_limit: tuple[date, int | None] | None
    changes: list[TermChange]
    proposal: RateChangeProposal | None
    next_week: date


def hourly_terms(contract: Contract, *, at: datetime | None = None) -> HourlyTerms:
    at = at or timezone.now()
    limits = list(WeeklyLimitChange.objects.filter(contract=contract).select_related("changed_by").order_by("id"))
    rates = list(RateChange.objects.filter(contract=contract).select_related("proposal__proposed_by").order_by("id"))
    limit_schedule = TermSchedule(contract.weekly_hour_limit, tuple((c.effective_from, c.hours) for c in limits))
    rate_schedule = TermSchedule(contract.hourly_rate_cents, tuple((c.effective_from, c.rate_cents) for c in rates))
    changes = [TermChange(c.effective_from, "limit", c.hours, c.created_at, c.changed_by) for c in limits]
    changes += [TermChange(c.effective_from, "rate", c.rate_cents, c.created_at, c.proposal.proposed_by) for c in rates]
    proposal = (
        RateChangeProposal.objects.filter(contract=contract, state=RateChangeState.PROPOSED)
        .select_related("proposed_by")
        .first()
    )
    if proposal is not None:
        proposal.contract = contract
    return HourlyTerms(
        rate_cents=rate_schedule.for_moment(at),
        upcoming_rate=rate_schedule.upcoming(at),
        limit=limit_schedule.for_moment(at),
        upcoming_limit=limit_schedule.upcoming(at),
        changes=sorted(changes, key=lambda change: (change.decided_at, change.term), reverse=True),
        proposal=proposal,
        next_week=next_billing_week(at),
    )

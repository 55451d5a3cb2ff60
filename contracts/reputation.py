"""Feedback as others see it: what is visible to whom, the value-weighted score,
and the public profile. Every figure is aggregated in the database."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.models import Payment, Refund

from .models import Contract, ContractState, EndKind, Feedback
from .services.feedback import criteria_for, feedback_closes_at, feedback_refusal


def net_paid_cents(contract_ref: str = "contract"):
    """What a contract's payments came to after refunds, as an SQL expression."""
    paid = (
        Payment.objects.filter(contract=OuterRef(contract_ref))
        .order_by()
        .values("contract")
        .annotate(total=Sum("amount_cents"))
        .values("total")[:1]
    )
    refunded = (
        Refund.objects.filter(payment__contract=OuterRef(contract_ref))
        .order_by()
        .values("payment__contract")
        .annotate(total=Sum("amount_cents"))
        .values("total")[:1]
    )
    return Coalesce(Subquery(paid, output_field=IntegerField()), Value(0)) - Coalesce(
        Subquery(refunded, output_field=IntegerField()), Value(0)
    )


def scored_feedback(user):
    """Revealed feedback the user received on contracts that paid at least $1, each
    weighted by what its contract paid: the feedback a score rests on."""
    return (
        Feedback.objects.filter(recipient=user, revealed_at__isnull=False)
        .annotate(weight=net_paid_cents())
        .filter(weight__gte=settings.PUBLIC_FEEDBACK_MIN_NET_CENTS)
    )


@dataclass(frozen=True)
class Score:
    hundredths: int | None
    contracts: int

    @property
    def display(self) -> str:
        return "No feedback yet" if self.hundredths is None else f"{self.hundredths / 100:.2f}"


def feedback_score(user) -> Score:
    """The average of revealed overall ratings, weighted by each contract's value
    (net payments): a $5,000 contract says more about someone than a $10 one. A
    mutual, no-fault end changes nothing unless feedback was left on it."""
    # Grouped by recipient rather than .aggregate(): Django mis-nests the weight's
    # subqueries when several aggregates of an annotation share one query.
    totals = (
        scored_feedback(user)
        .order_by()
        .values("recipient")
        .annotate(weighted=Sum(F("overall_hundredths") * F("weight")), weight_sum=Sum("weight"), contracts=Count("id"))
        .values("weighted", "weight_sum", "contracts")
        .order_by("recipient")
        .first()
    )
    if not totals or not totals["weight_sum"]:
        return Score(None, 0)
    totals["weight"] = totals["weight_sum"]
    return Score((2 * totals["weighted"] + totals["weight"]) // (2 * totals["weight"]), totals["contracts"])


@dataclass(frozen=True)
class ContractFeedback:
    closes_at: datetime | None
    refusal: str | None
    mine: Feedback | None
    theirs: Feedback | None
    theirs_hidden: bool
    public: bool
    criteria: tuple

    @property
    def can_leave(self) -> bool:
        return self.refusal is None


def contract_feedback(contract: Contract, viewer) -> ContractFeedback | None:
    """The feedback section of a contract page: one's own feedback, and the other's
    only once revealed. Until then the viewer learns only that it exists."""
    if contract.is_open:
        return None
    rows = list(Feedback.objects.filter(contract=contract).select_related("response").annotate(net=net_paid_cents()))
    mine = next((row for row in rows if row.author_id == viewer.pk), None)
    theirs = next((row for row in rows if row.author_id != viewer.pk), None)
    window_closed = timezone.now() >= feedback_closes_at(contract)
    hidden = theirs is not None and theirs.revealed_at is None and not window_closed
    net = rows[0].net if rows else None
    return ContractFeedback(
        closes_at=feedback_closes_at(contract),
        refusal=feedback_refusal(contract, viewer) if mine is None else "You have left your feedback.",
        mine=mine,
        theirs=None if hidden else theirs,
        theirs_hidden=hidden,
        public=net is not None and net >= settings.PUBLIC_FEEDBACK_MIN_NET_CENTS,
        criteria=criteria_for(contract, viewer),
    )


@dataclass(frozen=True)
class Profile:
    person: object
    score: Score
    contracts: int
    feedback: list
    no_fault_ends: int
    chart_points: str


def _chart(rows) -> str:
    """SVG polyline points of the score after each revealed feedback (240×80 box)."""
    weighted = weight = 0
    scores = []
    for overall, row_weight in rows:
        weighted += overall * row_weight
        weight += row_weight
        scores.append(weighted / weight)
    if not scores:
        return ""
    if len(scores) == 1:
        scores = scores * 2
    step = 240 / (len(scores) - 1)
    return " ".join(f"{index * step:.1f},{80 - (score - 100) / 400 * 80:.1f}" for index, score in enumerate(scores))


def public_profile(username: str) -> Profile | None:
    person = get_user_model().objects.filter(username=username, is_active=True).first()
    if person is None:
        return None
    score = feedback_score(person)
    counts = Contract.objects.filter(Q(client=person) | Q(freelancer=person)).aggregate(
        total=Count("id"),
        no_fault=Count("id", filter=Q(state=ContractState.ENDED, end_kind=EndKind.MUTUAL)),
    )
    feedback = list(
        scored_feedback(person).select_related("author", "contract", "response").order_by("-revealed_at", "-id")[:50]
    )
    history = list(scored_feedback(person).order_by("revealed_at", "id").values_list("overall_hundredths", "weight"))
    return Profile(
        person=person,
        score=score,
        contracts=counts["total"],
        feedback=feedback,
        no_fault_ends=counts["no_fault"],
        chart_points=_chart(history),
    )

"""Terms that change during a contract, each change a new row: the weekly limit the
client sets, and the hourly rate both parties agree on. The terms agreed at the start
stay on the contract (frozen there); the rows say what applies from which billing
week (Monday 00:00 to Sunday 23:59 UTC), and ``TermSchedule`` reads a term week by
week from the two together.

A change applies from the next billing week, never the current one: the week in
progress is recorded and billed on the terms it started with. A weekly limit is the
client's to change (``WeeklyLimitChange``); a new rate is proposed by either party
and applies only once the other accepts (``RateChangeProposal``, whose acceptance
writes the ``RateChange`` that billing reads). A proposal not answered within
``RATE_CHANGE_EXPIRY_DAYS`` lapses, like a proposal to end the contract.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField

from contracts_portal.append_only import AppendOnlyModel
from contracts_portal.db_guards import frozen_columns

from ..effects import BOTH_PARTIES, FREELANCER, OTHER_PARTY, DetectText, Email, Notify, Recorded, Schedule
from .diary import week_start
from .milestone import Milestone
from .rules import TransitionRulesMixin, rule, system_only, transition


def next_billing_week(at: datetime) -> date:
    """The Monday of the billing week after the one holding the moment ``at``: when a
    change made at ``at`` takes effect."""
    return week_start(at.astimezone(UTC).date()) + timedelta(days=7)


def describe_limit(hours: int | None) -> str:
    return "no limit" if hours is None else f"{hours} hour{'s' if hours != 1 else ''} a week"


def describe_week(monday: date) -> str:
    return f"{monday:%a %b} {monday.day}, {monday.year}"


class WeeklyLimitChange(AppendOnlyModel):
    """The client set a new weekly limit (``hours``; empty for no limit) for the
    billing weeks from ``effective_from`` on."""

    contract = models.ForeignKey("contracts.Contract", on_delete=models.PROTECT, related_name="weekly_limit_changes")
    hours = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty for no limit.")
    effective_from = models.DateField(help_text="The Monday of the first billing week it applies to.")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("contract", "effective_from", "id")
        indexes = [models.Index(fields=["contract", "effective_from"], name="weekly_limit_contract_week")]
        constraints = [
            models.CheckConstraint(condition=Q(hours__isnull=True) | Q(hours__gt=0), name="weekly_limit_positive"),
            models.CheckConstraint(condition=Q(effective_from__iso_week_day=1), name="weekly_limit_from_a_monday"),
        ]
        triggers = [
            pgtrigger.Protect(name="weekly_limit_change_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return f"{describe_limit(self.hours)} from {self.effective_from} on contract #{self.contract_id}"


class RateChangeState(models.TextChoices):
    PROPOSED = "proposed", "Waiting for an answer"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired"


@rule("Only the other party of this contract can accept or decline this proposed rate.")
def the_other_party(proposal: "RateChangeProposal", user) -> bool:
    contract = proposal.contract
    return contract.is_party(user) and user.pk != proposal.proposed_by_id


@rule("Only the party who proposed this rate can withdraw the proposal.")
def the_proposer(proposal: "RateChangeProposal", user) -> bool:
    return bool(user and user.is_authenticated and user.pk == proposal.proposed_by_id)


@rule("This contract has ended, so its rate can no longer change.")
def contract_not_ended(proposal: "RateChangeProposal") -> bool:
    return proposal.contract.is_open


@rule("This proposal lapsed on {obj.expires_at:%Y-%m-%d %H:%M} UTC without an answer.")
def not_lapsed(proposal: "RateChangeProposal") -> bool:
    return timezone.now() < proposal.expires_at


@rule("This proposal has not lapsed yet: the other party can still answer it.")
def lapsed(proposal: "RateChangeProposal") -> bool:
    return timezone.now() >= proposal.expires_at


class RateChangeProposal(TransitionRulesMixin, ConcurrentTransitionMixin, models.Model):
    """A new hourly rate proposed by one party of an hourly contract. It applies only
    when the other party accepts, from the next billing week; until then, and if it is
    declined, withdrawn or lapses, the rate stays as it was. At most one proposal of a
    contract waits for an answer at a time."""

    contract = models.ForeignKey("contracts.Contract", on_delete=models.PROTECT, related_name="rate_proposals")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    rate_cents = models.PositiveIntegerField()
    message = models.TextField(blank=True, help_text="The proposer's words to the other party.")
    state = FSMField(default=RateChangeState.PROPOSED, choices=RateChangeState.choices, protected=True)
    proposed_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    effective_from = models.DateField(null=True, blank=True, help_text="Accepted: the first billing week at the rate.")

    class Meta:
        ordering = ("-proposed_at", "-id")
        verbose_name = "rate change"
        constraints = [
            models.CheckConstraint(condition=Q(rate_cents__gt=0), name="rate_proposal_positive"),
            models.UniqueConstraint(
                fields=["contract"], condition=Q(state=RateChangeState.PROPOSED), name="one_open_rate_proposal"
            ),
            models.CheckConstraint(
                condition=Q(state=RateChangeState.ACCEPTED, effective_from__isnull=False)
                | (~Q(state=RateChangeState.ACCEPTED) & Q(effective_from__isnull=True)),
                name="rate_proposal_effective_iff_accepted",
            ),
        ]
        triggers = [
            frozen_columns(
                "rate_proposal_frozen",
                "contract",
                "proposed_by",
                "rate_cents",
                "message",
                "proposed_at",
                message="rate change %: what was proposed cannot change",
            )
        ]

    def __str__(self) -> str:
        return f"Rate change #{self.pk} to {self.rate_cents} cents on contract #{self.contract_id} ({self.state})"

    @property
    def expires_at(self) -> datetime:
        return self.proposed_at + timedelta(days=settings.RATE_CHANGE_EXPIRY_DAYS)

    @property
    def is_open(self) -> bool:
        return self.state == RateChangeState.PROPOSED and timezone.now() < self.expires_at

    @property
    def closed_state_refusal(self) -> str | None:
        return {
            RateChangeState.ACCEPTED: "This rate change was already accepted.",
            RateChangeState.DECLINED: "This rate change was declined.",
            RateChangeState.WITHDRAWN: "This rate change was withdrawn.",
            RateChangeState.EXPIRED: "This proposal lapsed without an answer.",
        }.get(self.state)

    @transition(
        field=state,
        source=RateChangeState.PROPOSED,
        target=RateChangeState.ACCEPTED,
        conditions=[contract_not_ended, not_lapsed],
        permission=the_other_party,
        custom={
            "verb": "accept",
            "label": "Accept the new rate",
            "effects": (
                Notify(
                    OTHER_PARTY,
                    "{actor} accepted the new rate of {rate} for {title}: it applies from the billing week of "
                    "{starts} (Monday 00:00 UTC); earlier weeks are billed at the rate before.",
                    link="#terms",
                ),
            ),
        },
    )
    def accept(self, *, by, at: datetime, reason: str = "") -> None:
        self.closed_at = at
        self.effective_from = next_billing_week(at)

    @transition(
        field=state,
        source=RateChangeState.PROPOSED,
        target=RateChangeState.DECLINED,
        permission=the_other_party,
        custom={
            "verb": "decline",
            "label": "Decline",
            "effects": (
                Notify(
                    OTHER_PARTY,
                    "{actor} declined the new rate of {rate} for {title}; the rate stays as it was.",
                    link="#terms",
                    quote_reason=True,
                ),
                DetectText("A message declining a new rate"),
            ),
        },
    )
    def decline(self, *, by, at: datetime, reason: str = "") -> None:
        """``reason`` is the optional message to the proposer."""
        self.closed_at = at

    @transition(
        field=state,
        source=RateChangeState.PROPOSED,
        target=RateChangeState.WITHDRAWN,
        permission=the_proposer,
        custom={
            "verb": "withdraw",
            "label": "Withdraw your proposal",
            "effects": (
                Notify(OTHER_PARTY, "{actor} withdrew the proposed rate of {rate} for {title}.", link="#terms"),
            ),
        },
    )
    def withdraw(self, *, by, at: datetime, reason: str = "") -> None:
        self.closed_at = at

    @transition(
        field=state,
        source=RateChangeState.PROPOSED,
        target=RateChangeState.EXPIRED,
        conditions=[lapsed],
        permission=system_only,
        custom={
            "verb": "expire",
            "effects": (
                Notify(
                    BOTH_PARTIES,
                    "The proposed rate of {rate} for {title} was not answered within {answer_days} days and has "
                    "lapsed; the rate stays as it was.",
                    link="#terms",
                ),
            ),
        },
    )
    def expire(self, *, by=None, at: datetime, reason: str = "") -> None:
        self.closed_at = at


class RateChange(AppendOnlyModel):
    """An accepted rate: what billing reads for the weeks from ``effective_from`` on."""

    contract = models.ForeignKey("contracts.Contract", on_delete=models.PROTECT, related_name="rate_changes")
    rate_cents = models.PositiveIntegerField()
    effective_from = models.DateField(help_text="The Monday of the first billing week billed at this rate.")
    proposal = models.OneToOneField(RateChangeProposal, on_delete=models.PROTECT, related_name="rate_change")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("contract", "effective_from", "id")
        verbose_name = "accepted rate"
        indexes = [models.Index(fields=["contract", "effective_from"], name="rate_change_contract_week")]
        constraints = [
            models.CheckConstraint(condition=Q(rate_cents__gt=0), name="rate_change_positive"),
            models.CheckConstraint(condition=Q(effective_from__iso_week_day=1), name="rate_change_from_a_monday"),
        ]
        triggers = [pgtrigger.Protect(name="rate_change_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.rate_cents} cents an hour from {self.effective_from} on contract #{self.contract_id}"


@dataclass(frozen=True)
class TermSchedule:
    """One term of a contract week by week: the value agreed at the start, then each
    change (the Monday it applies from, the value), in the order they were made. The
    last change made for a week at or before a given one wins."""

    agreed: int | None
    changes: tuple[tuple[date, int | None], ...] = ()

    def for_week(self, monday: date) -> int | None:
        value = self.agreed
        for effective_from, changed in self.changes:
            if effective_from <= monday:
                value = changed
        return value

    def for_moment(self, at: datetime) -> int | None:
        return self.for_week(week_start(at.astimezone(UTC).date()))

    def upcoming(self, at: datetime) -> tuple[date, int | None] | None:
        """The change decided for a later week than the one holding ``at``, if it
        changes anything: (its Monday, the value)."""
        monday = week_start(at.astimezone(UTC).date())
        later = [change for change in self.changes if change[0] > monday]
        if not later:
            return None
        effective_from = max(change[0] for change in later)
        value = self.for_week(effective_from)
        return (effective_from, value) if value != self.for_week(monday) else None


def weekly_limits(contract) -> TermSchedule:
    changes = WeeklyLimitChange.objects.filter(contract_id=contract.pk).order_by("created_at", "id")
    return TermSchedule(contract.weekly_hour_limit, tuple(changes.values_list("effective_from", "hours")))


def hourly_rates(contract) -> TermSchedule:
    changes = RateChange.objects.filter(contract_id=contract.pk).order_by("created_at", "id")
    return TermSchedule(contract.hourly_rate_cents, tuple(changes.values_list("effective_from", "rate_cents")))


# Changes of terms written as new rows, each a history row with its effects
# (``contracts.services.transitions.record``).

MILESTONE_ADDED = Recorded(
    Milestone,
    "add",
    "Add a milestone",
    effects=(
        Notify(
            FREELANCER,
            "{actor} added the milestone {milestone} ({amount}) to {title}; it is not funded yet.",
            kind="milestone",
            link="#milestone-{milestone_id}",
        ),
    ),
)
WEEKLY_LIMIT_CHANGED = Recorded(
    WeeklyLimitChange,
    "change",
    "Change the weekly limit",
    effects=(
        Notify(
            FREELANCER,
            "{actor} changed the weekly limit of {title} to {limit} from the billing week of {starts} "
            "(Monday 00:00 UTC).",
            link="#terms",
        ),
    ),
)
RATE_CHANGE_PROPOSED = Recorded(
    RateChangeProposal,
    "propose",
    "Propose a new rate",
    effects=(
        Schedule("rate_change_expiry"),
        Notify(
            OTHER_PARTY,
            "{actor} proposed a new rate of {rate} for {title}, from the billing week after it is accepted; "
            "accept or decline it within {answer_days} days.",
            link="#rate-change",
        ),
        Email(OTHER_PARTY, "rate_change_proposed"),
        DetectText("A rate change message", text_field="message", author_field="proposed_by"),
    ),
)
RECORDED_CHANGES = (MILESTONE_ADDED, WEEKLY_LIMIT_CHANGED, RATE_CHANGE_PROPOSED)

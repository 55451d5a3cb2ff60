from datetime import datetime

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import ConcurrentTransitionMixin, FSMField

from contracts_portal.db_guards import frozen_columns

from ..effects import CLIENT, FREELANCER, DetectText, Email, Notify, Schedule
from .rules import TransitionRulesMixin, rule, system_only, transition


class MilestoneState(models.TextChoices):
    PENDING = "pending", "Not funded"
    FUNDED = "funded", "Funded (in escrow)"
    SUBMITTED = "submitted", "Work submitted"
    RELEASED = "released", "Paid"
    REFUND_REQUESTED = "refund_requested", "Refund requested"
    REFUNDED = "refunded", "Escrow returned"
    CANCELLED = "cancelled", "Cancelled"


HELD_IN_ESCROW = (MilestoneState.FUNDED, MilestoneState.SUBMITTED)


@rule("Only the client of this contract can do this.")
def is_contract_client(milestone: "Milestone", user) -> bool:
    return bool(user and user.is_authenticated and user.pk == milestone.contract.client_id)


@rule("Only the freelancer of this contract can do this.")
def is_contract_freelancer(milestone: "Milestone", user) -> bool:
    return bool(user and user.is_authenticated and user.pk == milestone.contract.freelancer_id)


@rule("This contract has ended, so its milestones can no longer change this way.")
def contract_is_open(milestone: "Milestone") -> bool:
    return milestone.contract.is_open


class Milestone(TransitionRulesMixin, ConcurrentTransitionMixin, models.Model):
    """A part of a fixed-price contract, paid through escrow.

    pending → funded (in escrow) → submitted → released; escrow that is not paid
    goes back to the client (refunded), directly or through a refund request.
    Amounts held, paid and returned are derived from the ledger, not stored here.
    """

    contract = models.ForeignKey("contracts.Contract", on_delete=models.PROTECT, related_name="milestones")
    position = models.PositiveSmallIntegerField(default=1)
    title = models.CharField(max_length=200)
    amount_cents = models.PositiveIntegerField()
    due_date = models.DateField(null=True, blank=True)
    state = FSMField(default=MilestoneState.PENDING, choices=MilestoneState.choices, protected=True)
    funded_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submission_note = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("contract", "position", "id")
        indexes = [models.Index(fields=["contract", "state"], name="milestone_contract_state")]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gte=settings.MILESTONE_MINIMUM_CENTS), name="milestone_minimum_5_dollars"
            ),
        ]
        triggers = [
            frozen_columns("milestone_contract_frozen", "contract", message="milestone %: its contract cannot change"),
            frozen_columns(
                "milestone_amount_frozen_once_funded",
                "amount_cents",
                message="milestone %: its amount cannot change once it has been funded",
                when=~pgtrigger.Q(old__state=MilestoneState.PENDING),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} (milestone #{self.pk})"

    @transition(
        field=state,
        source=MilestoneState.PENDING,
        target=MilestoneState.FUNDED,
        conditions=[contract_is_open],
        permission=is_contract_client,
        custom={
            "verb": "fund",
            "label": "Fund",
            "effects": (
                Notify(
                    FREELANCER,
                    "{actor} funded the milestone {milestone} on {title}: {amount} is in escrow.",
                    kind="milestone",
                    link="#milestone-{milestone_id}",
                ),
            ),
        },
    )
    def fund(self, *, by, at: datetime, reason: str = "") -> None:
        self.funded_at = at

    @transition(
        field=state,
        source=MilestoneState.FUNDED,
        target=MilestoneState.SUBMITTED,
        conditions=[contract_is_open],
        permission=is_contract_freelancer,
        custom={
            "verb": "submit work for",
            "label": "Submit work",
            "effects": (
                Schedule("milestone_auto_release"),
                Notify(
                    CLIENT,
                    "{actor} submitted work for the milestone {milestone} on {title}; review it within "
                    "{auto_release_days} days or the payment is released automatically.",
                    kind="milestone",
                    link="#milestone-{milestone_id}",
                ),
                Email(CLIENT, "work_submitted"),
                DetectText("A milestone note"),
            ),
        },
    )
    def submit(self, *, by, at: datetime, note: str = "", reason: str = "") -> None:
        self.submitted_at = at
        self.submission_note = note

    @transition(
        field=state,
        source=list(HELD_IN_ESCROW),
        target=MilestoneState.RELEASED,
        permission=is_contract_client,
        custom={"verb": "release payment for", "label": "Release payment"},
    )
    def release(self, *, by, at: datetime, reason: str = "") -> None:
        self.closed_at = at

    @transition(
        field=state,
        source=list(HELD_IN_ESCROW),
        target=MilestoneState.REFUND_REQUESTED,
        permission=system_only,
        custom={"verb": "request a refund for"},
    )
    def request_refund(self, *, by, at: datetime, reason: str = "") -> None:
        pass

    @transition(
        field=state,
        source=MilestoneState.REFUND_REQUESTED,
        target=MilestoneState.REFUNDED,
        permission=system_only,
        custom={"verb": "settle the refund of"},
    )
    def settle_refund(self, *, by, at: datetime, reason: str = "") -> None:
        self.closed_at = at

    @transition(
        field=state,
        source=MilestoneState.REFUND_REQUESTED,
        target=MilestoneState.RELEASED,
        permission=system_only,
        custom={"verb": "pay out after the dispute"},
    )
    def release_after_dispute(self, *, by, at: datetime, reason: str = "") -> None:
        self.closed_at = at

    @transition(
        field=state,
        source=list(HELD_IN_ESCROW),
        target=MilestoneState.REFUNDED,
        permission=system_only,
        custom={"verb": "return the escrow of"},
    )
    def return_escrow(self, *, by, at: datetime, reason: str = "") -> None:
        self.closed_at = at

    @transition(
        field=state,
        source=MilestoneState.PENDING,
        target=MilestoneState.CANCELLED,
        permission=system_only,
        custom={"verb": "cancel"},
    )
    def cancel(self, *, by, at: datetime, reason: str = "") -> None:
        self.closed_at = at

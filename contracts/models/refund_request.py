from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import ConcurrentTransitionMixin, FSMField

from contracts_portal.db_guards import frozen_columns

from ..effects import BOTH_PARTIES, CLIENT, FREELANCER, DetectText, Notify
from .flags import is_reviewer
from .rules import TransitionRulesMixin, rule, system_only, transition


class RefundRequestState(models.TextChoices):
    OPEN = "open", "Waiting for the freelancer"
    APPROVED = "approved", "Approved: escrow returned to the client"
    DISPUTED = "disputed", "Disputed: waiting for an admin decision"
    RESOLVED = "resolved", "Resolved by an admin"


@rule("Only the freelancer of this contract can answer a refund request.")
def is_request_freelancer(request: "EscrowRefundRequest", user) -> bool:
    return bool(user and user.is_authenticated and user.pk == request.contract.freelancer_id)


@rule(
    "The {settings.REFUND_REQUEST_RESPONSE_DAYS} days to answer this refund request are over; "
    "it was approved automatically."
)
def still_answerable(request: "EscrowRefundRequest") -> bool:
    from django.utils import timezone

    return timezone.now() < request.respond_by


@rule("The freelancer still has until {obj.respond_by:%Y-%m-%d %H:%M} UTC to answer this refund request.")
def answer_time_over(request: "EscrowRefundRequest") -> bool:
    from django.utils import timezone

    return timezone.now() >= request.respond_by


@rule("Only reviewers can decide a disputed refund.")
def may_review(request: "EscrowRefundRequest", user) -> bool:
    return is_reviewer(user)


class EscrowRefundRequest(TransitionRulesMixin, ConcurrentTransitionMixin, models.Model):
    """The unpaid part of a funded milestone when a client ends a fixed-price contract.

    The freelancer approves it (the escrow goes back to the client) or disputes it
    (an admin decides the split). Silence approves it after
    ``REFUND_REQUEST_RESPONSE_DAYS``, so a client is never left waiting on a freelancer
    who has gone.
    """

    contract = models.ForeignKey("contracts.Contract", on_delete=models.PROTECT, related_name="refund_requests")
    milestone = models.OneToOneField("contracts.Milestone", on_delete=models.PROTECT, related_name="refund_request")
    amount_cents = models.PositiveIntegerField()
    state = FSMField(default=RefundRequestState.OPEN, choices=RefundRequestState.choices, protected=True)
    client_statement = models.TextField(blank=True)
    freelancer_statement = models.TextField(blank=True)
    created_at = models.DateTimeField()
    respond_by = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    auto_approved = models.BooleanField(default=False)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution_note = models.TextField(blank=True)
    freelancer_share_cents = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["state", "respond_by"], name="refundrequest_due")]
        constraints = [models.CheckConstraint(condition=Q(amount_cents__gt=0), name="refundrequest_positive")]
        triggers = [
            frozen_columns(
                "refundrequest_money_frozen",
                "contract",
                "milestone",
                "amount_cents",
                message="refund request %: its contract, milestone and amount cannot change",
            )
        ]

    def __str__(self) -> str:
        return f"Refund request #{self.pk} on {self.milestone}"

    @staticmethod
    def respond_by_for(created_at: datetime) -> datetime:
        return created_at + timedelta(days=settings.REFUND_REQUEST_RESPONSE_DAYS)

    @transition(
        field=state,
        source=RefundRequestState.OPEN,
        target=RefundRequestState.APPROVED,
        conditions=[still_answerable],
        permission=is_request_freelancer,
        custom={
            "verb": "approve",
            "label": "Approve refund",
            "effects": (
                Notify(
                    CLIENT,
                    "{freelancer} approved your refund request of {requested}; the escrow goes back to you.",
                    kind="refund_request",
                ),
            ),
        },
    )
    def approve(self, *, by, at: datetime, reason: str = "") -> None:
        self.answered_at = at

    @transition(
        field=state,
        source=RefundRequestState.OPEN,
        target=RefundRequestState.DISPUTED,
        conditions=[still_answerable],
        permission=is_request_freelancer,
        custom={
            "verb": "dispute",
            "label": "Dispute refund",
            "effects": (
                Notify(
                    CLIENT,
                    "{freelancer} disputed your refund request of {requested}; an admin will decide how to split it.",
                    kind="refund_request",
                ),
                DetectText("A dispute statement"),
            ),
        },
    )
    def dispute(self, *, by, at: datetime, reason: str) -> None:
        self.answered_at = at
        self.freelancer_statement = reason

    @transition(
        field=state,
        source=RefundRequestState.DISPUTED,
        target=RefundRequestState.RESOLVED,
        permission=may_review,
        custom={
            "verb": "decide",
            "effects": (
                Notify(
                    BOTH_PARTIES,
                    "The platform decided the disputed refund request of {requested}; see the contract for the split.",
                    kind="refund_request",
                ),
            ),
        },
    )
    def resolve(self, *, by, at: datetime, reason: str, freelancer_share_cents: int) -> None:
        self.resolved_by = by
        self.resolution_note = reason
        self.freelancer_share_cents = freelancer_share_cents

    @transition(
        field=state,
        source=RefundRequestState.OPEN,
        target=RefundRequestState.APPROVED,
        conditions=[answer_time_over],
        permission=system_only,
        custom={
            "verb": "approve automatically",
            "effects": (
                Notify(
                    CLIENT,
                    "Your refund request of {requested} was approved automatically: {freelancer} did not answer "
                    "within {response_days} days. The escrow goes back to you.",
                    kind="refund_request",
                ),
                Notify(
                    FREELANCER,
                    "The refund request of {requested} was approved automatically: it was not answered within "
                    "{response_days} days. The escrow goes back to the client.",
                    kind="refund_request",
                ),
            ),
        },
    )
    def approve_unanswered(self, *, by=None, at: datetime, reason: str = "") -> None:
        self.answered_at = at
        self.auto_approved = True

"""Offers: how a contract starts. A client sends a freelancer terms; the freelancer
accepts them (the contract starts on exactly those terms) or declines; the client may
withdraw the offer before that, and an offer nobody answered expires.

An offer's terms never change once it is written (on PostgreSQL a trigger refuses it):
a change of mind is a withdrawal and a new offer. An offer may be sent to an e-mail
address that has no account yet: the person is invited, and the offer becomes theirs
once they sign up and verify that address (``claim``).
"""

from datetime import datetime

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField

from accounts.verification import email_is_verified
from contracts.effects import BOTH_PARTIES, CLIENT, FREELANCER, INVITEE, DetectText, Email, Notify, Schedule
from contracts.models import ContractKind, NotificationKind
from contracts.models.rules import TransitionRulesMixin, rule, system_only, transition
from contracts_portal.append_only import AppendOnlyModel
from contracts_portal.db_guards import frozen_columns


class OfferState(models.TextChoices):
    DRAFT = "draft", "Being written"
    SENT = "sent", "Waiting for an answer"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired"


# What the client agreed to offer: written once, when the offer is written.
FROZEN_TERMS = (
    "client",
    "invited_email",
    "invitation_token",
    "title",
    "description",
    "kind",
    "hourly_rate_cents",
    "weekly_hour_limit",
    "manual_time_allowed",
    "notice_days",
    "start_date",
    "expires_at",
)


# Permissions: who may take a transition.


@rule("Only the client who sent this offer can do this.")
def offer_client_only(offer: "Offer", user) -> bool:
    return bool(user and user.is_authenticated and user.pk == offer.client_id)


@rule("Only the freelancer this offer was sent to can accept or decline it.")
def offer_freelancer_only(offer: "Offer", user) -> bool:
    return bool(user and user.is_authenticated and offer.freelancer_id and user.pk == offer.freelancer_id)


@rule("This invitation is for the person with the e-mail address it was sent to, once they have verified it.")
def the_person_invited(offer: "Offer", user) -> bool:
    return bool(
        user
        and user.is_authenticated
        and offer.freelancer_id is None
        and offer.invited_email
        and user.pk != offer.client_id
        and user.email.lower() == offer.invited_email
        and email_is_verified(user)
    )


# Conditions: when a transition may be taken.


@rule("Verify your e-mail address before you send an offer: follow the link we e-mailed you when you signed up.")
def client_verified(offer: "Offer") -> bool:
    return email_is_verified(offer.client)


@rule("This offer expired on {obj.expires_at:%Y-%m-%d %H:%M} UTC without an answer.")
def not_expired(offer: "Offer") -> bool:
    return timezone.now() < offer.expires_at


@rule("This offer has not expired yet: it can still be answered until {obj.expires_at:%Y-%m-%d %H:%M} UTC.")
def past_expiry(offer: "Offer") -> bool:
    return timezone.now() >= offer.expires_at


class Offer(TransitionRulesMixin, ConcurrentTransitionMixin, models.Model):
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="offers_sent")
    freelancer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="offers_received",
        help_text="Empty while the person invited by e-mail has no account.",
    )
    invited_email = models.EmailField(
        blank=True, help_text="The address (in lower case) an offer to someone without an account was sent to."
    )
    invitation_token = models.CharField(
        max_length=64, unique=True, null=True, blank=True, help_text="The secret of the invitation link."
    )
    title = models.CharField(max_length=200)
    description = models.TextField()
    kind = models.CharField(max_length=10, choices=ContractKind.choices)
    hourly_rate_cents = models.PositiveIntegerField(null=True, blank=True)
    weekly_hour_limit = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Hours a week the freelancer may bill; empty for no limit."
    )
    manual_time_allowed = models.BooleanField(
        default=True, help_text="Hourly: whether time may be recorded for earlier days."
    )
    notice_days = models.PositiveSmallIntegerField(default=0, help_text="Days between notice and the end; 0 for none.")
    start_date = models.DateField(help_text="The day the contract starts, or the day it is accepted if later.")
    expires_at = models.DateTimeField()
    state = FSMField(default=OfferState.DRAFT, choices=OfferState.choices, protected=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was accepted, declined, withdrawn or expired."
    )
    decline_reason = models.TextField(blank=True, help_text="The freelancer's reason, which the client reads.")
    contract = models.OneToOneField(
        "contracts.Contract", on_delete=models.PROTECT, null=True, blank=True, related_name="offer"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["freelancer", "state", "-created_at"], name="offer_freelancer_state"),
            models.Index(fields=["client", "state", "-created_at"], name="offer_client_state"),
            models.Index(fields=["invited_email"], condition=Q(freelancer__isnull=True), name="offer_invited_email"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(client=models.F("freelancer")), name="offer_parties_differ"),
            models.CheckConstraint(
                condition=Q(freelancer__isnull=False) | ~Q(invited_email=""), name="offer_sent_to_someone"
            ),
            models.CheckConstraint(
                condition=Q(invited_email="", invitation_token__isnull=True)
                | (~Q(invited_email="") & Q(invitation_token__isnull=False)),
                name="offer_invitation_iff_invited",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind=ContractKind.HOURLY, hourly_rate_cents__gt=0)
                    | Q(kind=ContractKind.FIXED, hourly_rate_cents__isnull=True, weekly_hour_limit__isnull=True)
                ),
                name="offer_terms_match_kind",
            ),
            models.CheckConstraint(
                condition=Q(notice_days__lte=settings.MAX_NOTICE_DAYS), name="offer_notice_within_policy"
            ),
            models.CheckConstraint(
                condition=Q(state=OfferState.ACCEPTED, contract__isnull=False)
                | (~Q(state=OfferState.ACCEPTED) & Q(contract__isnull=True)),
                name="offer_contract_iff_accepted",
            ),
        ]
        triggers = [
            frozen_columns(
                "offer_terms_frozen",
                *FROZEN_TERMS,
                message="offer %: its terms cannot change once written; withdraw it and send a new one",
            ),
            frozen_columns(
                "offer_freelancer_frozen_once_known",
                "freelancer",
                message="offer %: the freelancer it was sent to cannot change",
                when=pgtrigger.Q(old__freelancer__isnull=False),
            ),
            frozen_columns(
                "offer_contract_frozen_once_set",
                "contract",
                message="offer %: the contract it became cannot change",
                when=pgtrigger.Q(old__contract__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} (offer #{self.pk})"

    # Predicates.

    @property
    def is_hourly(self) -> bool:
        return self.kind == ContractKind.HOURLY

    @property
    def is_open(self) -> bool:
        """Sent and still waiting for an answer: not expired, even before the sweep has recorded it."""
        return self.state == OfferState.SENT and timezone.now() < self.expires_at

    @property
    def is_invitation(self) -> bool:
        """Sent to an e-mail address that has no account (yet)."""
        return self.freelancer_id is None

    def is_party(self, user) -> bool:
        return bool(user and user.is_authenticated and user.pk in (self.client_id, self.freelancer_id))

    @property
    def closed_state_refusal(self) -> str | None:
        return {
            OfferState.ACCEPTED: "This offer was already accepted: the contract has started.",
            OfferState.DECLINED: "This offer was declined.",
            OfferState.WITHDRAWN: "The client withdrew this offer.",
            OfferState.EXPIRED: f"This offer expired on {self.expires_at:%Y-%m-%d %H:%M} UTC without an answer.",
        }.get(self.state)

    # Transitions. Each takes ``by`` (None for the platform), ``at`` and ``reason``;
    # the services take them through ``contracts.services.transitions.take``.

    @transition(
        field=state,
        source=OfferState.DRAFT,
        target=OfferState.SENT,
        conditions=[client_verified],
        permission=offer_client_only,
        custom={
            "verb": "send",
            "effects": (
                Schedule("offer_expiry"),
                Notify(
                    FREELANCER,
                    "{client} sent you an offer, {title}: read its terms and accept or decline it by {expires} UTC.",
                    kind=NotificationKind.OFFER,
                ),
                Email(FREELANCER, "offer_received"),
                Email(INVITEE, "offer_invitation"),
                DetectText("The description of an offer", text_field="description", author_field="client"),
            ),
        },
    )
    def send(self, *, by, at: datetime, reason: str = "") -> None:
        self.sent_at = at

    @transition(
        field=state,
        source=OfferState.SENT,
        target=None,
        conditions=[not_expired],
        permission=the_person_invited,
        custom={
            "verb": "open the invitation to",
            "effects": (
                Notify(
                    FREELANCER,
                    "{client} sent you an offer, {title}: read its terms and accept or decline it by {expires} UTC.",
                    kind=NotificationKind.OFFER,
                ),
                Notify(
                    CLIENT,
                    "{freelancer} joined the portal and can now answer your offer {title}.",
                    kind=NotificationKind.OFFER,
                ),
            ),
        },
    )
    def claim(self, *, by, at: datetime, reason: str = "") -> None:
        """The person invited by e-mail signed up and verified that address: the offer is theirs."""
        self.freelancer = by

    @transition(
        field=state,
        source=OfferState.SENT,
        target=OfferState.ACCEPTED,
        conditions=[not_expired],
        permission=offer_freelancer_only,
        custom={
            "verb": "accept",
            "label": "Accept the offer",
            "effects": (
                Notify(
                    BOTH_PARTIES,
                    "{freelancer} accepted the offer {title} from {client}: the contract has started{first_funded}.",
                    kind=NotificationKind.OFFER,
                ),
                Email(BOTH_PARTIES, "offer_accepted"),
            ),
        },
    )
    def accept(self, *, by, at: datetime, contract, reason: str = "") -> None:
        self.contract = contract
        self.answered_at = at

    @transition(
        field=state,
        source=OfferState.SENT,
        target=OfferState.DECLINED,
        conditions=[not_expired],
        permission=offer_freelancer_only,
        custom={
            "verb": "decline",
            "label": "Decline the offer",
            "effects": (
                Notify(CLIENT, "{actor} declined your offer {title}.", kind=NotificationKind.OFFER, quote_reason=True),
                Email(CLIENT, "offer_declined"),
                DetectText("A reason for declining an offer"),
            ),
        },
    )
    def decline(self, *, by, at: datetime, reason: str) -> None:
        self.decline_reason = reason
        self.answered_at = at

    @transition(
        field=state,
        source=OfferState.SENT,
        target=OfferState.WITHDRAWN,
        conditions=[not_expired],
        permission=offer_client_only,
        custom={
            "verb": "withdraw",
            "label": "Withdraw the offer",
            "effects": (
                Notify(
                    FREELANCER,
                    "{actor} withdrew the offer {title}: it can no longer be accepted.",
                    kind=NotificationKind.OFFER,
                ),
            ),
        },
    )
    def withdraw(self, *, by, at: datetime, reason: str = "") -> None:
        self.answered_at = at

    @transition(
        field=state,
        source=OfferState.SENT,
        target=OfferState.EXPIRED,
        conditions=[past_expiry],
        permission=system_only,
        custom={
            "verb": "expire",
            "effects": (
                Notify(
                    BOTH_PARTIES,
                    "The offer {title} from {client} to {freelancer} expired without an answer.",
                    kind=NotificationKind.OFFER,
                ),
            ),
        },
    )
    def expire(self, *, by=None, at: datetime, reason: str = "") -> None:
        self.answered_at = self.expires_at


class OfferMilestone(AppendOnlyModel):
    """A milestone of a fixed-price offer, as offered: it becomes a milestone of the
    contract when the offer is accepted (the first one funded then)."""

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="milestones")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    amount_cents = models.PositiveIntegerField()
    due_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ("offer", "position")
        constraints = [
            models.UniqueConstraint(fields=["offer", "position"], name="offer_milestone_position_unique"),
            models.CheckConstraint(
                condition=Q(amount_cents__gte=settings.MILESTONE_MINIMUM_CENTS)
                & Q(amount_cents__lte=settings.MILESTONE_MAXIMUM_CENTS),
                name="offer_milestone_amount_within_policy",
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="offer_milestone_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return f"{self.title} (milestone {self.position} of offer #{self.offer_id})"

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField

from contracts_portal.db_guards import frozen_columns

from ..effects import BOTH_PARTIES, CONTRACT_END_EVENT, OTHER_PARTY, Detect, DetectText, Email, Notify, Schedule
from .rules import TransitionRulesMixin, rule, system_only, transition


class ContractKind(models.TextChoices):
    HOURLY = "hourly", "Hourly"
    FIXED = "fixed", "Fixed-price"


class ContractState(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ENDING = "ending", "Ending (notice given)"
    ENDED = "ended", "Ended"


OPEN_STATES = (ContractState.ACTIVE, ContractState.PAUSED, ContractState.ENDING)

# Who the parties are and the terms agreed when the contract started (the offer's
# description included): fixed from then on (contracts_portal.db_guards). A later
# weekly limit or rate is a new row (contracts.models.terms) applying from a later
# billing week; the agreed ones stay as they were accepted.
FROZEN_TERMS = (
    "client",
    "freelancer",
    "kind",
    "hourly_rate_cents",
    "weekly_hour_limit",
    "notice_days",
    "started_at",
    "description",
    "manual_time_allowed",
)


class EndKind(models.TextChoices):
    PARTY = "party", "Ended by a party"
    MUTUAL = "mutual", "Ended by mutual agreement (no fault)"
    NOTICE = "notice", "Ended when the notice period elapsed"
    FORCED = "forced", "Ended by the platform"


class EndReason(models.TextChoices):
    """The private reason asked for when a contract ends; never shown to the other party."""

    COMPLETED = "completed", "Job completed successfully"
    NOT_RESPONSIVE = "not_responsive", "The other party was not responsive"
    UNSUCCESSFUL = "unsuccessful", "Job completed unsuccessfully"
    OTHER = "other", "Another reason"


# Permissions: who may take a transition.


@rule("Only the client and the freelancer of this contract can do this.")
def party_only(contract: "Contract", user) -> bool:
    return contract.is_party(user)


@rule("Only the client of this contract can do this.")
def client_only(contract: "Contract", user) -> bool:
    return bool(user and user.is_authenticated and user.pk == contract.client_id)


@rule("Only the party who gave notice can withdraw it.")
def notice_giver_only(contract: "Contract", user) -> bool:
    return bool(user and user.is_authenticated and user.pk == contract.notice_given_by_id)


@rule("Only the other party can accept or decline a proposal to end this contract.")
def other_party_only(contract: "Contract", user) -> bool:
    return contract.is_party(user) and user.pk != contract.end_proposed_by_id


@rule("Only the party who proposed ending this contract can withdraw the proposal.")
def proposer_only(contract: "Contract", user) -> bool:
    return bool(user and user.is_authenticated and user.pk == contract.end_proposed_by_id)


@rule("Only platform administrators can force a contract to end.")
def force_end_permission(contract: "Contract", user) -> bool:
    return bool(user and user.is_active and user.has_perm("contracts.force_end_contract"))


# Conditions: when a transition may be taken.


@rule("Only hourly contracts can be paused.")
def hourly_only(contract: "Contract") -> bool:
    return contract.kind == ContractKind.HOURLY


@rule("This contract has no notice period: end it at once instead.")
def with_notice_period(contract: "Contract") -> bool:
    return contract.notice_days > 0


@rule(
    "This contract has a {obj.notice_days}-day notice period: give notice instead, "
    "and it ends when the notice period is over."
)
def ends_at_once(contract: "Contract") -> bool:
    """A contract ends at once when it has no notice period, or while notice is running:
    either party may then cut the notice short (anyone can end at any time)."""
    return contract.notice_days == 0 or contract.state == ContractState.ENDING


@rule("The notice period is over: the contract is ending now.")
def notice_not_over(contract: "Contract") -> bool:
    return contract.state != ContractState.ENDING or timezone.now() < contract.notice_effective_at


@rule("The notice period is over: the contract is ending now and notice cannot be withdrawn.")
def before_notice_takes_effect(contract: "Contract") -> bool:
    return contract.notice_effective_at is not None and timezone.now() < contract.notice_effective_at


@rule("The notice period is still running: the contract ends on {obj.notice_effective_at:%Y-%m-%d %H:%M} UTC.")
def after_notice_takes_effect(contract: "Contract") -> bool:
    return contract.notice_effective_at is not None and timezone.now() >= contract.notice_effective_at


@rule("An end of this contract has already been proposed and is waiting for an answer.")
def no_pending_end_proposal(contract: "Contract") -> bool:
    return not contract.has_open_end_proposal()


@rule(
    "There is no open proposal to end this contract "
    "(it may have expired after {settings.END_PROPOSAL_EXPIRY_DAYS} days)."
)
def pending_end_proposal(contract: "Contract") -> bool:
    return contract.has_open_end_proposal()


@rule("This proposal to end the contract has not expired yet.")
def end_proposal_expired(contract: "Contract") -> bool:
    expires_at = contract.end_proposal_expires_at
    return expires_at is not None and timezone.now() >= expires_at


# What every end of a contract by its parties or its notice does after the end:
# closure checklists and feedback requests, then the quick-end detector and a read of
# the note given for ending (a forced end does neither detection).
ENDED_EFFECTS = (
    Schedule("after_end"),
    Detect("contract_ended"),
    DetectText(
        "The reason given for ending",
        text_field="end_reason_note",
        author_field="ended_by",
        event=CONTRACT_END_EVENT,
    ),
)


class Contract(TransitionRulesMixin, ConcurrentTransitionMixin, models.Model):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contracts_as_client")
    freelancer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contracts_as_freelancer"
    )
    kind = models.CharField(max_length=10, choices=ContractKind.choices)
    hourly_rate_cents = models.PositiveIntegerField(
        null=True, blank=True, help_text="The rate agreed at the start; later rates are RateChange rows."
    )
    weekly_hour_limit = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Hours a week the freelancer may bill, as agreed at the start; empty for no limit. "
        "Later limits are WeeklyLimitChange rows.",
    )
    manual_time_allowed = models.BooleanField(
        default=True,
        help_text="Hourly: whether time may be recorded for earlier days; without it, only for the freelancer's today.",
    )
    notice_days = models.PositiveSmallIntegerField(
        default=0, help_text="Days between giving notice and the end; 0 for none."
    )
    state = FSMField(default=ContractState.ACTIVE, choices=ContractState.choices, protected=True, db_index=True)
    started_at = models.DateTimeField(default=timezone.now)

    notice_given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    notice_given_at = models.DateTimeField(null=True, blank=True)
    notice_effective_at = models.DateTimeField(null=True, blank=True)

    end_proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    end_proposed_at = models.DateTimeField(null=True, blank=True)

    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    end_kind = models.CharField(max_length=10, choices=EndKind.choices, blank=True)
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True)
    end_reason_note = models.TextField(blank=True)

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-started_at", "-id")
        permissions = [("force_end_contract", "Can force a contract to end")]
        indexes = [
            models.Index(fields=["client", "state", "-started_at"], name="contract_client_state"),
            models.Index(fields=["freelancer", "state", "-started_at"], name="contract_freel_state"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(client=models.F("freelancer")), name="contract_parties_differ"),
            models.CheckConstraint(
                condition=(
                    Q(kind=ContractKind.HOURLY, hourly_rate_cents__gt=0)
                    | Q(kind=ContractKind.FIXED, hourly_rate_cents__isnull=True, weekly_hour_limit__isnull=True)
                ),
                name="contract_terms_match_kind",
            ),
            models.CheckConstraint(
                condition=Q(state=ContractState.ENDED, ended_at__isnull=False)
                | (~Q(state=ContractState.ENDED) & Q(ended_at__isnull=True)),
                name="contract_ended_at_iff_ended",
            ),
            models.CheckConstraint(
                condition=~Q(state=ContractState.ENDING) | Q(notice_effective_at__isnull=False),
                name="contract_ending_has_effective_time",
            ),
        ]
        triggers = [
            frozen_columns(
                "contract_terms_frozen",
                *FROZEN_TERMS,
                message="contract %: its parties and agreed terms cannot change",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} (#{self.pk})"

    # Predicates.

    @property
    def is_hourly(self) -> bool:
        return self.kind == ContractKind.HOURLY

    @property
    def is_open(self) -> bool:
        return self.state != ContractState.ENDED

    @property
    def is_no_fault(self) -> bool:
        return self.end_kind == EndKind.MUTUAL

    @property
    def diary_locked(self) -> bool:
        """Locked from the end instant: for a notice period that is its effective time,
        even before the deadline sweep has recorded the end."""
        if self.state == ContractState.ENDING:
            return timezone.now() >= self.notice_effective_at
        return self.state == ContractState.ENDED

    @property
    def diary_accepts_new_time(self) -> bool:
        if not self.is_hourly:
            return False
        if self.state == ContractState.ENDING:
            return timezone.now() < self.notice_effective_at
        return self.state == ContractState.ACTIVE

    @property
    def closed_state_refusal(self) -> str | None:
        if self.state == ContractState.ENDED:
            return "This contract has already ended; ending is final."
        return None

    def is_party(self, user) -> bool:
        return bool(user and user.is_authenticated and user.pk in (self.client_id, self.freelancer_id))

    def other_party(self, user):
        return self.freelancer if user.pk == self.client_id else self.client

    @property
    def end_proposal_expires_at(self) -> datetime | None:
        if self.end_proposed_at is None:
            return None
        return self.end_proposed_at + timedelta(days=settings.END_PROPOSAL_EXPIRY_DAYS)

    def has_open_end_proposal(self) -> bool:
        expires_at = self.end_proposal_expires_at
        return expires_at is not None and timezone.now() < expires_at

    # Transitions. Each takes ``by`` (None for the platform), ``at`` and ``reason``
    # so the transition log records who, when and why; services call them inside
    # their transaction and save.

    @transition(
        field=state,
        source=ContractState.ACTIVE,
        target=ContractState.PAUSED,
        conditions=[hourly_only],
        permission=client_only,
        custom={
            "verb": "pause",
            "label": "Pause contract",
            "effects": (
                Notify(
                    OTHER_PARTY, "{actor} paused the contract {title}; no new time can be recorded until it is resumed."
                ),
            ),
        },
    )
    def pause(self, *, by, at: datetime, reason: str = "") -> None:
        pass

    @transition(
        field=state,
        source=ContractState.PAUSED,
        target=ContractState.ACTIVE,
        permission=client_only,
        custom={
            "verb": "resume",
            "label": "Resume contract",
            "effects": (Notify(OTHER_PARTY, "{actor} resumed the contract {title}."),),
        },
    )
    def resume(self, *, by, at: datetime, reason: str = "") -> None:
        pass

    @transition(
        field=state,
        source=[ContractState.ACTIVE, ContractState.PAUSED],
        target=ContractState.ENDING,
        conditions=[with_notice_period],
        permission=party_only,
        custom={
            "verb": "give notice on",
            "label": "Give notice",
            "confirm": "Give notice",
            "private_reason": True,
            "effects": (
                Schedule("notice_elapse"),
                Notify(
                    OTHER_PARTY, "{actor} gave notice on the contract {title}; it ends on {effective:%Y-%m-%d} UTC."
                ),
                Email(OTHER_PARTY, "notice_given"),
            ),
        },
    )
    def give_notice(self, *, by, at: datetime, reason: str, note: str = "") -> None:
        self.notice_given_by = by
        self.notice_given_at = at
        self.notice_effective_at = at + timedelta(days=self.notice_days)
        self.end_reason = reason
        self.end_reason_note = note

    @transition(
        field=state,
        source=ContractState.ENDING,
        target=ContractState.ACTIVE,
        conditions=[before_notice_takes_effect],
        permission=notice_giver_only,
        custom={
            "verb": "withdraw notice on",
            "label": "Withdraw notice",
            "effects": (
                Notify(OTHER_PARTY, "{actor} withdrew notice on the contract {title}; it continues as before."),
            ),
        },
    )
    def withdraw_notice(self, *, by, at: datetime, reason: str = "") -> None:
        self.notice_given_by = None
        self.notice_given_at = None
        self.notice_effective_at = None
        self.end_reason = ""
        self.end_reason_note = ""

    @transition(
        field=state,
        source=list(OPEN_STATES),
        target=None,
        conditions=[no_pending_end_proposal],
        permission=party_only,
        custom={
            "verb": "propose ending",
            "label": "Propose ending by mutual agreement",
            "effects": (
                Schedule("end_proposal_expiry"),
                Notify(
                    OTHER_PARTY,
                    "{actor} proposed ending the contract {title} by mutual agreement; "
                    "accept it within {expiry_days} days.",
                ),
                Email(OTHER_PARTY, "end_proposed"),
                DetectText("A proposal note"),
            ),
        },
    )
    def propose_end(self, *, by, at: datetime, reason: str = "") -> None:
        self.end_proposed_by = by
        self.end_proposed_at = at

    @transition(
        field=state,
        source=list(OPEN_STATES),
        target=None,
        conditions=[pending_end_proposal],
        permission=proposer_only,
        custom={
            "verb": "withdraw the end proposal of",
            "label": "Withdraw your proposal to end",
            "effects": (
                Notify(
                    OTHER_PARTY, "{actor} withdrew the proposal to end the contract {title}; it continues as before."
                ),
            ),
        },
    )
    def withdraw_end_proposal(self, *, by, at: datetime, reason: str = "") -> None:
        self._clear_end_proposal()

    @transition(
        field=state,
        source=list(OPEN_STATES),
        target=None,
        conditions=[pending_end_proposal],
        permission=other_party_only,
        custom={
            "verb": "decline the proposed end of",
            "label": "Decline the proposed end",
            "effects": (
                Notify(
                    OTHER_PARTY,
                    "{actor} declined ending the contract {title} by mutual agreement; it continues as before.",
                    quote_reason=True,
                ),
                DetectText("A message declining a proposed end"),
            ),
        },
    )
    def decline_end(self, *, by, at: datetime, reason: str = "") -> None:
        """``reason`` is the optional message to the proposer."""
        self._clear_end_proposal()

    @transition(
        field=state,
        source=list(OPEN_STATES),
        target=None,
        conditions=[end_proposal_expired],
        permission=system_only,
        custom={"verb": "expire the end proposal of"},
    )
    def expire_end_proposal(self, *, by=None, at: datetime, reason: str = "") -> None:
        self._clear_end_proposal()

    @transition(
        field=state,
        source=list(OPEN_STATES),
        target=ContractState.ENDED,
        conditions=[pending_end_proposal],
        permission=other_party_only,
        custom={
            "verb": "accept the end of",
            "label": "Accept the proposed end",
            "confirm": "Accept and end contract",
            "private_reason": True,
            "effects": (
                Notify(OTHER_PARTY, "{actor} accepted ending the contract {title} by mutual agreement; it has ended."),
                *ENDED_EFFECTS,
            ),
        },
    )
    def accept_end(self, *, by, at: datetime, reason: str, note: str = "") -> None:
        self._mark_ended(by=by, at=at, kind=EndKind.MUTUAL, reason=reason, note=note)

    @transition(
        field=state,
        source=list(OPEN_STATES),
        target=ContractState.ENDED,
        conditions=[ends_at_once, notice_not_over],
        permission=party_only,
        custom={
            "verb": "end",
            "label": "End contract",
            "label_while_ending": "End now (cut the notice short)",
            "confirm": "End contract",
            "private_reason": True,
            "effects": (
                Notify(OTHER_PARTY, "{actor} ended the contract {title}.", not_from=(ContractState.ENDING,)),
                Notify(
                    OTHER_PARTY,
                    "{actor} ended the contract {title} at once, cutting the notice period short.",
                    only_from=(ContractState.ENDING,),
                ),
                *ENDED_EFFECTS,
            ),
        },
    )
    def end(self, *, by, at: datetime, reason: str, note: str = "") -> None:
        self._mark_ended(by=by, at=at, kind=EndKind.PARTY, reason=reason, note=note)

    @transition(
        field=state,
        source=ContractState.ENDING,
        target=ContractState.ENDED,
        conditions=[after_notice_takes_effect],
        permission=system_only,
        custom={
            "verb": "end at the end of the notice period",
            "private_reason": True,
            "effects": (
                Notify(BOTH_PARTIES, "The notice period is over: the contract {title} has ended."),
                *ENDED_EFFECTS,
            ),
        },
    )
    def elapse_notice(self, *, by=None, at: datetime, reason: str = "") -> None:
        """The end takes effect at the end of the notice period, whenever the sweep runs."""
        self._mark_ended(
            by=self.notice_given_by,
            at=self.notice_effective_at,
            kind=EndKind.NOTICE,
            reason=self.end_reason,
            note=self.end_reason_note,
        )

    @transition(
        field=state,
        source=list(OPEN_STATES),
        target=ContractState.ENDED,
        permission=force_end_permission,
        custom={
            "verb": "force the end of",
            "effects": (
                Notify(BOTH_PARTIES, "The platform ended the contract {title}{because}."),
                Schedule("after_end"),
                Detect("contract_ended"),
            ),
        },
    )
    def force_end(self, *, by, at: datetime, reason: str) -> None:
        self._mark_ended(by=by, at=at, kind=EndKind.FORCED, reason=EndReason.OTHER, note=reason)

    def _mark_ended(self, *, by, at: datetime, kind: str, reason: str, note: str) -> None:
        self.ended_at = at
        self.ended_by = by
        self.end_kind = kind
        self.end_reason = reason
        self.end_reason_note = note
        self._clear_end_proposal()

    def _clear_end_proposal(self) -> None:
        self.end_proposed_by = None
        self.end_proposed_at = None

"""Taking a transition: its rules are checked, the state changes and is saved, and
then what the transition declares (``contracts.effects``) is carried out — the history
row, scheduled work, notifications, e-mails, detectors, in that order — all in the
caller's transaction: a rolled-back action leaves none of them behind.

A change made as a new row rather than a transition (a milestone added, a weekly
limit changed, a rate change proposed: ``contracts.effects.Recorded``) goes through
``record``, which writes its history row and carries out its declared effects the
same way.

A record that stands on its own, without a contract above it (an offer, until it is
accepted), is registered by its app with ``register_standalone``, and the e-mails and
scheduled work its transitions declare with ``register_email`` and
``register_scheduler``: its history rows carry no contract until it has one, and its
own client and freelancer are told.

Notifications say what happened; the only free text they carry is what a person wrote
for the recipient (a message declining a proposal), never a private reason for ending.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.urls import reverse

from billing.money import format_cents
from contracts_portal.errors import DomainError

from ..detection import raise_flags
from ..effects import (
    BOTH_PARTIES,
    CLIENT,
    FREELANCER,
    INVITEE,
    OTHER_PARTY,
    Detect,
    DetectText,
    Email,
    Notify,
    Recorded,
    Schedule,
    in_order,
)
from ..models import (
    Contract,
    EscrowRefundRequest,
    Milestone,
    RateChangeProposal,
    StateChange,
    WeeklyLimitChange,
)
from ..models.rules import transition_meta
from ..models.terms import describe_limit, describe_week
from ..notifications import display_name, notify, quoted
from . import deadline_mail
from .scheduling import (
    schedule_after_end,
    schedule_end_proposal_expiry,
    schedule_milestone_auto_release,
    schedule_notice_elapse,
    schedule_rate_change_expiry,
)

HISTORY_SUBJECTS = {
    Contract: "contract",
    Milestone: "milestone",
    EscrowRefundRequest: "refund request",
    WeeklyLimitChange: "weekly limit",
    RateChangeProposal: "rate change",
}
PLATFORM = "The platform"


@dataclass(frozen=True)
class Standalone:
    """How ``take`` reads a record that stands on its own, without a contract above it
    (an offer, until it is accepted): its own ``client`` and ``freelancer`` (None while
    the person invited has no account) are told, and where the others need their
    contract, these say what to use instead."""

    name: str  # the subject of its history rows
    page: Callable[[Any], str]  # the path its notifications link to
    context: Callable[[Any], dict]  # what its sentences may name, besides {actor} and {because}
    about: Callable[[Any], dict]  # where text written on it was written: its title and evidence, for the detectors
    invitees: Callable[[Any], list[str]] = lambda instance: []  # INVITEE: addresses of people without an account


STANDALONE: dict[type, Standalone] = {}


def register_standalone(model: type, standalone: Standalone) -> None:
    if model in HISTORY_SUBJECTS and STANDALONE.get(model) != standalone:
        raise ImproperlyConfigured(f"{model.__name__} is already a subject of the history.")
    HISTORY_SUBJECTS[model] = standalone.name
    STANDALONE[model] = standalone


@dataclass(frozen=True)
class Occasion:
    """One transition just taken: what its effects are about."""

    instance: object
    transition: str
    source: str
    by: object
    at: datetime
    reason: str
    change: StateChange
    event: dict = field(default_factory=dict)

    @property
    def contract(self) -> Contract | None:
        """The contract, or None for a standalone record that has none (yet)."""
        return self.instance if isinstance(self.instance, Contract) else self.instance.contract

    @property
    def parties(self):
        """What holds the client and the freelancer: the contract, or a standalone record itself."""
        return self.contract or self.instance

    @property
    def standalone(self) -> Standalone | None:
        return STANDALONE.get(type(self.instance))

    @property
    def actor(self):
        """The party who took the transition, or None when the platform took it."""
        parties = self.parties
        return {parties.client_id: parties.client, parties.freelancer_id: parties.freelancer}.get(
            getattr(self.by, "pk", None)
        )

    def recipients(self, to: str) -> list:
        """The people told; for ``INVITEE``, the addresses of people invited without an account."""
        if to == INVITEE:
            return self.standalone.invitees(self.instance) if self.standalone else []
        parties, actor = self.parties, self.actor
        if to == OTHER_PARTY:
            if actor is None:  # the platform on a party's behalf: both are told
                told = [parties.client, parties.freelancer]
            else:
                told = [parties.freelancer if actor.pk == parties.client_id else parties.client]
        else:
            told = {
                BOTH_PARTIES: [parties.client, parties.freelancer],
                CLIENT: [parties.client],
                FREELANCER: [parties.freelancer],
            }[to]
        return [person for person in told if person is not None]

    @property
    def actor_name(self) -> str:
        return display_name(self.actor) if self.actor is not None else PLATFORM


def declared_effects(instance, transition_name: str) -> tuple:
    meta = transition_meta(instance, transition_name)
    return next(iter(meta.transitions.values())).custom.get("effects", ())


def carry_out(instance, transition_name: str, *, source: str, by, at, reason: str, event: dict) -> StateChange:
    """Write the history row, then carry out the transition's declared effects."""
    return _history_and_effects(
        instance,
        transition_name,
        declared_effects(instance, transition_name),
        source=source,
        target=instance.state,
        by=by,
        at=at,
        reason=reason,
        event=event,
    )


def _history_and_effects(
    instance, name: str, effects, *, source: str, target: str, by, at, reason: str, event: dict
) -> StateChange:
    change = StateChange.objects.create(
        contract_id=instance.pk if isinstance(instance, Contract) else instance.contract_id,
        subject=HISTORY_SUBJECTS[type(instance)],
        subject_id=instance.pk,
        transition=name,
        source=source,
        target=target,
        actor=by,
        reason=reason,
        created_at=at,
    )
    occasion = Occasion(instance, name, source, by, at, reason, change, event)
    for effect in in_order(effects):
        RUNNERS[type(effect)](effect, occasion)
    return change


def record(instance, declared: Recorded, *, by, at, reason: str = "") -> StateChange:
    """Write the history row of a change made as a new row (``instance``, just
    saved), then carry out its declared effects, in the caller's transaction. The
    history shows it as new: no source state, and the row's state if it has one."""
    if not isinstance(instance, declared.model):
        raise TypeError(f"{declared.name!r} records a {declared.model.__name__}, not a {type(instance).__name__}")
    if not connection.in_atomic_block:
        raise RuntimeError("Changes must be recorded inside transaction.atomic(); use the services.")
    return _history_and_effects(
        instance,
        declared.name,
        declared.effects,
        source="",
        target=getattr(instance, "state", ""),
        by=by,
        at=at,
        reason=reason,
        event={},
    )


# What a sentence may name.


def sentence_context(occasion: Occasion) -> dict:
    if occasion.standalone is not None:
        return {
            "actor": occasion.actor_name,
            "because": f": {occasion.reason.strip().rstrip('.')}" if occasion.reason.strip() else "",
            **occasion.standalone.context(occasion.instance),
        }
    contract = occasion.contract
    context = {
        "actor": occasion.actor_name,
        "title": quoted(contract.title),
        "client": display_name(contract.client),
        "freelancer": display_name(contract.freelancer),
        "effective": contract.notice_effective_at.astimezone(UTC) if contract.notice_effective_at else None,
        "expiry_days": settings.END_PROPOSAL_EXPIRY_DAYS,
        "auto_release_days": settings.MILESTONE_AUTO_RELEASE_DAYS,
        "response_days": settings.REFUND_REQUEST_RESPONSE_DAYS,
        "because": f": {occasion.reason.strip().rstrip('.')}" if occasion.reason.strip() else "",
    }
    instance = occasion.instance
    if isinstance(instance, Milestone):
        context |= {
            "milestone": quoted(instance.title),
            "milestone_id": instance.pk,
            "amount": format_cents(instance.amount_cents),
        }
    elif isinstance(instance, EscrowRefundRequest):
        context["requested"] = (
            f"{format_cents(instance.amount_cents)} on the milestone {quoted(instance.milestone.title)} "
            f"of {quoted(contract.title)}"
        )
    elif isinstance(instance, WeeklyLimitChange):
        context |= {"limit": describe_limit(instance.hours), "starts": describe_week(instance.effective_from)}
    elif isinstance(instance, RateChangeProposal):
        context |= {
            "rate": f"{format_cents(instance.rate_cents)} an hour",
            "starts": describe_week(instance.effective_from) if instance.effective_from else "",
            "answer_days": settings.RATE_CHANGE_EXPIRY_DAYS,
        }
    return context


def contract_link(contract_id: int, anchor: str = "") -> str:
    return reverse("contract_detail", args=[contract_id]) + anchor


def occasion_link(occasion: Occasion, anchor: str = "") -> str:
    """The page a notification of the occasion opens: the contract's, or a standalone record's own."""
    if occasion.standalone is not None:
        return occasion.standalone.page(occasion.instance) + anchor
    return contract_link(occasion.contract.pk, anchor)


# The runners, one per kind of effect.


def _notify(effect: Notify, occasion: Occasion) -> None:
    if not effect.applies_from(occasion.source):
        return
    context = sentence_context(occasion)
    message = effect.sentence.format(**context)
    if effect.quote_reason and occasion.reason:
        message += f" Their message: {quoted(occasion.reason)}."
    contract = occasion.contract
    notify(
        occasion.recipients(effect.to),
        contract_id=contract.pk if contract else None,
        kind=effect.kind,
        message=message,
        at=occasion.at,
        link=occasion_link(occasion, effect.link.format(**context)) if effect.link or occasion.standalone else "",
    )


def _email_notice_given(occasion: Occasion, recipient) -> None:
    deadline_mail.email_notice_given(
        contract=occasion.contract,
        recipient=recipient,
        actor_name=occasion.actor_name,
        key=f"email:notice-given:{occasion.change.pk}:{recipient.pk}",
        effective_at=occasion.contract.notice_effective_at,
    )


def _email_end_proposed(occasion: Occasion, recipient) -> None:
    deadline_mail.email_end_proposed(
        contract=occasion.contract,
        recipient=recipient,
        actor_name=occasion.actor_name,
        key=f"email:end-proposed:{occasion.change.pk}:{recipient.pk}",
        expires_at=occasion.contract.end_proposal_expires_at,
    )


def _email_work_submitted(occasion: Occasion, recipient) -> None:
    milestone = occasion.instance
    deadline_mail.email_work_submitted(
        milestone=milestone,
        contract=occasion.contract,
        key=f"email:work-submitted:{occasion.change.pk}",
        deadline=milestone.submitted_at + timedelta(days=settings.MILESTONE_AUTO_RELEASE_DAYS),
    )


def _email_rate_change_proposed(occasion: Occasion, recipient) -> None:
    proposal = occasion.instance
    deadline_mail.email_rate_change_proposed(
        proposal=proposal,
        contract=occasion.contract,
        recipient=recipient,
        actor_name=occasion.actor_name,
        key=f"email:rate-change-proposed:{occasion.change.pk}:{recipient.pk}",
    )


EMAILS = {
    "notice_given": _email_notice_given,
    "end_proposed": _email_end_proposed,
    "work_submitted": _email_work_submitted,
    "rate_change_proposed": _email_rate_change_proposed,
}


def register_email(name: str):
    """Register what ``Email(to, name)`` sends, for a model of another app: a function
    of the occasion and one recipient (an address, for ``INVITEE``)."""

    def register(function):
        if EMAILS.get(name, function) is not function:
            raise ImproperlyConfigured(f"The e-mail {name!r} is already registered.")
        EMAILS[name] = function
        return function

    return register


def _email(effect: Email, occasion: Occasion) -> None:
    for recipient in occasion.recipients(effect.to):
        EMAILS[effect.name](occasion, recipient)


SCHEDULERS = {
    "notice_elapse": lambda occasion: schedule_notice_elapse(occasion.contract),
    "end_proposal_expiry": lambda occasion: schedule_end_proposal_expiry(occasion.contract),
    "milestone_auto_release": lambda occasion: schedule_milestone_auto_release(occasion.instance),
    "after_end": lambda occasion: schedule_after_end(
        occasion.contract, ended_at=occasion.contract.ended_at, at=occasion.at
    ),
    "rate_change_expiry": lambda occasion: schedule_rate_change_expiry(occasion.instance),
}


def register_scheduler(name: str):
    """Register the scheduled work ``Schedule(name)`` writes, for a model of another
    app: a function of the occasion."""

    def register(function):
        if SCHEDULERS.get(name, function) is not function:
            raise ImproperlyConfigured(f"The scheduled work {name!r} is already registered.")
        SCHEDULERS[name] = function
        return function

    return register


def _schedule(effect: Schedule, occasion: Occasion) -> None:
    SCHEDULERS[effect.work](occasion)


def _detect_text(effect: DetectText, occasion: Occasion) -> None:
    instance = occasion.instance
    text = getattr(instance, effect.text_field) if effect.text_field else occasion.reason
    author = getattr(instance, effect.author_field) if effect.author_field else occasion.by
    if not text or author is None:
        return
    # Text written on a record without a contract above it (an offer) says where it was written.
    about = {"about": occasion.standalone.about(instance)} if occasion.standalone else {}
    raise_flags(
        "text_written",
        text=text,
        author=author,
        contract=occasion.contract,
        source=effect.source,
        source_key=effect.event.format(pk=occasion.parties.pk, change=occasion.change.pk),
        **about,
    )


def _detect(effect: Detect, occasion: Occasion) -> None:
    raise_flags(effect.event, contract=occasion.contract, **occasion.event)


RUNNERS = {Notify: _notify, Email: _email, Schedule: _schedule, DetectText: _detect_text, Detect: _detect}


# Taking a transition.


def check(instance, transition_name: str, *, by, as_platform: bool = False) -> None:
    """Raise the refusal if the transition's rules do not allow it now.

    ``as_platform`` skips the permission (deadlines, and effects of an action that
    was itself authorised) but never the state or the conditions.
    """
    refusal = instance.refusal(transition_name, None if as_platform else by)
    if refusal:
        raise DomainError(refusal)


def take(
    instance, transition_name: str, *, by, at, as_platform: bool = False, event: dict | None = None, **kwargs
) -> StateChange:
    """Take a transition if its rules allow it now, save, and carry out its declared
    effects; or raise the refusal. ``event`` is what the declared detectors need
    besides the instance (the ``EndPlan`` of an end). Returns the history row."""
    check(instance, transition_name, by=by, as_platform=as_platform)
    if not connection.in_atomic_block:
        raise RuntimeError("State transitions must run inside transaction.atomic(); use the services.")
    source = instance.state
    getattr(instance, transition_name)(by=by, at=at, **kwargs)
    instance.save()
    return carry_out(
        instance,
        transition_name,
        source=source,
        by=by,
        at=at,
        reason=str(kwargs.get("reason") or ""),
        event=event or {},
    )

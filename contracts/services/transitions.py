"""Taking a transition: its rules are checked, the state changes and is saved, and
then what the transition declares (``contracts.effects``) is carried out — the history
row, scheduled work, notifications, e-mails, detectors, in that order — all in the
caller's transaction: a rolled-back action leaves none of them behind.

Notifications say what happened; the only free text they carry is what a person wrote
for the recipient (a message declining a proposal), never a private reason for ending.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.urls import reverse

from billing.money import format_cents
from contracts_portal.errors import DomainError

from ..detection import raise_flags
from ..effects import (
    BOTH_PARTIES,
    CLIENT,
    FREELANCER,
    OTHER_PARTY,
    Detect,
    DetectText,
    Email,
    Notify,
    Schedule,
    in_order,
)
from ..models import Contract, EscrowRefundRequest, Milestone, StateChange
from ..models.rules import transition_meta
from ..notifications import display_name, notify, quoted
from . import deadline_mail
from .scheduling import (
    schedule_after_end,
    schedule_end_proposal_expiry,
    schedule_milestone_auto_release,
    schedule_notice_elapse,
)

HISTORY_SUBJECTS = {Contract: "contract", Milestone: "milestone", EscrowRefundRequest: "refund request"}
PLATFORM = "The platform"


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
    def contract(self) -> Contract:
        return self.instance if isinstance(self.instance, Contract) else self.instance.contract

    @property
    def actor(self):
        """The party who took the transition, or None when the platform took it."""
        contract = self.contract
        return {contract.client_id: contract.client, contract.freelancer_id: contract.freelancer}.get(
            getattr(self.by, "pk", None)
        )

    def recipients(self, to: str) -> list:
        contract, actor = self.contract, self.actor
        if to == OTHER_PARTY:
            if actor is None:  # the platform on a party's behalf: both are told
                return [contract.client, contract.freelancer]
            return [contract.freelancer if actor.pk == contract.client_id else contract.client]
        return {
            BOTH_PARTIES: [contract.client, contract.freelancer],
            CLIENT: [contract.client],
            FREELANCER: [contract.freelancer],
        }[to]

    @property
    def actor_name(self) -> str:
        return display_name(self.actor) if self.actor is not None else PLATFORM


def declared_effects(instance, transition_name: str) -> tuple:
    meta = transition_meta(instance, transition_name)
    return next(iter(meta.transitions.values())).custom.get("effects", ())


def carry_out(instance, transition_name: str, *, source: str, by, at, reason: str, event: dict) -> StateChange:
    """Write the history row, then carry out the transition's declared effects."""
    change = StateChange.objects.create(
        contract_id=instance.pk if isinstance(instance, Contract) else instance.contract_id,
        subject=HISTORY_SUBJECTS[type(instance)],
        subject_id=instance.pk,
        transition=transition_name,
        source=source,
        target=instance.state,
        actor=by,
        reason=reason,
        created_at=at,
    )
    occasion = Occasion(instance, transition_name, source, by, at, reason, change, event)
    for effect in in_order(declared_effects(instance, transition_name)):
        RUNNERS[type(effect)](effect, occasion)
    return change


# What a sentence may name.


def sentence_context(occasion: Occasion) -> dict:
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
    return context


def contract_link(contract_id: int, anchor: str = "") -> str:
    return reverse("contract_detail", args=[contract_id]) + anchor


# The runners, one per kind of effect.


def _notify(effect: Notify, occasion: Occasion) -> None:
    if not effect.applies_from(occasion.source):
        return
    context = sentence_context(occasion)
    message = effect.sentence.format(**context)
    if effect.quote_reason and occasion.reason:
        message += f" Their message: {quoted(occasion.reason)}."
    notify(
        occasion.recipients(effect.to),
        contract_id=occasion.contract.pk,
        kind=effect.kind,
        message=message,
        at=occasion.at,
        link=contract_link(occasion.contract.pk, effect.link.format(**context)) if effect.link else "",
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


EMAILS = {
    "notice_given": _email_notice_given,
    "end_proposed": _email_end_proposed,
    "work_submitted": _email_work_submitted,
}


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
}


def _schedule(effect: Schedule, occasion: Occasion) -> None:
    SCHEDULERS[effect.work](occasion)


def _detect_text(effect: DetectText, occasion: Occasion) -> None:
    instance = occasion.instance
    text = getattr(instance, effect.text_field) if effect.text_field else occasion.reason
    author = getattr(instance, effect.author_field) if effect.author_field else occasion.by
    if not text or author is None:
        return
    raise_flags(
        "text_written",
        text=text,
        author=author,
        contract=occasion.contract,
        source=effect.source,
        source_key=effect.event.format(pk=occasion.contract.pk, change=occasion.change.pk),
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

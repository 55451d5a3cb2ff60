"""Double-blind feedback after a contract ends: each party once, within
``FEEDBACK_WINDOW_DAYS``; both revealed together when the second arrives or when the
window closes."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.money import round_half_up_div
from contracts_portal.errors import DomainError

from ..models import (
    CLIENT_RATES_FREELANCER,
    FREELANCER_RATES_CLIENT,
    Contract,
    EndReason,
    Feedback,
    FeedbackResponse,
    JobKind,
    Notification,
    NotificationKind,
)
from ..notifications import display_name
from .deadline_mail import contract_url
from .effects import feedback_left
from .jobs import job_handler, job_notify
from .locking import lock_contract
from .mail import queue_email


def feedback_closes_at(contract: Contract) -> datetime | None:
    if contract.ended_at is None:
        return None
    return contract.ended_at + timedelta(days=settings.FEEDBACK_WINDOW_DAYS)


def feedback_refusal(contract: Contract, user, *, now=None) -> str | None:
    """Why ``user`` cannot leave feedback on the contract now, or None."""
    now = now or timezone.now()
    if not contract.is_party(user):
        return "Only the client and the freelancer of this contract can leave feedback on it."
    if contract.is_open:
        return "Feedback opens when the contract ends."
    closes_at = feedback_closes_at(contract)
    if now >= closes_at:
        return (
            f"The feedback window closed on {closes_at:%Y-%m-%d %H:%M} UTC, "
            f"{settings.FEEDBACK_WINDOW_DAYS} days after the contract ended."
        )
    if Feedback.objects.filter(contract=contract, author=user).exists():
        return "You have already left feedback on this contract; feedback cannot be changed."
    return None


def criteria_for(contract: Contract, author) -> tuple[tuple[str, str], ...]:
    return CLIENT_RATES_FREELANCER if author.pk == contract.client_id else FREELANCER_RATES_CLIENT


def _checked_scores(criteria, scores: dict) -> dict[str, int]:
    checked = {}
    for code, label in criteria:
        value = scores.get(code)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise DomainError(f"Rate “{label}” from 1 to 5.")
        checked[code] = value
    if set(scores) - set(checked):
        raise DomainError("Rate only the listed qualities.")
    return checked


def _reveal(contract: Contract, *, at: datetime) -> int:
    """Reveal the contract's hidden feedback and tell both parties, once."""
    revealed = Feedback.objects.filter(contract=contract, revealed_at__isnull=True).update(revealed_at=at)
    if not revealed:
        return 0
    message = f"Feedback on “{contract.title}” is now visible to both of you."
    for user in (contract.client, contract.freelancer):
        Notification.objects.create(
            user=user, contract=contract, kind=NotificationKind.CONTRACT, message=message, created_at=at
        )
        queue_email(
            key=f"feedback-revealed:{contract.pk}:{user.pk}",
            user=user,
            subject=f"Feedback on “{contract.title}” is visible",
            template="feedback_revealed",
            context={
                "contract": contract,
                "contract_url": contract_url(contract, "feedback"),
            },
        )
    return revealed


def feedback_submit(
    *,
    contract: Contract,
    by,
    scores: dict,
    public_comment: str = "",
    private_reason: str,
    private_recommend: int,
) -> Feedback:
    """Leave feedback once. The second party's submission reveals both together."""
    with transaction.atomic():
        contract = lock_contract(contract.pk)
        now = timezone.now()
        refusal = feedback_refusal(contract, by, now=now)
        if refusal:
            raise DomainError(refusal)
        checked = _checked_scores(criteria_for(contract, by), scores)
        if private_reason not in EndReason.values:
            raise DomainError("Choose your reason for ending (private).")
        if isinstance(private_recommend, bool) or not isinstance(private_recommend, int):
            raise DomainError("Say how likely you are to recommend them, from 0 to 10.")
        if not 0 <= private_recommend <= 10:
            raise DomainError("Say how likely you are to recommend them, from 0 to 10.")
        other = contract.other_party(by)
        feedback = Feedback.objects.create(
            contract=contract,
            author=by,
            recipient=other,
            author_is_client=by.pk == contract.client_id,
            scores=checked,
            overall_hundredths=round_half_up_div(sum(checked.values()) * 100, len(checked)),
            public_comment=public_comment.strip(),
            private_reason=private_reason,
            private_recommend=private_recommend,
            created_at=now,
        )
        feedback_left(feedback)
        if Feedback.objects.filter(contract=contract, author=other).exists():
            _reveal(contract, at=now)
            feedback.revealed_at = now
        else:
            Notification.objects.create(
                user=other,
                contract=contract,
                kind=NotificationKind.CONTRACT,
                message=(
                    f"{display_name(by)} left feedback on “{contract.title}”. Leave yours by "
                    f"{feedback_closes_at(contract):%Y-%m-%d %H:%M} UTC: you will both see each other's "
                    "once both have left it or the window closes."
                ),
                created_at=now,
            )
        return feedback


def feedback_reveal_pending(*, contract_id: int) -> int:
    """Day 14: the window closes and feedback left by only one party is revealed."""
    with transaction.atomic():
        contract = lock_contract(contract_id)
        closes_at = feedback_closes_at(contract)
        if timezone.now() < closes_at:
            raise DomainError("The feedback window is still open.")
        return _reveal(contract, at=closes_at)


@job_handler(JobKind.FEEDBACK_REQUEST)
def _feedback_request(job) -> str:
    closes_at = feedback_closes_at(job.contract)
    return job_notify(
        job,
        subject=f"How did “{job.contract.title}” go? Leave feedback",
        message=(
            f"Leave feedback on “{job.contract.title}” by {closes_at:%Y-%m-%d %H:%M} UTC. "
            "Neither of you sees the other's feedback until both have left it or the window closes."
        ),
        template="feedback_request",
        context={"closes_at": closes_at, "window_days": settings.FEEDBACK_WINDOW_DAYS},
    )


@job_handler(JobKind.FEEDBACK_REMINDER)
def _feedback_reminder(job) -> str:
    if Feedback.objects.filter(contract=job.contract, author=job.recipient).exists():
        raise DomainError("Feedback already left: no reminder needed.")
    closes_at = feedback_closes_at(job.contract)
    return job_notify(
        job,
        subject=f"Reminder: feedback on “{job.contract.title}” closes {closes_at:%b %d}",
        message=f"A reminder: you can leave feedback on “{job.contract.title}” until {closes_at:%Y-%m-%d %H:%M} UTC.",
        template="feedback_reminder",
        context={"closes_at": closes_at},
    )


@job_handler(JobKind.FEEDBACK_WINDOW_CLOSE)
def _feedback_window_close(job) -> str:
    revealed = feedback_reveal_pending(contract_id=job.contract_id)
    return f"feedback window closed; {revealed} feedback revealed"


def feedback_respond(*, feedback: Feedback, by, text: str) -> FeedbackResponse:
    """The recipient's one public response to revealed feedback."""
    with transaction.atomic():
        lock_contract(feedback.contract_id)
        feedback = Feedback.objects.select_related("contract").get(pk=feedback.pk)
        if not (by and by.is_authenticated and by.pk == feedback.recipient_id):
            raise DomainError("Only the person the feedback is about can respond to it.")
        if feedback.revealed_at is None:
            raise DomainError("You can respond once the feedback is visible to you.")
        if FeedbackResponse.objects.filter(feedback=feedback).exists():
            raise DomainError("You have already responded to this feedback.")
        if not text.strip():
            raise DomainError("Write your response.")
        return FeedbackResponse.objects.create(feedback=feedback, text=text.strip())

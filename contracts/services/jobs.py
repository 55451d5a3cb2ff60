"""Running scheduled work: the beat sweep hands due ``ScheduledJob`` rows to workers,
and a worker runs each through ``job_execute``, which does a job's effects once.

At-least-once delivery from the broker is fine: ``job_execute`` locks the row and
returns at once for a job already done, and every effect carries its own unique key
(e-mails, notifications by job, money by idempotency key).
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from billing.services.invoices import invoice_unbilled_time
from contracts_portal.errors import DomainError

from ..models import (
    ChecklistItem,
    ContractState,
    EmailState,
    Feedback,
    JobKind,
    JobState,
    Notification,
    NotificationKind,
    OutgoingEmail,
    ScheduledJob,
)
from .ending import contract_elapse_notice
from .feedback import feedback_reveal_pending
from .lifecycle import contract_expire_end_proposal
from .locking import lock_contract
from .mail import queue_email
from .milestones import milestone_release_unreviewed
from .refund_requests import refund_request_approve_unanswered

FINISHED = (JobState.DONE, JobState.SKIPPED, JobState.FAILED)
EMAIL_RETRY_BACKOFF_MAX_SECONDS = 600


def _tell(job: ScheduledJob, *, subject: str, message: str, template: str, context: dict) -> str:
    """An in-app notification and an e-mail to the job's recipient, each once."""
    contract, user = job.contract, job.recipient
    Notification.objects.create(
        user=user, contract=contract, kind=NotificationKind.CONTRACT, message=message, created_at=timezone.now()
    )
    context = {
        **context,
        "contract": contract,
        "contract_url": settings.PORTAL_BASE_URL + reverse("contract_detail", args=[contract.pk]),
    }
    queue_email(key=f"email:{job.key}", user=user, subject=subject, template=template, context=context)
    return f"sent to {user.get_username()}"


def _closure_checklist(job: ScheduledJob) -> str:
    items = list(ChecklistItem.objects.filter(contract=job.contract, user=job.recipient).order_by("position"))
    is_freelancer = job.recipient_id == job.contract.freelancer_id
    return _tell(
        job,
        subject=f"Closing “{job.contract.title}”: your checklist",
        message=(
            f"The contract “{job.contract.title}” has ended. Your closure checklist has "
            f"{len(items)} step{'s' if len(items) != 1 else ''}; tick them off on the contract page."
        ),
        template="closure_checklist",
        context={
            "items": items,
            "is_freelancer": is_freelancer,
            "refund_window_days": settings.REFUND_WINDOW_DAYS,
            "refunds_url": settings.PORTAL_BASE_URL + reverse("refunds"),
        },
    )


def _feedback_closes_at(job: ScheduledJob):
    return job.contract.ended_at + timedelta(days=settings.FEEDBACK_WINDOW_DAYS)


def _feedback_request(job: ScheduledJob) -> str:
    closes_at = _feedback_closes_at(job)
    return _tell(
        job,
        subject=f"How did “{job.contract.title}” go? Leave feedback",
        message=(
            f"Leave feedback on “{job.contract.title}” by {closes_at:%Y-%m-%d %H:%M} UTC. "
            "Neither of you sees the other's feedback until both have left it or the window closes."
        ),
        template="feedback_request",
        context={"closes_at": closes_at, "window_days": settings.FEEDBACK_WINDOW_DAYS},
    )


def _feedback_reminder(job: ScheduledJob) -> str:
    if Feedback.objects.filter(contract=job.contract, author=job.recipient).exists():
        raise DomainError("Feedback already left: no reminder needed.")
    closes_at = _feedback_closes_at(job)
    return _tell(
        job,
        subject=f"Reminder: feedback on “{job.contract.title}” closes {closes_at:%b %d}",
        message=(f"A reminder: you can leave feedback on “{job.contract.title}” until {closes_at:%Y-%m-%d %H:%M} UTC."),
        template="feedback_reminder",
        context={"closes_at": closes_at},
    )


def _feedback_window_close(job: ScheduledJob) -> str:
    revealed = feedback_reveal_pending(contract_id=job.contract_id)
    return f"feedback window closed; {revealed} feedback revealed"


def _notice_elapse(job: ScheduledJob) -> str:
    contract_elapse_notice(contract_id=job.contract_id)
    return "contract ended at the end of the notice period"


def _milestone_auto_release(job: ScheduledJob) -> str:
    payment = milestone_release_unreviewed(milestone_id=job.subject_id)
    return f"released payment #{payment.pk}"


def _refund_request_auto_approve(job: ScheduledJob) -> str:
    refund_request_approve_unanswered(request_id=job.subject_id)
    return "approved without an answer"


def _end_proposal_expiry(job: ScheduledJob) -> str:
    contract_expire_end_proposal(contract_id=job.contract_id)
    return "proposal expired"


def _weekly_invoice(job: ScheduledJob) -> str:
    monday = date.fromordinal(job.subject_id)
    with transaction.atomic():
        contract = lock_contract(job.contract_id)
        if contract.state == ContractState.ENDED:
            raise DomainError("The contract has ended; its final invoice covered its time.")
        invoice = invoice_unbilled_time(
            contract=contract,
            key=f"contract:{contract.pk}:week:{monday:%Y-%m-%d}",
            at=timezone.now(),
            through=monday + timedelta(days=6),
        )
    return f"invoice #{invoice.pk}" if invoice else "no unbilled time"


HANDLERS = {
    JobKind.CLOSURE_CHECKLIST: _closure_checklist,
    JobKind.FEEDBACK_REQUEST: _feedback_request,
    JobKind.FEEDBACK_REMINDER: _feedback_reminder,
    JobKind.FEEDBACK_WINDOW_CLOSE: _feedback_window_close,
    JobKind.NOTICE_ELAPSE: _notice_elapse,
    JobKind.MILESTONE_AUTO_RELEASE: _milestone_auto_release,
    JobKind.REFUND_REQUEST_AUTO_APPROVE: _refund_request_auto_approve,
    JobKind.END_PROPOSAL_EXPIRY: _end_proposal_expiry,
    JobKind.WEEKLY_INVOICE: _weekly_invoice,
}


def job_execute(*, job_id: int) -> str:
    """Do a due job's work once. A job that no longer applies (the contract ended
    another way, the client released the work) is marked skipped with the reason.

    The attempt is counted when a worker starts the job, in its own commit, so a job
    whose work keeps failing or killing its worker is given up by the sweep after
    JOB_MAX_ATTEMPTS, while one only waiting behind others in the broker is not.
    """
    started = (
        ScheduledJob.objects.filter(pk=job_id)
        .exclude(state__in=FINISHED)
        .update(attempts=F("attempts") + 1, queued_at=timezone.now())
    )
    if not started:
        return "nothing to do"
    with transaction.atomic():
        job = (
            ScheduledJob.objects.select_for_update(of=("self",))
            .select_related("contract", "contract__client", "contract__freelancer", "recipient")
            .filter(pk=job_id)
            .first()
        )
        if job is None or job.state in FINISHED:
            return "nothing to do"
        now = timezone.now()
        if job.due_at > now:
            return "not due yet"
        try:
            with transaction.atomic():
                job.outcome = HANDLERS[job.kind](job)
            job.state = JobState.DONE
        except DomainError as error:
            job.state, job.outcome = JobState.SKIPPED, error.message
        job.finished_at = now
        job.save(update_fields=["state", "outcome", "finished_at"])
        return job.outcome


def jobs_claim_due(*, limit: int, now=None) -> list[int]:
    """Hand out due jobs: pending ones whose time has come, and queued ones a worker
    received but did not finish in time (it died). Rows other sweeps hold are
    skipped, so several sweeps never hand out the same job together."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.JOB_REQUEUE_AFTER_SECONDS)
    with transaction.atomic():
        ids = list(
            ScheduledJob.objects.select_for_update(skip_locked=True)
            .filter(Q(state=JobState.PENDING, due_at__lte=now) | Q(state=JobState.QUEUED, queued_at__lt=stale))
            .order_by("due_at", "id")
            .values_list("id", flat=True)[:limit]
        )
        if not ids:
            return []
        ScheduledJob.objects.filter(pk__in=ids, attempts__gte=settings.JOB_MAX_ATTEMPTS).update(
            state=JobState.FAILED, finished_at=now, outcome="Gave up after repeated attempts; see the worker log."
        )
        ScheduledJob.objects.filter(pk__in=ids, attempts__lt=settings.JOB_MAX_ATTEMPTS).update(
            state=JobState.QUEUED, queued_at=now
        )
        return list(ScheduledJob.objects.filter(pk__in=ids, state=JobState.QUEUED).values_list("id", flat=True))


def emails_to_resend(*, limit: int, now=None) -> list[int]:
    """E-mails whose delivery task was lost: never claimed a while after they were
    recorded, waiting for a retry far longer than the longest backoff, or claimed by
    a worker that died while sending. A failed send waiting for its retry is left
    to that retry, so a mail server that is down is not asked again every sweep."""
    now = now or timezone.now()
    unsent_after = timedelta(seconds=settings.EMAIL_RESEND_UNSENT_AFTER_SECONDS)
    retry_lost_after = timedelta(seconds=EMAIL_RETRY_BACKOFF_MAX_SECONDS) + unsent_after
    return list(
        OutgoingEmail.objects.filter(
            Q(state=EmailState.PENDING, claimed_at__isnull=True, created_at__lt=now - unsent_after)
            | Q(state=EmailState.PENDING, claimed_at__lt=now - retry_lost_after)
            | Q(state=EmailState.SENDING, claimed_at__lt=now - timedelta(seconds=settings.EMAIL_CLAIM_STALE_SECONDS))
        ).values_list("id", flat=True)[:limit]
    )

"""Running scheduled work: the beat sweep hands due ``ScheduledJob`` rows to workers,
and a worker runs each through ``job_execute``, which does a job's effects once.

What a job of each kind does is its handler, registered with ``@job_handler(kind)``
next to the service that does the work (``contract_elapse_notice`` and the notice
job's handler in ``ending.py``, and so on), as detectors register with ``@detector``.
The handlers register when ``contracts.services`` is imported, so this module knows
no domain service. A second handler for a kind is refused when it registers, a kind
without one fails its job loudly, and tests/automation/test_job_handlers.py checks
that every ``JobKind`` has its handler.

At-least-once delivery from the broker is fine: ``job_execute`` locks the row and
returns at once for a job already done, and every effect carries its own unique key
(e-mails, notifications by job, money by idempotency key).
"""

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from contracts_portal.errors import DomainError

from ..models import JobState, Notification, NotificationKind, ScheduledJob
from .mail import queue_email

FINISHED = (JobState.DONE, JobState.SKIPPED, JobState.FAILED)

JobHandler = Callable[[ScheduledJob], str]

JOB_HANDLERS: dict[str, JobHandler] = {}


def job_handler(kind: str) -> Callable[[JobHandler], JobHandler]:
    """Register what a due job of ``kind`` does: a function of the locked job that
    returns its outcome for the job's row, or raises ``DomainError`` to skip it with
    the reason (the job no longer applies). It runs in the job's transaction."""

    def register(function: JobHandler) -> JobHandler:
        existing = JOB_HANDLERS.get(kind)
        if existing is not None and existing is not function:
            raise ImproperlyConfigured(
                f"Jobs of kind {kind!r} already have a handler, {existing.__module__}.{existing.__qualname__}: "
                f"{function.__module__}.{function.__qualname__} cannot be a second one."
            )
        JOB_HANDLERS[kind] = function
        return function

    return register


def job_notify(job: ScheduledJob, *, subject: str, message: str, template: str, context: dict) -> str:
    """An in-app notification and an e-mail to the job's recipient, each once (the
    e-mail under the job's key; the job runs once)."""
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


def _handler_of(job: ScheduledJob) -> JobHandler:
    try:
        return JOB_HANDLERS[job.kind]
    except KeyError:
        raise ImproperlyConfigured(
            f"No handler is registered for scheduled jobs of kind {job.kind!r} (job #{job.pk}): "
            "register one with @job_handler next to the service that does the work."
        ) from None


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
                job.outcome = _handler_of(job)(job)
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

"""Celery tasks: thin wrappers that carry ids and call services.

Tasks are acknowledged late and rejected when their worker is lost (settings), so a
killed worker's task is delivered again; the services make a second delivery do
nothing. The database rows are the source of truth: the sweep hands out again what
a dead worker held, whatever the broker did with the message.
"""

from datetime import timedelta
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F, Q
from django.utils import timezone

from .models import EmailState, OutgoingEmail, week_start
from .services.jobs import EMAIL_RETRY_BACKOFF_MAX_SECONDS, emails_to_resend, job_execute, jobs_claim_due
from .services.scheduling import schedule_weekly_invoices

MAX_JOBS_PER_SWEEP = 100_000
EMAIL_RETRIES = 6


@shared_task(name="contracts.tasks.run_job")
def run_job(job_id: int) -> str:
    return job_execute(job_id=job_id)


@shared_task(name="contracts.tasks.sweep_scheduled_work")
def sweep_scheduled_work() -> int:
    """Hand every due job to the workers, in batches, and re-send e-mails whose
    delivery was lost. Returns how many jobs were handed out."""
    handed_out = 0
    while handed_out < MAX_JOBS_PER_SWEEP:
        ids = jobs_claim_due(limit=settings.JOB_SWEEP_BATCH_SIZE)
        for job_id in ids:
            run_job.delay(job_id)
        handed_out += len(ids)
        if len(ids) < settings.JOB_SWEEP_BATCH_SIZE:
            break
    for email_id in emails_to_resend(limit=settings.JOB_SWEEP_BATCH_SIZE):
        deliver_email.delay(email_id)
    return handed_out


@shared_task(name="contracts.tasks.schedule_weekly_invoices")
def schedule_weekly_invoices_task() -> int:
    """Monday 12:00 UTC: invoice last week's unbilled time of every open hourly contract."""
    now = timezone.now()
    return schedule_weekly_invoices(monday=week_start(now.date()) - timedelta(days=7), at=now)


@shared_task(
    bind=True,
    name="contracts.tasks.deliver_email",
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=EMAIL_RETRY_BACKOFF_MAX_SECONDS,
    max_retries=EMAIL_RETRIES,
)
def deliver_email(self, email_id: int) -> str:
    """Send a recorded e-mail once: claim it, send it, mark it sent."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.EMAIL_CLAIM_STALE_SECONDS)
    claimed = (
        OutgoingEmail.objects.filter(pk=email_id)
        .filter(Q(state=EmailState.PENDING) | Q(state=EmailState.SENDING, claimed_at__lt=stale))
        .update(state=EmailState.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return "already sent or being sent"
    email = OutgoingEmail.objects.get(pk=email_id)
    message = EmailMultiAlternatives(email.subject, email.body_text, settings.DEFAULT_FROM_EMAIL, [email.to])
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    try:
        message.send()
    except (SMTPException, OSError) as error:
        gave_up = self.request.retries >= EMAIL_RETRIES
        OutgoingEmail.objects.filter(pk=email_id).update(
            state=EmailState.FAILED if gave_up else EmailState.PENDING, last_error=str(error)[:2000]
        )
        raise
    OutgoingEmail.objects.filter(pk=email_id).update(state=EmailState.SENT, sent_at=timezone.now())
    return "sent"

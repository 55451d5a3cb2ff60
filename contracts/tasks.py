"""Celery tasks: thin wrappers that carry ids and call services.

As the HackSoft Django styleguide has it, a task imports its services inside its
body and the services import the tasks they enqueue at the top (``queue_email``
enqueues ``deliver_email``, ``schedule_job`` enqueues ``run_job``): this module
imports no service when it loads, so loading either side never needs the other
half-loaded. The import contracts in pyproject.toml name these two edges.

Tasks are acknowledged late and rejected when their worker is lost (settings), so a
killed worker's task is delivered again; the services make a second delivery do
nothing. The database rows are the source of truth: the sweep hands out again what
a dead worker held, whatever the broker did with the message.
"""

from datetime import timedelta
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .models import week_start

MAX_JOBS_PER_SWEEP = 100_000
EMAIL_RETRIES = 6
EMAIL_RETRY_BACKOFF_MAX_SECONDS = 600


@shared_task(name="contracts.tasks.run_job")
def run_job(job_id: int) -> str:
    from .services.jobs import job_execute

    return job_execute(job_id=job_id)


@shared_task(name="contracts.tasks.sweep_scheduled_work")
def sweep_scheduled_work() -> int:
    """Hand every due job to the workers, in batches, and re-send e-mails whose
    delivery was lost. Returns how many jobs were handed out."""
    from .services.jobs import jobs_claim_due
    from .services.mail import emails_to_resend

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
    from .services.scheduling import schedule_weekly_invoices

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
    """Deliver a recorded e-mail (``email_deliver``), retried with a growing delay
    while the mail server fails, the last failure marking it failed."""
    from .services.mail import email_deliver

    return email_deliver(email_id=email_id, last_attempt=self.request.retries >= EMAIL_RETRIES)

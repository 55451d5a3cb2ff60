"""A real Celery worker (in this process, in a thread) consuming from Redis: ending a
contract sends the closure checklists and feedback requests exactly once, however
often the sweep and the broker hand the same work out again.

Needs PostgreSQL (``DATABASE_URL``) and Redis (``REDIS_URL``). The worker uses its own
Redis database (``celery_on_redis`` of tests/fixtures/workers.py), flushed before and
after, so it never consumes another queue. The worker thread has its own database
connection, hence ``transaction=True``; it shares ``django.core.mail.outbox`` with the test.
"""

import threading
import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.core import mail
from django.db import connections

from contracts import services
from contracts.models import EmailState, JobKind, JobState, Notification, OutgoingEmail, ScheduledJob
from contracts.tasks import deliver_email, run_job, sweep_scheduled_work
from contracts_portal.celery import app
from tests.factories import FixedContractFactory

WAIT_SECONDS = 30

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class Finished:
    """Tasks the worker finished, recorded by ``task_postrun`` in the worker thread
    (which then closes its database connection, so none outlives the test)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.tasks: list[tuple[str, object]] = []

    def __call__(self, sender=None, task=None, retval=None, **kwargs):
        connections.close_all()
        with self.lock:
            self.tasks.append((task.name, retval))

    def count(self, name: str) -> int:
        with self.lock:
            return sum(1 for task_name, _ in self.tasks if task_name == name)


@pytest.fixture
def finished():
    receiver = Finished()
    task_postrun.connect(receiver, weak=False, dispatch_uid="tests.automation.test_worker")
    yield receiver
    task_postrun.disconnect(dispatch_uid="tests.automation.test_worker")


def wait_until(condition, what: str, seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {seconds} s for {what}")
        time.sleep(0.1)


def test_worker_sends_closure_checklists_and_feedback_requests_exactly_once(celery_on_redis, finished):
    contract = FixedContractFactory()
    client, freelancer = contract.client, contract.freelancer
    checklist = f"Closing “{contract.title}”: your checklist"
    request = f"How did “{contract.title}” go? Leave feedback"

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        services.contract_end(contract=contract, by=client, reason="completed")
        # A sweep at once hands out the same jobs the end handed to the worker.
        sweep_scheduled_work.delay()
        wait_until(
            lambda: OutgoingEmail.objects.filter(state=EmailState.SENT).count() >= 4 and len(mail.outbox) >= 4,
            "the four e-mails to be sent",
        )
        wait_until(lambda: finished.count(sweep_scheduled_work.name) == 1, "the first sweep")

        # Everything again: a second sweep, and every message delivered twice.
        tasks_before = len(finished.tasks)
        sweep_scheduled_work.delay()
        done = list(ScheduledJob.objects.filter(state=JobState.DONE).values_list("pk", flat=True))
        emails = list(OutgoingEmail.objects.values_list("pk", flat=True))
        for job_id in done:
            run_job.delay(job_id)
        for email_id in emails:
            deliver_email.delay(email_id)
        expected = tasks_before + 1 + len(done) + len(emails)
        wait_until(lambda: len(finished.tasks) >= expected, "the repeated work to be done")
        time.sleep(0.5)  # anything the repeats would have queued

    jobs = {(job.kind, job.recipient_id): job for job in ScheduledJob.objects.filter(contract=contract)}
    kinds = (JobKind.CLOSURE_CHECKLIST, JobKind.FEEDBACK_REQUEST)
    at_once = {(kind, user.pk) for kind in kinds for user in (client, freelancer)}
    assert {key for key, job in jobs.items() if job.state == JobState.DONE} == at_once
    assert {job.state for key, job in jobs.items() if key not in at_once} == {JobState.PENDING}

    sent = sorted((message.to[0], message.subject) for message in mail.outbox)
    assert sent == sorted(
        [
            (client.email, checklist),
            (client.email, request),
            (freelancer.email, checklist),
            (freelancer.email, request),
        ]
    ), f"sent: {sent}"
    assert set(OutgoingEmail.objects.values_list("state", "attempts")) == {(EmailState.SENT, 1)}
    assert OutgoingEmail.objects.count() == 4
    for user in (client, freelancer):
        assert Notification.objects.filter(user=user, message__contains="closure checklist").count() == 1
        assert Notification.objects.filter(user=user, message__startswith="Leave feedback").count() == 1
    outcomes = [retval for name, retval in finished.tasks[tasks_before:] if name != sweep_scheduled_work.name]
    assert set(outcomes) == {"nothing to do", "already sent or being sent"}

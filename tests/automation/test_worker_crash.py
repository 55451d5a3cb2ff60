"""A worker killed (SIGKILL, with its pool process) in the middle of 200 due feedback
reminders, and the next one killed while it delivers their e-mails: after a third
worker starts and the sweep keeps running, every reminder is done once, with one
notification and one recorded e-mail each, and each e-mail reaches the mail backend
(files written by Django's file backend in the worker).

The worker is a subprocess (``celery -A contracts_portal worker``, prefork pool)
running ``tests.automation.worker_settings`` against the pytest test database and
its own Redis database. Tasks are acknowledged late, but the messages a killed
worker held stay unacknowledged in Redis for the visibility timeout (an hour): the
database rows bring the work back, as in production. Jobs stuck in ``queued`` are
handed out again after ``JOB_REQUEUE_AFTER_SECONDS`` (3 s here), e-mails stuck in
``sending`` after ``EMAIL_CLAIM_STALE_SECONDS`` (3 s here) and e-mails whose
delivery message was lost a minute after they were recorded.
"""

import email
import email.policy
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import suppress
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from contracts.models import ContractState, EmailState, JobKind, JobState, Notification, OutgoingEmail, ScheduledJob
from contracts.tasks import sweep_scheduled_work
from tests.factories import FixedContractFactory
from tests.fixtures.workers import MAIL_SEPARATOR, worker_database_url

CONTRACTS = 100  # two reminders each
JOBS = 2 * CONTRACTS
RECOVERY_SECONDS = 90
KILL_AFTER_DONE = JOBS // 2
KILL_AFTER_SENT = JOBS // 4
SWEEP_EVERY_SECONDS = 2

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def celery_on_redis(celery_on_redis, settings):
    """The shared ``celery_on_redis``; the sweep in this process uses the worker's short
    requeue delays."""
    settings.JOB_REQUEUE_AFTER_SECONDS = 3
    settings.EMAIL_CLAIM_STALE_SECONDS = 3
    settings.EMAIL_RESEND_UNSENT_AFTER_SECONDS = 5
    return celery_on_redis


class Workers:
    """Worker subprocesses, each in its own session (process group) so a kill takes
    the pool process with it."""

    def __init__(self, tmp_path: Path, redis_url: str):
        self.mail_dir = tmp_path / "mail"
        self.mail_dir.mkdir()
        self.logs = tmp_path
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.automation.worker_settings",
            "DATABASE_URL": worker_database_url(),
            "REDIS_URL": redis_url,
            "AUTOMATION_EMAIL_DIR": str(self.mail_dir),
            "DJANGO_LOG_LEVEL": "WARNING",
        }
        self.env.pop("CELERY_BROKER_URL", None)
        self.processes: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        number = len(self.processes) + 1
        log = open(self.logs / f"worker{number}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "contracts_portal",
                "worker",
                "--pool=prefork",
                "--concurrency=1",
                "--loglevel=INFO",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
                f"--hostname=crash-test-{number}@%h",
            ],
            cwd=django_settings.BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.processes.append(process)
        return process

    @staticmethod
    def kill(process: subprocess.Popen) -> None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    @classmethod
    def stop(cls, process: subprocess.Popen) -> None:
        """Warm shutdown; SIGKILL after 10 s."""
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=10)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                pass
        cls.kill(process)

    def stop_all(self) -> None:
        for process in self.processes:
            self.stop(process)

    def log(self, number: int) -> str:
        return (self.logs / f"worker{number}.log").read_text(errors="replace")[-3000:]

    def mailed(self) -> tuple[list[tuple[str, str]], int]:
        """(To, Subject) of each complete message the file backend wrote, and how many
        files end in a message cut short by the kill."""
        messages, partial = [], 0
        for path in sorted(self.mail_dir.iterdir()):
            *complete, rest = path.read_bytes().split(MAIL_SEPARATOR)
            partial += bool(rest.strip())
            for raw in complete:
                message = email.message_from_bytes(raw, policy=email.policy.default)
                to, subject = (" ".join(str(message[name]).split()) for name in ("To", "Subject"))
                messages.append((to, subject))
        return messages, partial


@pytest.fixture
def workers(tmp_path, celery_on_redis):
    workers = Workers(tmp_path, celery_on_redis)
    try:
        yield workers
    finally:
        workers.stop_all()


def due_feedback_reminders() -> list[ScheduledJob]:
    """200 feedback reminders due a day ago, on 100 contracts ended eight days ago."""
    now = timezone.now()
    jobs = []
    for _ in range(CONTRACTS):
        contract = FixedContractFactory(
            started_at=now - timedelta(days=40),
            state=ContractState.ENDED,
            ended_at=now - timedelta(days=8),
            end_reason="completed",
        )
        for user in (contract.client, contract.freelancer):
            jobs.append(
                ScheduledJob(
                    key=f"{JobKind.FEEDBACK_REMINDER}:{contract.pk}:{user.pk}",
                    kind=JobKind.FEEDBACK_REMINDER,
                    contract=contract,
                    recipient=user,
                    due_at=now - timedelta(days=1),
                )
            )
    return ScheduledJob.objects.bulk_create(jobs)


def counts() -> dict:
    jobs = Counter(ScheduledJob.objects.values_list("state", flat=True))
    emails = Counter(OutgoingEmail.objects.values_list("state", flat=True))
    return {"jobs": dict(jobs), "emails": dict(emails)}


def all_done() -> bool:
    if ScheduledJob.objects.exclude(state__in=(JobState.DONE, JobState.SKIPPED, JobState.FAILED)).exists():
        return False
    return not OutgoingEmail.objects.exclude(state__in=(EmailState.SENT, EmailState.FAILED)).exists()


def test_reminders_held_by_a_killed_worker_are_all_done_once_after_a_restart(workers):
    due_feedback_reminders()
    assert sweep_scheduled_work() == JOBS  # 200 run_job messages to Redis

    # The first worker works through them until it is killed midway.
    started = time.monotonic()
    first = workers.start()
    while ScheduledJob.objects.filter(state=JobState.DONE).count() < KILL_AFTER_DONE:
        if first.poll() is not None or time.monotonic() - started > 60:
            pytest.fail(f"the first worker did no work (exit {first.poll()}):\n{workers.log(1)}")
        time.sleep(0.02)
    workers.kill(first)
    killed_at = time.monotonic()
    at_kill = counts()
    done_before_kill = at_kill["jobs"].get(JobState.DONE, 0)
    mailed_before_kill = len(workers.mailed()[0])
    assert done_before_kill < JOBS, f"the first worker finished everything before the kill: {at_kill}"

    # A new worker, and the sweep every 2 s, as beat would run it. Once it is
    # delivering e-mails, it is killed too and a third worker takes over.
    worker = workers.start()
    last_kill, at_second_kill, next_sweep = killed_at, None, time.monotonic()
    sweeps = handed_out = 0
    while not all_done():
        now = time.monotonic()
        if now - last_kill > RECOVERY_SECONDS:
            pytest.fail(
                f"not done {RECOVERY_SECONDS} s after the last kill: {counts()}\n"
                f"worker {len(workers.processes)} (exit {worker.poll()}):\n{workers.log(len(workers.processes))}"
            )
        if at_second_kill is None and OutgoingEmail.objects.filter(state=EmailState.SENT).count() >= KILL_AFTER_SENT:
            workers.kill(worker)
            last_kill, at_second_kill = time.monotonic(), counts()
            worker = workers.start()
        if now >= next_sweep:
            handed_out += sweep_scheduled_work()
            sweeps += 1
            next_sweep = now + SWEEP_EVERY_SECONDS
        time.sleep(0.02)
    recovered_in, since_last_kill = time.monotonic() - killed_at, time.monotonic() - last_kill
    workers.stop(worker)

    final = counts()
    messages, partial = workers.mailed()
    written = Counter(messages)
    recorded = {(row.to, row.subject): row for row in OutgoingEmail.objects.all()}
    duplicates = {key: n for key, n in written.items() if n > 1}
    attempts = Counter(ScheduledJob.objects.values_list("attempts", flat=True))
    figures = (
        f"jobs done before the kill: {done_before_kill} ({at_kill}), e-mails written before: "
        f"{mailed_before_kill}; second kill, during delivery: {at_second_kill}; at the end: {final}; "
        f"done {recovered_in:.1f} s after the first kill, {since_last_kill:.1f} s after the last "
        f"({sweeps} sweeps handing out {handed_out}); job attempts: {dict(attempts)}; "
        f"messages written: {len(messages)} ({len(written)} distinct, partial: {partial}); "
        f"duplicates: {duplicates}"
    )
    print("\ncrash test:", figures)

    assert at_second_kill is not None, figures
    assert final["jobs"] == {JobState.DONE: JOBS}, figures
    assert OutgoingEmail.objects.count() == JOBS, figures
    assert OutgoingEmail.objects.values("key").distinct().count() == JOBS, figures
    assert set(OutgoingEmail.objects.values_list("key", flat=True)) == {
        f"email:{key}" for key in ScheduledJob.objects.values_list("key", flat=True)
    }, figures
    assert Notification.objects.count() == JOBS, figures
    assert Notification.objects.values("user", "contract").distinct().count() == JOBS, figures
    assert final["emails"] == {EmailState.SENT: JOBS}, figures
    # Every recorded e-mail reached the backend, and nothing else did.
    assert set(written) == set(recorded), figures
    # One message per e-mail, except one a kill caught between the backend's send and
    # the mark (at most one per kill with one pool process): the sweep re-sent it, as
    # the model documents, and its row shows the second attempt.
    assert len(duplicates) <= 2 and all(n == 2 for n in duplicates.values()), figures
    assert all(recorded[key].attempts >= 2 for key in duplicates), figures
    assert len(messages) == OutgoingEmail.objects.filter(state=EmailState.SENT).count() + len(duplicates), figures

"""What a due job does is found through a registry: each handler is registered with
``@job_handler(kind)`` next to the service that does the work, when
``contracts.services`` is imported. Every kind of job has exactly one handler, and a
job whose kind has none fails loudly instead of being marked done or skipped."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured

from contracts.models import JobKind, JobState, ScheduledJob
from contracts.services.jobs import JOB_HANDLERS, job_execute, job_handler
from tests.factories import FixedContractFactory

T0 = datetime(2025, 5, 7, 10, 0, tzinfo=UTC)


def test_every_job_kind_has_exactly_one_registered_handler():
    missing = sorted(set(JobKind.values) - set(JOB_HANDLERS))
    unknown = sorted(set(JOB_HANDLERS) - set(JobKind.values))
    assert missing == [], f"job kinds without a @job_handler: {missing}"
    assert unknown == [], f"handlers registered for kinds JobKind does not have: {unknown}"
    assert all(callable(handler) for handler in JOB_HANDLERS.values())


def test_a_second_handler_for_a_job_kind_is_refused_when_it_registers():
    registered = JOB_HANDLERS[JobKind.NOTICE_ELAPSE]

    def another_notice_elapse(job) -> str:
        return "ended twice"

    with pytest.raises(ImproperlyConfigured, match="already have a handler"):
        job_handler(JobKind.NOTICE_ELAPSE)(another_notice_elapse)
    assert JOB_HANDLERS[JobKind.NOTICE_ELAPSE] is registered


@pytest.mark.django_db
def test_a_due_job_whose_kind_has_no_handler_fails_loudly_and_stays_unfinished(monkeypatch):
    with time_machine.travel(T0 - timedelta(days=1), tick=False):
        contract = FixedContractFactory()
        job = ScheduledJob.objects.create(
            key="test:no-handler", kind=JobKind.FEEDBACK_WINDOW_CLOSE, contract=contract, due_at=T0
        )
    monkeypatch.delitem(JOB_HANDLERS, JobKind.FEEDBACK_WINDOW_CLOSE)

    with time_machine.travel(T0, tick=False), pytest.raises(ImproperlyConfigured, match="No handler is registered"):
        job_execute(job_id=job.pk)

    job.refresh_from_db()
    assert (job.state, job.attempts, job.finished_at, job.outcome) == (JobState.PENDING, 1, None, "")

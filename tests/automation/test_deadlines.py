"""The work that follows a change, driven by ``ScheduledJob`` rows and the beat sweep
(DESIGN.md, "After a contract ends"): the closure checklist and feedback e-mails,
the day-7 reminder, notice periods, milestone auto-release, refund-request
auto-approval, end proposals expiring and the Monday invoice of hourly weeks.

Tasks run eagerly here (settings.test). An e-mail is delivered by a task queued on
commit, and a job due at once is handed to ``run_job`` on commit: in a plain
``django_db`` test those callbacks only run inside
``django_capture_on_commit_callbacks(execute=True)``, which ``sweep`` and ``end``
below use, with the clock stopped at a chosen instant.
"""

import html
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta
from smtplib import SMTPException

import pytest
import time_machine
from celery.exceptions import Retry
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import transaction

from billing.models import Invoice, Payment
from billing.selectors import escrow_held_cents
from contracts import services
from contracts.models import (
    ChecklistItem,
    ContractState,
    DiaryEntry,
    EmailState,
    EscrowRefundRequest,
    JobKind,
    JobState,
    Milestone,
    MilestoneState,
    Notification,
    OutgoingEmail,
    RefundRequestState,
    ScheduledJob,
)
from contracts.services.jobs import job_execute, jobs_claim_due
from contracts.services.scheduling import schedule_job
from contracts.tasks import EMAIL_RETRIES, deliver_email, schedule_weekly_invoices_task
from tests.factories import DiaryEntryFactory, FixedContractFactory, HourlyContractFactory, MilestoneFactory
from tests.fixtures import clock

T0 = datetime(2025, 5, 7, 10, 0, tzinfo=UTC)  # a Wednesday
DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)

REMINDER = "A reminder: you can leave feedback"
CHECKLIST_NOTE = "Your closure checklist has"
REQUEST_NOTE = "Leave feedback on"


# Helpers.


@pytest.fixture
def run_at():
    """``run_at(instant)``: a context with the clock stopped at ``instant`` whose
    on-commit callbacks (tasks queued with ``delay_on_commit``) run when it exits."""
    return clock.stopped_at


@pytest.fixture
def sweep():
    """``sweep(instant)``: the beat sweep at ``instant``; returns how many jobs it handed out."""
    return clock.sweep


def made_at(instant, factory, **kwargs):
    with time_machine.travel(instant, tick=False):
        return factory(started_at=instant - 30 * DAY, **kwargs)


def jobs_of(contract) -> dict:
    return {(job.kind, job.recipient_id): job for job in ScheduledJob.objects.filter(contract=contract)}


def job_of(contract, kind: str) -> ScheduledJob:
    return ScheduledJob.objects.get(contract=contract, kind=kind)


def subjects_to(address: str) -> list[str]:
    return [message.subject for message in mail.outbox if message.to == [address]]


def notes_for(user, text: str) -> int:
    return Notification.objects.filter(user=user, message__contains=text).count()


def end_contract(run_at, contract, instant=T0):
    with run_at(instant):
        services.contract_end(contract=contract, by=contract.client, reason="completed")
    contract.refresh_from_db()
    return contract


# Ending a contract: what is scheduled, and when.


@pytest.mark.django_db
def test_ending_schedules_checklist_and_feedback_now_a_reminder_on_day_7_and_the_window_close_on_day_14(run_at):
    contract = made_at(T0 - DAY, FixedContractFactory)
    client, freelancer = contract.client, contract.freelancer

    end_contract(run_at, contract)

    due = {key: job.due_at for key, job in jobs_of(contract).items()}
    assert due == {
        (JobKind.CLOSURE_CHECKLIST, client.pk): T0,
        (JobKind.CLOSURE_CHECKLIST, freelancer.pk): T0,
        (JobKind.FEEDBACK_REQUEST, client.pk): T0,
        (JobKind.FEEDBACK_REQUEST, freelancer.pk): T0,
        (JobKind.FEEDBACK_REMINDER, client.pk): T0 + 7 * DAY,
        (JobKind.FEEDBACK_REMINDER, freelancer.pk): T0 + 7 * DAY,
        (JobKind.FEEDBACK_WINDOW_CLOSE, None): T0 + 14 * DAY,
    }
    # The jobs due at once ran when the end committed; the others wait for the sweep.
    states = {key: job.state for key, job in jobs_of(contract).items()}
    at_once = (JobKind.CLOSURE_CHECKLIST, JobKind.FEEDBACK_REQUEST)
    assert {key for key, state in states.items() if state == JobState.DONE} == {
        (kind, user.pk) for kind in at_once for user in (client, freelancer)
    }
    assert {state for state in states.values() if state != JobState.DONE} == {JobState.PENDING}

    items = ChecklistItem.objects.filter(contract=contract)
    assert [item.code for item in items.filter(user=client)] == ["revoke_passwords", "revoke_access"]
    assert [item.code for item in items.filter(user=freelancer)] == [
        "turn_in_work",
        "return_materials",
        "remove_client_property",
    ]
    assert not items.filter(done_at__isnull=False).exists()

    assert sorted(m.subject for m in mail.outbox) == sorted(
        [f"Closing “{contract.title}”: your checklist"] * 2 + [f"How did “{contract.title}” go? Leave feedback"] * 2
    )
    assert len(subjects_to(client.email)) == len(subjects_to(freelancer.email)) == 2
    for user in (client, freelancer):
        assert notes_for(user, CHECKLIST_NOTE) == 1
        assert notes_for(user, REQUEST_NOTE) == 1
    assert set(OutgoingEmail.objects.values_list("state", flat=True)) == {EmailState.SENT}


@pytest.mark.django_db
def test_jobs_are_written_in_the_transaction_of_the_end_and_roll_back_with_it(run_at):
    contract = made_at(T0 - DAY, FixedContractFactory)

    with run_at(T0), pytest.raises(RuntimeError, match="changed my mind"), transaction.atomic():
        services.contract_end(contract=contract, by=contract.client, reason="completed")
        assert ScheduledJob.objects.filter(contract=contract).count() == 7
        assert ChecklistItem.objects.filter(contract=contract).count() == 5
        raise RuntimeError("changed my mind")

    contract.refresh_from_db()
    assert contract.state == ContractState.ACTIVE
    assert not ScheduledJob.objects.filter(contract=contract).exists()
    assert not ChecklistItem.objects.filter(contract=contract).exists()
    assert not OutgoingEmail.objects.exists()
    assert not Notification.objects.exists()
    assert mail.outbox == []


# The day-7 reminder.


@pytest.mark.django_db
def test_feedback_reminder_goes_out_on_day_7_once_per_party(run_at, sweep):
    contract = end_contract(run_at, made_at(T0 - DAY, FixedContractFactory))
    client, freelancer = contract.client, contract.freelancer
    reminder_subject = f"Reminder: feedback on “{contract.title}” closes May 21"
    mail.outbox.clear()

    assert sweep(T0 + 7 * DAY - MINUTE) == 0
    assert mail.outbox == []
    assert not OutgoingEmail.objects.filter(key__startswith="email:feedback_reminder:").exists()
    assert notes_for(client, REMINDER) == notes_for(freelancer, REMINDER) == 0

    assert sweep(T0 + 7 * DAY) == 2
    assert sweep(T0 + 7 * DAY + 10 * MINUTE) == 0
    assert sweep(T0 + 8 * DAY) == 0

    for user in (client, freelancer):
        assert subjects_to(user.email) == [reminder_subject]
        assert notes_for(user, REMINDER) == 1
        email = OutgoingEmail.objects.get(key=f"email:feedback_reminder:{contract.pk}:{user.pk}")
        assert (email.to, email.state, email.attempts) == (user.email, EmailState.SENT, 1)
    assert len(mail.outbox) == 2
    assert OutgoingEmail.objects.filter(key__startswith="email:feedback_reminder:").count() == 2
    reminders = ScheduledJob.objects.filter(contract=contract, kind=JobKind.FEEDBACK_REMINDER)
    assert {(job.state, job.attempts, job.finished_at) for job in reminders} == {(JobState.DONE, 1, T0 + 7 * DAY)}


@pytest.mark.django_db
def test_feedback_left_by_one_party_is_revealed_when_the_window_closes_on_day_14(run_at, sweep):
    from contracts.models import Feedback

    contract = end_contract(run_at, made_at(T0 - DAY, FixedContractFactory))
    with time_machine.travel(T0 + 2 * DAY, tick=False):
        services.feedback_submit(
            contract=contract,
            by=contract.client,
            scores={"skills": 5, "quality": 4, "availability": 5, "deadlines": 4, "communication": 5, "cooperation": 5},
            private_reason="completed",
            private_recommend=9,
        )
    sweep(T0 + 14 * DAY - MINUTE)
    assert Feedback.objects.get(contract=contract).revealed_at is None
    sweep(T0 + 14 * DAY)
    sweep(T0 + 15 * DAY)
    assert Feedback.objects.get(contract=contract).revealed_at == T0 + 14 * DAY
    job = job_of(contract, JobKind.FEEDBACK_WINDOW_CLOSE)
    assert (job.state, job.outcome) == (JobState.DONE, "feedback window closed; 1 feedback revealed")


# The closure e-mails.


@pytest.mark.django_db
def test_closure_checklist_emails_tell_each_party_their_own_steps_in_text_and_html(run_at):
    contract = end_contract(run_at, made_at(T0 - DAY, FixedContractFactory))
    subject = f"Closing “{contract.title}”: your checklist"
    by_address = {message.to[0]: message for message in mail.outbox if message.subject == subject}
    assert set(by_address) == {contract.client.email, contract.freelancer.email}

    client_steps = ["Revoke passwords given to the freelancer", "Remove the freelancer's special access"]
    freelancer_steps = [
        "Turn in all work",
        "Return the client's materials and equipment",
        "Remove the client's property (documents, files, software) from your devices",
    ]
    refund_line = "Payments of the last 180 days can still be refunded"
    for address, own, others, refunds in (
        (contract.client.email, client_steps, freelancer_steps, False),
        (contract.freelancer.email, freelancer_steps, client_steps, True),
    ):
        message = by_address[address]
        assert isinstance(message, EmailMultiAlternatives)
        [(html_body, content_type)] = message.alternatives
        assert content_type == "text/html"
        html_text = html.unescape(html_body)
        for body in (message.body, html_text):
            assert f"The contract “{contract.title}” has ended." in body
            for step in own:
                assert step in body
            for step in others:
                assert step not in body
            assert (refund_line in body) is refunds
        assert f"/contracts/{contract.pk}" in message.body or str(contract.pk) in message.body
        assert html_text.count("<li>") == len(own)
        if refunds:
            assert "/refunds" in message.body


# Notice periods.


@pytest.mark.django_db
def test_notice_period_ends_the_contract_when_it_is_over(run_at, sweep):
    contract = made_at(T0 - DAY, FixedContractFactory, notice_days=7)
    with run_at(T0):
        services.contract_give_notice(contract=contract, by=contract.client, reason="unsuccessful")
    job = job_of(contract, JobKind.NOTICE_ELAPSE)
    assert job.due_at == T0 + 7 * DAY

    assert sweep(T0 + 6 * DAY + timedelta(hours=23, minutes=59)) == 0
    contract.refresh_from_db()
    assert contract.state == ContractState.ENDING
    assert contract.ended_at is None

    assert sweep(T0 + 7 * DAY) == 1
    contract.refresh_from_db()
    assert contract.state == ContractState.ENDED
    assert contract.ended_at == T0 + 7 * DAY
    job.refresh_from_db()
    assert job.state == JobState.DONE
    # The end schedules what follows it, and the jobs due at once ran.
    assert jobs_of(contract)[(JobKind.FEEDBACK_REMINDER, contract.client_id)].due_at == T0 + 14 * DAY
    assert jobs_of(contract)[(JobKind.CLOSURE_CHECKLIST, contract.freelancer_id)].state == JobState.DONE
    # The notice itself was e-mailed when it was given; the end brought two more.
    assert sorted(subjects_to(contract.freelancer.email)) == sorted(
        [
            f"Notice given on “{contract.title}”: it ends on {(T0 + 7 * DAY):%b %-d}",
            f"Closing “{contract.title}”: your checklist",
            f"How did “{contract.title}” go? Leave feedback",
        ]
    )


@pytest.mark.django_db
def test_notice_elapsing_late_still_ends_the_contract_at_the_effective_time(run_at, sweep):
    contract = made_at(T0 - DAY, FixedContractFactory, notice_days=7)
    with run_at(T0):
        services.contract_give_notice(contract=contract, by=contract.freelancer, reason="completed")
    sweep(T0 + 7 * DAY + timedelta(hours=3))
    contract.refresh_from_db()
    assert (contract.state, contract.ended_at) == (ContractState.ENDED, T0 + 7 * DAY)


@pytest.mark.django_db
def test_withdrawn_notice_leaves_the_contract_active_and_its_job_skipped(run_at, sweep):
    contract = made_at(T0 - DAY, FixedContractFactory, notice_days=7)
    with run_at(T0):
        services.contract_give_notice(contract=contract, by=contract.client, reason="unsuccessful")
    with run_at(T0 + 2 * DAY):
        services.contract_withdraw_notice(contract=contract, by=contract.client)

    sweep(T0 + 7 * DAY)

    contract.refresh_from_db()
    assert contract.state == ContractState.ACTIVE
    assert contract.ended_at is None
    job = job_of(contract, JobKind.NOTICE_ELAPSE)
    assert job.state == JobState.SKIPPED
    assert job.outcome
    assert not ChecklistItem.objects.filter(contract=contract).exists()
    # Only the notice was e-mailed (when it was given): nothing of an end.
    assert [(m.to, m.subject) for m in mail.outbox] == [
        ([contract.freelancer.email], f"Notice given on “{contract.title}”: it ends on {(T0 + 7 * DAY):%b %-d}")
    ]


# Milestones released when the client does not review the work.


def submitted_milestone(run_at, *, at=T0) -> Milestone:
    contract = made_at(at - DAY, FixedContractFactory)
    milestone = MilestoneFactory(contract=contract, amount_cents=300_00)
    with run_at(at):
        services.milestone_fund(milestone=milestone, by=contract.client)
        services.milestone_submit(milestone=milestone, by=contract.freelancer, note="Done")
    return milestone


@pytest.mark.django_db
def test_unreviewed_work_is_released_after_14_days(run_at, sweep):
    milestone = submitted_milestone(run_at)
    job = job_of(milestone.contract, JobKind.MILESTONE_AUTO_RELEASE)
    assert (job.subject_id, job.due_at) == (milestone.pk, T0 + 14 * DAY)

    sweep(T0 + 13 * DAY)
    sweep(T0 + 14 * DAY - MINUTE)
    milestone.refresh_from_db()
    assert milestone.state == MilestoneState.SUBMITTED
    assert not Payment.objects.filter(milestone=milestone).exists()

    sweep(T0 + 14 * DAY)
    sweep(T0 + 15 * DAY)
    milestone.refresh_from_db()
    assert milestone.state == MilestoneState.RELEASED
    payment = Payment.objects.get(milestone=milestone)
    assert (payment.amount_cents, payment.paid_at) == (300_00, T0 + 14 * DAY)
    assert escrow_held_cents(milestone) == 0
    job.refresh_from_db()
    assert (job.state, job.outcome) == (JobState.DONE, f"released payment #{payment.pk}")


@pytest.mark.django_db
def test_work_the_client_released_is_not_released_again(run_at, sweep):
    milestone = submitted_milestone(run_at)
    with run_at(T0 + 3 * DAY):
        services.milestone_release(milestone=milestone, by=milestone.contract.client)

    sweep(T0 + 14 * DAY)

    assert Payment.objects.filter(milestone=milestone).count() == 1
    assert job_of(milestone.contract, JobKind.MILESTONE_AUTO_RELEASE).state == JobState.SKIPPED


# Refund requests the freelancer does not answer.


def refund_request(run_at) -> EscrowRefundRequest:
    contract = made_at(T0 - DAY, FixedContractFactory)
    milestone = MilestoneFactory(contract=contract, amount_cents=200_00)
    with run_at(T0):
        services.milestone_fund(milestone=milestone, by=contract.client)
        services.contract_end(
            contract=contract,
            by=contract.client,
            reason="unsuccessful",
            milestone_decisions={milestone.pk: services.MilestoneDecision(services.MilestoneChoice.PAY_NOTHING)},
        )
    return EscrowRefundRequest.objects.get(milestone=milestone)


@pytest.mark.django_db
def test_unanswered_refund_request_is_approved_after_7_days(run_at, sweep):
    request = refund_request(run_at)
    job = job_of(request.contract, JobKind.REFUND_REQUEST_AUTO_APPROVE)
    assert (job.subject_id, job.due_at) == (request.pk, T0 + 7 * DAY)

    sweep(T0 + 6 * DAY)
    sweep(T0 + 7 * DAY - MINUTE)
    request.refresh_from_db()
    assert request.state == RefundRequestState.OPEN
    assert escrow_held_cents(request.milestone) == 200_00

    sweep(T0 + 7 * DAY)
    request.refresh_from_db()
    assert request.state == RefundRequestState.APPROVED
    assert escrow_held_cents(request.milestone) == 0
    assert Milestone.objects.get(pk=request.milestone_id).state == MilestoneState.REFUNDED
    job.refresh_from_db()
    assert job.state == JobState.DONE


@pytest.mark.django_db
def test_answered_refund_request_is_left_as_answered(run_at, sweep):
    request = refund_request(run_at)
    with run_at(T0 + 2 * DAY):
        services.refund_request_dispute(request=request, by=request.contract.freelancer, statement="I delivered.")

    sweep(T0 + 7 * DAY)

    request.refresh_from_db()
    assert request.state == RefundRequestState.DISPUTED
    assert escrow_held_cents(request.milestone) == 200_00
    assert job_of(request.contract, JobKind.REFUND_REQUEST_AUTO_APPROVE).state == JobState.SKIPPED


# Proposals to end.


@pytest.mark.django_db
def test_end_proposal_expires_after_7_days_and_can_be_made_again(run_at, sweep):
    contract = made_at(T0 - DAY, FixedContractFactory)
    with run_at(T0):
        services.contract_propose_end(contract=contract, by=contract.freelancer)

    sweep(T0 + 7 * DAY - MINUTE)
    contract.refresh_from_db()
    assert (contract.end_proposed_by_id, contract.end_proposed_at) == (contract.freelancer_id, T0)

    sweep(T0 + 7 * DAY)
    contract.refresh_from_db()
    assert (contract.end_proposed_by_id, contract.end_proposed_at) == (None, None)
    assert contract.state == ContractState.ACTIVE
    assert job_of(contract, JobKind.END_PROPOSAL_EXPIRY).state == JobState.DONE

    with run_at(T0 + 8 * DAY):
        services.contract_propose_end(contract=contract, by=contract.freelancer)
    contract.refresh_from_db()
    assert contract.end_proposed_at == T0 + 8 * DAY
    expiries = ScheduledJob.objects.filter(contract=contract, kind=JobKind.END_PROPOSAL_EXPIRY)
    assert sorted(job.due_at for job in expiries) == [T0 + 7 * DAY, T0 + 15 * DAY]


@pytest.mark.django_db
def test_accepted_end_proposal_does_not_expire(run_at, sweep):
    contract = made_at(T0 - DAY, FixedContractFactory)
    with run_at(T0):
        services.contract_propose_end(contract=contract, by=contract.freelancer)
    with run_at(T0 + 2 * DAY):
        services.contract_accept_end(contract=contract, by=contract.client, reason="completed")

    sweep(T0 + 7 * DAY)

    contract.refresh_from_db()
    assert (contract.state, contract.ended_at) == (ContractState.ENDED, T0 + 2 * DAY)
    assert job_of(contract, JobKind.END_PROPOSAL_EXPIRY).state == JobState.SKIPPED


# The Monday invoice of hourly weeks.

LAST_MONDAY = date(2025, 4, 28)
MONDAY_NOON = datetime(2025, 5, 5, 12, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_last_weeks_time_is_invoiced_on_monday_at_noon_once(run_at, sweep):
    contract = made_at(datetime(2025, 4, 1, tzinfo=UTC), HourlyContractFactory)
    entries = {}
    for work_date, minutes in ((date(2025, 4, 29), 120), (date(2025, 5, 4), 90), (date(2025, 5, 5), 30)):
        with time_machine.travel(datetime.combine(work_date, datetime.min.time(), UTC) + 9 * 60 * MINUTE, tick=False):
            entries[work_date] = DiaryEntryFactory(contract=contract, work_date=work_date, minutes=minutes)

    for instant in (MONDAY_NOON, MONDAY_NOON + 5 * MINUTE):
        with run_at(instant):
            schedule_weekly_invoices_task.delay()
        sweep(instant)

    invoice = Invoice.objects.get(contract=contract)
    assert (invoice.minutes, invoice.amount_cents) == (210, 175_00)
    assert (invoice.period_start, invoice.period_end) == (date(2025, 4, 29), date(2025, 5, 4))
    assert invoice.period_end <= LAST_MONDAY + 6 * DAY
    assert invoice.issued_at == MONDAY_NOON
    billed = set(DiaryEntry.objects.filter(invoice=invoice).values_list("work_date", flat=True))
    assert billed == {date(2025, 4, 29), date(2025, 5, 4)}
    assert DiaryEntry.objects.get(pk=entries[date(2025, 5, 5)].pk).invoice_id is None
    job = ScheduledJob.objects.get(kind=JobKind.WEEKLY_INVOICE)
    assert (job.key, job.state, job.outcome) == (
        f"weekly_invoice:{contract.pk}:2025-04-28",
        JobState.DONE,
        f"invoice #{invoice.pk}",
    )


@pytest.mark.django_db
def test_weekly_invoice_is_scheduled_only_for_open_hourly_contracts_with_time_last_week(run_at):
    with_time = made_at(datetime(2025, 4, 1, tzinfo=UTC), HourlyContractFactory)
    only_this_week = made_at(datetime(2025, 4, 1, tzinfo=UTC), HourlyContractFactory)
    with time_machine.travel(datetime(2025, 5, 5, 9, 0, tzinfo=UTC), tick=False):
        DiaryEntryFactory(contract=with_time, work_date=date(2025, 5, 1), minutes=60)
        DiaryEntryFactory(contract=only_this_week, work_date=date(2025, 5, 5), minutes=60)
    with run_at(MONDAY_NOON):
        assert schedule_weekly_invoices_task.delay().get() == 1
    assert list(ScheduledJob.objects.values_list("contract_id", flat=True)) == [with_time.pk]


# Idempotency.


@pytest.mark.django_db
def test_a_job_executed_twice_sends_one_email_and_one_notification(django_capture_on_commit_callbacks):
    contract = made_at(T0 - DAY, FixedContractFactory)
    with time_machine.travel(T0, tick=False):
        # No callbacks captured: the jobs due at once stay pending, as if their
        # message was lost.
        services.contract_end(contract=contract, by=contract.client, reason="completed")
    job = ScheduledJob.objects.get(contract=contract, kind=JobKind.CLOSURE_CHECKLIST, recipient=contract.client)
    assert job.state == JobState.PENDING

    with time_machine.travel(T0 + MINUTE, tick=False), django_capture_on_commit_callbacks(execute=True):
        first = job_execute(job_id=job.pk)
        second = job_execute(job_id=job.pk)

    assert first == f"sent to {contract.client.get_username()}"
    assert second == "nothing to do"
    assert OutgoingEmail.objects.filter(key=f"email:{job.key}").count() == 1
    assert notes_for(contract.client, CHECKLIST_NOTE) == 1
    assert [m.to for m in mail.outbox] == [[contract.client.email]]


@pytest.mark.django_db
def test_a_job_not_due_yet_is_left_alone():
    contract = made_at(T0 - DAY, FixedContractFactory)
    with time_machine.travel(T0, tick=False):
        services.contract_end(contract=contract, by=contract.client, reason="completed")
    reminder = ScheduledJob.objects.filter(kind=JobKind.FEEDBACK_REMINDER).first()
    with time_machine.travel(T0 + 6 * DAY, tick=False):
        assert job_execute(job_id=reminder.pk) == "not due yet"
        assert reminder.pk not in jobs_claim_due(limit=100)
    reminder.refresh_from_db()
    assert reminder.state == JobState.PENDING
    with time_machine.travel(T0 + 7 * DAY, tick=False):
        assert reminder.pk in jobs_claim_due(limit=100)
        # A second sweep does not hand out a job another sweep just handed out.
        assert jobs_claim_due(limit=100) == []


@pytest.mark.django_db
def test_a_job_waiting_behind_a_backlog_is_not_given_up_unrun(settings):
    contract = made_at(T0 - DAY, FixedContractFactory)
    with time_machine.travel(T0, tick=False):
        services.contract_end(contract=contract, by=contract.client, reason="completed")
    job = ScheduledJob.objects.get(contract=contract, kind=JobKind.CLOSURE_CHECKLIST, recipient=contract.client)
    wait = timedelta(seconds=settings.JOB_REQUEUE_AFTER_SECONDS + 1)
    # Every sweep finds the job still queued (its message waits behind others) and
    # hands it out again; no worker has died.
    for sweep_number in range(settings.JOB_MAX_ATTEMPTS + 1):
        with time_machine.travel(T0 + sweep_number * wait, tick=False):
            jobs_claim_due(limit=100)
    # The first message reaches a worker.
    with time_machine.travel(T0 + 10 * wait, tick=False):
        job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == JobState.DONE, (job.state, job.attempts, job.outcome)
    assert OutgoingEmail.objects.filter(key=f"email:{job.key}").exists()


@pytest.mark.django_db
def test_scheduling_the_same_key_twice_makes_one_row(django_capture_on_commit_callbacks):
    contract = made_at(T0 - DAY, FixedContractFactory)
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks() as callbacks:
        first = schedule_job(kind=JobKind.FEEDBACK_REQUEST, key="test:once", contract=contract, due_at=T0)
        again = {"kind": JobKind.FEEDBACK_REQUEST, "key": "test:once", "contract": contract}
        second = schedule_job(**again, due_at=T0 + DAY, recipient=contract.client)
    assert first.pk == second.pk
    assert ScheduledJob.objects.filter(key="test:once").count() == 1
    assert ScheduledJob.objects.get(key="test:once").due_at == T0
    assert len(callbacks) == 1  # handed to a worker once


@pytest.mark.django_db
def test_ending_twice_is_refused_and_schedules_nothing_more(run_at):
    contract = end_contract(run_at, made_at(T0 - DAY, FixedContractFactory))
    rows = ScheduledJob.objects.count()
    with run_at(T0 + MINUTE), pytest.raises(Exception):  # noqa: B017 - the refusal's type is not the point
        services.contract_end(contract=contract, by=contract.freelancer, reason="completed")
    assert ScheduledJob.objects.count() == rows
    assert len(mail.outbox) == 4


# Delivering e-mails.


def recorded_email(**kwargs) -> OutgoingEmail:
    return OutgoingEmail.objects.create(
        key=kwargs.pop("key", "test:email"),
        to="someone@example.com",
        subject="Hello",
        body_text="Plain text",
        body_html="<p>HTML</p>",
        **kwargs,
    )


@pytest.mark.django_db
def test_failing_mail_backend_leaves_the_email_pending_with_the_error_and_asks_for_a_retry(monkeypatch):
    email = recorded_email()
    task_class = type(deliver_email._get_current_object())
    retries = []

    def failing_send(self, fail_silently=False):
        raise SMTPException("451 try again later")

    def record_retry(self, exc=None, countdown=None, **options):
        row = OutgoingEmail.objects.get(pk=email.pk)
        retries.append((type(exc), countdown, row.state, row.attempts, row.last_error))
        return Retry(exc=exc, when=countdown)

    monkeypatch.setattr(EmailMultiAlternatives, "send", failing_send)
    monkeypatch.setattr(task_class, "retry", record_retry)

    with pytest.raises(Retry):
        deliver_email.delay(email.pk)

    [(error_type, countdown, state, attempts, last_error)] = retries
    assert error_type is SMTPException
    assert countdown is not None and countdown >= 0
    assert (state, attempts, last_error) == (EmailState.PENDING, 1, "451 try again later")
    email.refresh_from_db()
    assert (email.state, email.sent_at) == (EmailState.PENDING, None)
    assert mail.outbox == []

    monkeypatch.undo()
    assert deliver_email.delay(email.pk).get() == "sent"
    email.refresh_from_db()
    assert (email.state, email.attempts) == (EmailState.SENT, 2)
    assert len(mail.outbox) == 1


@pytest.fixture
def retries_run_eagerly():
    """Eager retries run again at once, as a worker would run them later, instead
    of the Retry propagating (settings.test propagates eager errors)."""
    conf = deliver_email.app.conf
    before = conf.task_eager_propagates
    conf.task_eager_propagates = False
    yield
    conf.task_eager_propagates = before


@pytest.mark.django_db
def test_the_sweep_leaves_a_failed_delivery_to_its_retry(monkeypatch, settings, sweep):
    with time_machine.travel(T0, tick=False):
        email = recorded_email()
    task_class = type(deliver_email._get_current_object())

    def failing_send(self, fail_silently=False):
        raise SMTPException("451 try again later")

    def retry_later(self, exc=None, countdown=None, **options):
        return Retry(exc=exc, when=countdown)  # the broker would run it after countdown

    monkeypatch.setattr(EmailMultiAlternatives, "send", failing_send)
    monkeypatch.setattr(task_class, "retry", retry_later)
    with time_machine.travel(T0 + 5 * MINUTE, tick=False), pytest.raises(Retry):
        deliver_email.delay(email.pk)

    # The next sweep, seconds later: the retry is not due for a while. (Were the sweep
    # to deliver it again, that delivery would fail and ask for a retry too.)
    with suppress(Retry):
        sweep(T0 + 5 * MINUTE + timedelta(seconds=10))
    email.refresh_from_db()
    assert email.attempts == 1, f"delivered again by the sweep: {email.attempts} attempts"


@pytest.mark.django_db
def test_delivery_is_retried_until_the_backend_takes_the_email(monkeypatch, retries_run_eagerly):
    email = recorded_email()
    original_send = EmailMultiAlternatives.send
    seen = []

    def flaky_send(self, fail_silently=False):
        row = OutgoingEmail.objects.get(pk=email.pk)
        seen.append((row.state, row.attempts, row.last_error))
        if len(seen) < 3:
            raise SMTPException(f"failure {len(seen)}")
        return original_send(self, fail_silently)

    monkeypatch.setattr(EmailMultiAlternatives, "send", flaky_send)
    # Like a worker: each retry runs again (eagerly, without its countdown).
    result = deliver_email.apply(args=[email.pk])

    assert (result.state, result.result) == ("SUCCESS", "sent")

    assert seen == [
        (EmailState.SENDING, 1, ""),
        (EmailState.SENDING, 2, "failure 1"),
        (EmailState.SENDING, 3, "failure 2"),
    ]
    email.refresh_from_db()
    assert (email.state, email.attempts) == (EmailState.SENT, 3)
    assert email.sent_at is not None
    [message] = mail.outbox
    assert (message.subject, message.to, message.body) == ("Hello", ["someone@example.com"], "Plain text")
    assert message.alternatives[0][1] == "text/html"


@pytest.mark.django_db
def test_delivery_gives_up_after_its_retries(monkeypatch, retries_run_eagerly):
    email = recorded_email()

    def failing_send(self, fail_silently=False):
        raise SMTPException("550 mailbox unavailable")

    monkeypatch.setattr(EmailMultiAlternatives, "send", failing_send)
    result = deliver_email.apply(args=[email.pk])

    assert result.state == "FAILURE"
    assert isinstance(result.result, SMTPException)

    email.refresh_from_db()
    assert (email.state, email.attempts, email.last_error) == (
        EmailState.FAILED,
        EMAIL_RETRIES + 1,
        "550 mailbox unavailable",
    )


@pytest.mark.django_db
def test_delivering_a_sent_email_again_does_nothing():
    email = recorded_email()
    assert deliver_email.delay(email.pk).get() == "sent"
    email.refresh_from_db()
    sent_at = email.sent_at

    assert deliver_email.delay(email.pk).get() == "already sent or being sent"

    email.refresh_from_db()
    assert (email.state, email.attempts, email.sent_at) == (EmailState.SENT, 1, sent_at)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_an_email_being_sent_is_not_sent_twice_until_its_claim_is_stale(settings):
    settings.EMAIL_CLAIM_STALE_SECONDS = 600
    with time_machine.travel(T0, tick=False):
        email = recorded_email(state=EmailState.SENDING, claimed_at=T0, attempts=1)
    with time_machine.travel(T0 + 5 * MINUTE, tick=False):
        assert deliver_email.delay(email.pk).get() == "already sent or being sent"
    assert mail.outbox == []
    with time_machine.travel(T0 + 11 * MINUTE, tick=False):
        assert deliver_email.delay(email.pk).get() == "sent"
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_sweep_resends_emails_whose_delivery_was_lost(sweep, settings):
    settings.EMAIL_CLAIM_STALE_SECONDS = 600
    with time_machine.travel(T0, tick=False):
        lost = recorded_email(key="test:lost")
        stuck = recorded_email(key="test:stuck", state=EmailState.SENDING, claimed_at=T0, attempts=1)
        done = recorded_email(key="test:done", state=EmailState.SENT, sent_at=T0, attempts=1)

    sweep(T0 + timedelta(seconds=30))
    assert mail.outbox == []

    sweep(T0 + 2 * MINUTE)
    assert OutgoingEmail.objects.get(pk=lost.pk).state == EmailState.SENT
    assert OutgoingEmail.objects.get(pk=stuck.pk).state == EmailState.SENDING
    assert len(mail.outbox) == 1

    sweep(T0 + 11 * MINUTE)
    assert OutgoingEmail.objects.get(pk=stuck.pk).state == EmailState.SENT
    assert OutgoingEmail.objects.get(pk=done.pk).attempts == 1
    assert len(mail.outbox) == 2

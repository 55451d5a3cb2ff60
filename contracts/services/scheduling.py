"""Scheduling the work that follows a change: rows in ``ScheduledJob``, written in
the transaction of the change, and handed to a worker at once when already due."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from ..models import (
    CLIENT_CHECKLIST,
    FREELANCER_CHECKLIST,
    ChecklistItem,
    Contract,
    JobKind,
    ScheduledJob,
)
from ..tasks import run_job as run_job_task


def schedule_job(
    *,
    kind: str,
    key: str,
    contract: Contract | None,
    due_at: datetime,
    recipient=None,
    subject_id: int | None = None,
) -> ScheduledJob:
    """Schedule once: a second call with the same key returns the first row. Only an
    offer's expiry has no contract (its ``subject_id`` is the offer's)."""
    job, created = ScheduledJob.objects.get_or_create(
        key=key,
        defaults={
            "kind": kind,
            "contract": contract,
            "recipient": recipient,
            "subject_id": subject_id,
            "due_at": due_at,
        },
    )
    if created and due_at <= job.created_at:
        run_job_task.delay_on_commit(job.pk)
    return job


def schedule_after_end(contract: Contract, *, ended_at: datetime, at: datetime) -> None:
    """At the end: a closure checklist and a feedback request to each party now, a
    feedback reminder on day ``FEEDBACK_REMINDER_DAY``, and the close of the feedback
    window after ``FEEDBACK_WINDOW_DAYS``."""
    items = []
    for user, checklist in ((contract.client, CLIENT_CHECKLIST), (contract.freelancer, FREELANCER_CHECKLIST)):
        items += [
            ChecklistItem(contract=contract, user=user, code=code, label=label, position=position)
            for position, (code, label) in enumerate(checklist, start=1)
        ]
    ChecklistItem.objects.bulk_create(items, ignore_conflicts=True)
    for user in (contract.client, contract.freelancer):
        for kind, due_at in (
            (JobKind.CLOSURE_CHECKLIST, at),
            (JobKind.FEEDBACK_REQUEST, at),
            (JobKind.FEEDBACK_REMINDER, ended_at + timedelta(days=settings.FEEDBACK_REMINDER_DAY)),
        ):
            schedule_job(
                kind=kind, key=f"{kind}:{contract.pk}:{user.pk}", contract=contract, due_at=due_at, recipient=user
            )
    schedule_job(
        kind=JobKind.FEEDBACK_WINDOW_CLOSE,
        key=f"{JobKind.FEEDBACK_WINDOW_CLOSE}:{contract.pk}",
        contract=contract,
        due_at=ended_at + timedelta(days=settings.FEEDBACK_WINDOW_DAYS),
    )


def schedule_notice_elapse(contract: Contract) -> None:
    schedule_job(
        kind=JobKind.NOTICE_ELAPSE,
        key=f"{JobKind.NOTICE_ELAPSE}:{contract.pk}:{contract.notice_given_at:%Y%m%dT%H%M%S.%f}",
        contract=contract,
        due_at=contract.notice_effective_at,
    )


def schedule_end_proposal_expiry(contract: Contract) -> None:
    schedule_job(
        kind=JobKind.END_PROPOSAL_EXPIRY,
        key=f"{JobKind.END_PROPOSAL_EXPIRY}:{contract.pk}:{contract.end_proposed_at:%Y%m%dT%H%M%S.%f}",
        contract=contract,
        due_at=contract.end_proposal_expires_at,
    )


def schedule_rate_change_expiry(proposal) -> None:
    schedule_job(
        kind=JobKind.RATE_CHANGE_EXPIRY,
        key=f"{JobKind.RATE_CHANGE_EXPIRY}:{proposal.pk}",
        contract=proposal.contract,
        subject_id=proposal.pk,
        due_at=proposal.expires_at,
    )


def schedule_milestone_auto_release(milestone) -> None:
    schedule_job(
        kind=JobKind.MILESTONE_AUTO_RELEASE,
        key=f"{JobKind.MILESTONE_AUTO_RELEASE}:{milestone.pk}:{milestone.submitted_at:%Y%m%dT%H%M%S.%f}",
        contract=milestone.contract,
        subject_id=milestone.pk,
        due_at=milestone.submitted_at + timedelta(days=settings.MILESTONE_AUTO_RELEASE_DAYS),
    )


def schedule_refund_request_auto_approve(request) -> None:
    schedule_job(
        kind=JobKind.REFUND_REQUEST_AUTO_APPROVE,
        key=f"{JobKind.REFUND_REQUEST_AUTO_APPROVE}:{request.pk}",
        contract=request.contract,
        subject_id=request.pk,
        due_at=request.respond_by,
    )


def schedule_weekly_invoices(*, monday, at: datetime) -> int:
    """One invoicing job per open hourly contract with unbilled time in the week that
    starts on ``monday``; called every Monday at noon UTC for the week before."""
    from ..models import ContractKind, ContractState, DiaryEntry

    contract_ids = (
        DiaryEntry.objects.filter(
            invoice__isnull=True,
            work_date__range=(monday, monday + timedelta(days=6)),
            contract__kind=ContractKind.HOURLY,
        )
        .exclude(contract__state=ContractState.ENDED)
        .values_list("contract_id", flat=True)
        .distinct()
    )
    jobs = [
        ScheduledJob(
            key=f"{JobKind.WEEKLY_INVOICE}:{contract_id}:{monday:%Y-%m-%d}",
            kind=JobKind.WEEKLY_INVOICE,
            contract_id=contract_id,
            subject_id=monday.toordinal(),
            due_at=at,
        )
        for contract_id in contract_ids
    ]
    with transaction.atomic():
        ScheduledJob.objects.bulk_create(jobs, ignore_conflicts=True, batch_size=1000)
    return len(jobs)

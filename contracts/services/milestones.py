from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.models import Payment
from billing.money import format_cents
from billing.selectors import escrow_held_cents
from billing.services.escrow import escrow_fund, escrow_release
from billing.services.ledger import request_idempotency_key
from contracts_portal.errors import DomainError

from ..models import Milestone, MilestoneState
from .locking import check, lock_milestone, take
from .scheduling import schedule_milestone_auto_release


def milestone_fund(*, milestone: Milestone, by) -> Milestone:
    """The client pays the milestone amount, plus the marketplace fee, into escrow."""
    with transaction.atomic():
        milestone = lock_milestone(milestone.pk)
        at = timezone.now()
        take(milestone, "fund", by=by, at=at)
        escrow_fund(milestone=milestone, at=at)
    return milestone


def milestone_submit(*, milestone: Milestone, by, note: str = "") -> Milestone:
    with transaction.atomic():
        milestone = lock_milestone(milestone.pk)
        take(milestone, "submit", by=by, at=timezone.now(), note=note, reason=note)
        schedule_milestone_auto_release(milestone)
    return milestone


def milestone_release_unreviewed(*, milestone_id: int) -> Payment:
    """Release submitted work the client did not review within 14 days (deadline
    sweep): a freelancer who delivered is not left waiting on a silent client."""
    with transaction.atomic():
        milestone = lock_milestone(milestone_id)
        at = timezone.now()
        if milestone.state != MilestoneState.SUBMITTED:
            raise DomainError("This milestone is no longer waiting for review.")
        if at < milestone.submitted_at + timedelta(days=settings.MILESTONE_AUTO_RELEASE_DAYS):
            raise DomainError("The client still has time to review this work.")
        take(milestone, "release", by=None, at=at, as_platform=True, reason="Not reviewed within 14 days")
        return escrow_release(
            milestone=milestone,
            amount_cents=escrow_held_cents(milestone),
            key=f"milestone:{milestone.pk}:release",
            at=at,
        )


def milestone_release(
    *, milestone: Milestone, by, amount_cents: int | None = None, idempotency_key: str = ""
) -> Payment:
    """The client pays the freelancer out of the milestone's escrow: all of it
    (the milestone is then paid), or a part, leaving the rest in escrow."""
    with transaction.atomic():
        milestone = lock_milestone(milestone.pk)
        at = timezone.now()
        held = escrow_held_cents(milestone)
        if amount_cents is None or amount_cents == held:
            take(milestone, "release", by=by, at=at)
            return escrow_release(
                milestone=milestone, amount_cents=held, key=f"milestone:{milestone.pk}:release", at=at
            )
        check(milestone, "release", by=by)
        if not 0 < amount_cents < held:
            raise DomainError(f"Enter an amount above $0.00 and at most {format_cents(held)}, the amount in escrow.")
        return escrow_release(
            milestone=milestone,
            amount_cents=amount_cents,
            key=request_idempotency_key(f"milestone:{milestone.pk}:release", idempotency_key),
            at=at,
        )

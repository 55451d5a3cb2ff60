from django.db import transaction
from django.utils import timezone

from billing.models import Payment
from billing.selectors import escrow_held_cents
from billing.services.escrow import escrow_fund, escrow_release

from ..models import Milestone
from .locking import lock_milestone, take


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
    return milestone


def milestone_release(*, milestone: Milestone, by) -> Payment:
    """The client pays the freelancer the whole escrow of the milestone."""
    with transaction.atomic():
        milestone = lock_milestone(milestone.pk)
        at = timezone.now()
        take(milestone, "release", by=by, at=at)
        return escrow_release(
            milestone=milestone,
            amount_cents=escrow_held_cents(milestone),
            key=f"milestone:{milestone.pk}:release",
            at=at,
        )

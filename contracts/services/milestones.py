from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.models import Payment
from billing.money import format_cents
from billing.selectors import escrow_held_cents
from billing.services.escrow import ReleasePlan, escrow_fund, escrow_release, escrow_release_plan
from billing.services.ledger import request_idempotency_key
from contracts_portal.errors import DomainError

from ..models import JobKind, Milestone, MilestoneState
from ..models.milestone import is_contract_client
from . import effects
from .jobs import job_handler
from .locking import lock_milestone
from .transitions import check, take


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


def milestone_release_unreviewed(*, milestone_id: int) -> Payment:
    """Release submitted work the client did not review within
    ``MILESTONE_AUTO_RELEASE_DAYS`` (deadline sweep): a freelancer who delivered is not
    left waiting on a silent client."""
    with transaction.atomic():
        milestone = lock_milestone(milestone_id)
        at = timezone.now()
        if milestone.state != MilestoneState.SUBMITTED:
            raise DomainError("This milestone is no longer waiting for review.")
        if at < milestone.submitted_at + timedelta(days=settings.MILESTONE_AUTO_RELEASE_DAYS):
            raise DomainError("The client still has time to review this work.")
        reason = f"Not reviewed within {settings.MILESTONE_AUTO_RELEASE_DAYS} days"
        take(milestone, "release", by=None, at=at, as_platform=True, reason=reason)
        return milestone_pay(
            milestone=milestone,
            amount_cents=escrow_held_cents(milestone),
            key=f"milestone:{milestone.pk}:release",
            at=at,
        )


def milestone_pay(*, milestone: Milestone, amount_cents: int, key: str, at) -> Payment:
    """Pay the freelancer ``amount_cents`` out of the milestone's escrow and tell them,
    once per payment: a repeated ``key`` returns the payment already made."""
    made = Payment.objects.filter(ledger_transaction__idempotency_key=key).first()
    if made is not None:
        return made
    payment = escrow_release(milestone=milestone, amount_cents=amount_cents, key=key, at=at)
    effects.milestone_paid(payment)
    return payment


@job_handler(JobKind.MILESTONE_AUTO_RELEASE)
def _milestone_auto_release(job) -> str:
    payment = milestone_release_unreviewed(milestone_id=job.subject_id)
    return f"released payment #{payment.pk}"


STALE_RELEASE = (
    "The escrow of this milestone changed in the meantime, so what you confirmed is no longer what would "
    "happen. Read the new figures before you confirm."
)


def milestone_release_plan(*, milestone: Milestone, by, amount_cents: int) -> ReleasePlan:
    """What paying ``amount_cents`` of the milestone's escrow to the freelancer now
    would move, or the refusal. The preview reads it without locks;
    ``milestone_release`` computes it again with the milestone locked and moves
    exactly these figures."""
    check(milestone, "release", by=by)
    held = escrow_held_cents(milestone)
    if not 0 < amount_cents <= held:
        raise DomainError(
            f"Enter an amount above $0.00 and at most {format_cents(held)}, the amount in escrow.", code="amount"
        )
    return escrow_release_plan(milestone=milestone, amount_cents=amount_cents)


def milestone_release(
    *,
    milestone: Milestone,
    by,
    amount_cents: int | None = None,
    idempotency_key: str = "",
    held_before_cents: int | None = None,
) -> Payment:
    """The client pays the freelancer out of the milestone's escrow: all of it
    (the milestone is then paid), or a part, leaving the rest in escrow.

    The portal's pages always name the amount, sent with the key of the form
    (``idempotency_key``: a repeated confirmation returns the payment already made)
    and the escrow held when the client read the preview (``held_before_cents``: if
    it changed since, the release is refused with code ``stale``). Without an amount,
    everything held is paid: for callers that approve the whole milestone."""
    with transaction.atomic():
        milestone = lock_milestone(milestone.pk)
        key = f"milestone:{milestone.pk}:release"
        if idempotency_key:
            key = request_idempotency_key(key, idempotency_key)
            existing = Payment.objects.filter(ledger_transaction__idempotency_key=key).first()
            if existing is not None and is_contract_client(milestone, by):
                if amount_cents is not None and existing.amount_cents != amount_cents:
                    raise DomainError("This payment form was already used for another amount; reload the page.")
                return existing
        shown_held = held_before_cents
        if shown_held is not None and is_contract_client(milestone, by) and escrow_held_cents(milestone) != shown_held:
            raise DomainError(STALE_RELEASE, code="stale")
        at = timezone.now()
        if amount_cents is None:
            amount_cents = escrow_held_cents(milestone)
        plan = milestone_release_plan(milestone=milestone, by=by, amount_cents=amount_cents)
        if plan.pays_in_full:
            take(milestone, "release", by=by, at=at)
        elif not idempotency_key:
            raise ValueError("a partial release needs the idempotency key of the request")
        return milestone_pay(milestone=milestone, amount_cents=plan.amount_cents, key=key, at=at)

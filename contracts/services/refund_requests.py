from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.services.escrow import escrow_return
from contracts_portal.errors import DomainError

from ..models import EscrowRefundRequest, JobKind
from .jobs import job_handler
from .locking import lock_refund_request
from .transitions import take


def _return_requested_escrow(request: EscrowRefundRequest, *, by, at) -> None:
    escrow_return(
        milestone=request.milestone, amount_cents=request.amount_cents, key=f"refund-request:{request.pk}:return", at=at
    )
    take(request.milestone, "settle_refund", by=by, at=at, as_platform=True, reason="Refund request approved")


def refund_request_approve(*, request: EscrowRefundRequest, by) -> EscrowRefundRequest:
    """The freelancer agrees: the requested escrow goes back to the client."""
    with transaction.atomic():
        request = lock_refund_request(request.pk)
        at = timezone.now()
        take(request, "approve", by=by, at=at)
        _return_requested_escrow(request, by=by, at=at)
    return request


def refund_request_dispute(*, request: EscrowRefundRequest, by, statement: str) -> EscrowRefundRequest:
    """The freelancer disagrees: the escrow stays held until an admin decides the split."""
    if not statement.strip():
        raise DomainError("Explain why you dispute the refund: an admin will read both sides.")
    with transaction.atomic():
        request = lock_refund_request(request.pk)
        take(request, "dispute", by=by, at=timezone.now(), reason=statement.strip())
    return request


def refund_request_approve_unanswered(*, request_id: int) -> EscrowRefundRequest:
    """Approve a request the freelancer left unanswered for ``REFUND_REQUEST_RESPONSE_DAYS``
    (the deadline sweep)."""
    with transaction.atomic():
        request = lock_refund_request(request_id)
        at = timezone.now()
        reason = f"No answer within {settings.REFUND_REQUEST_RESPONSE_DAYS} days"
        take(request, "approve_unanswered", by=None, at=at, as_platform=True, reason=reason)
        _return_requested_escrow(request, by=None, at=at)
    return request


@job_handler(JobKind.REFUND_REQUEST_AUTO_APPROVE)
def _refund_request_auto_approve(job) -> str:
    refund_request_approve_unanswered(request_id=job.subject_id)
    return "approved without an answer"

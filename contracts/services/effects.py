"""Effects of rows written outside a transition, called explicitly by the service
that writes the row (as a transition's own effects are carried out by
``contracts.services.transitions.take``): a refund request opened, a payment out of
escrow, a refund, feedback left. Each runs in the caller's transaction, in the order
``contracts.effects`` documents: scheduled work, notifications, e-mails, detectors.
"""

from django.conf import settings

from billing.money import format_cents

from ..detection import raise_flags
from ..effects import CONTRACT_END_EVENT
from ..models import EscrowRefundRequest, NotificationKind
from ..notifications import display_name, notify, quoted
from . import deadline_mail
from .refund_mail import email_refund_made
from .scheduling import schedule_refund_request_auto_approve
from .transitions import contract_link


def refund_request_opened(request: EscrowRefundRequest) -> None:
    """A client's end left escrow unpaid: the freelancer has REFUND_REQUEST_RESPONSE_DAYS
    to answer (a job approves it after that), is told and e-mailed, and the client's message is read
    by the detectors as part of the contract's end."""
    contract, milestone = request.contract, request.milestone
    schedule_refund_request_auto_approve(request)
    notify(
        [contract.freelancer],
        contract_id=contract.pk,
        kind=NotificationKind.REFUND_REQUEST,
        message=(
            f"{display_name(contract.client)} asks for {format_cents(request.amount_cents)} back on the milestone "
            f"{quoted(milestone.title)} of {quoted(contract.title)}; approve or dispute within "
            f"{settings.REFUND_REQUEST_RESPONSE_DAYS} days, or it is approved automatically."
        ),
        at=request.created_at,
        link=contract_link(contract.pk, "#refund-requests"),
    )
    deadline_mail.email_refund_requested(request=request, contract=contract, milestone=milestone)
    if request.client_statement:
        raise_flags(
            "text_written",
            text=request.client_statement,
            author=contract.client,
            contract=contract,
            source="A refund request message",
            source_key=CONTRACT_END_EVENT.format(pk=contract.pk),
        )


def milestone_paid(payment) -> None:
    """Escrow paid out to the freelancer, in full or in part: by the client's release,
    as the client's choice when ending, automatically, or by a dispute's decision."""
    contract, milestone = payment.contract, payment.milestone
    notify(
        [contract.freelancer],
        contract_id=contract.pk,
        kind=NotificationKind.MILESTONE,
        message=(
            f"{display_name(contract.client)} released {format_cents(payment.amount_cents)} for the milestone "
            f"{quoted(milestone.title)} on {quoted(contract.title)}."
        ),
        at=payment.paid_at,
    )


def refund_made(refund) -> None:
    """A freelancer refunded (part of) a payment: the client is told in the portal and
    by e-mail, with the freelancer's reason (the refund form says it is shown to the
    client), and the detectors read the refund and its reason."""
    payment = refund.payment
    message = (
        f"{display_name(payment.freelancer)} refunded {format_cents(refund.amount_cents)} of payment "
        f"#{payment.pk} on {quoted(payment.contract.title)}."
    )
    if refund.reason:
        message += f" Their reason: {quoted(refund.reason)}."
    notify(
        [payment.client],
        contract_id=payment.contract_id,
        kind=NotificationKind.REFUND,
        message=message,
        at=refund.created_at,
        link=contract_link(payment.contract_id, "#payments"),
    )
    email_refund_made(refund=refund)
    raise_flags("refund_created", refund=refund)
    if refund.reason:
        raise_flags(
            "text_written",
            text=refund.reason,
            author=refund.created_by,
            contract=payment.contract,
            source="A refund reason",
            source_key=f"refund:{refund.pk}",
        )


def feedback_left(feedback) -> None:
    """Feedback was left: its public comment is read by the detectors."""
    if feedback.public_comment:
        raise_flags(
            "text_written",
            text=feedback.public_comment,
            author=feedback.author,
            contract=feedback.contract,
            source="A feedback comment",
            source_key=f"feedback:{feedback.pk}",
        )

"""The e-mail to the client whose payment a freelancer refunded: how much, what goes
back to them with the marketplace fee charged on it, and the freelancer's reason,
which the refund form tells the freelancer is shown to the client.

Queued by ``contracts.services.effects.refund_made`` in the transaction of the refund, once
per refund (its key names the refund), so a rolled-back refund e-mails nobody."""

from django.conf import settings
from django.urls import reverse
from django.utils.text import Truncator

from billing.money import format_cents

from ..notifications import display_name
from .mail import queue_email

SUBJECT_MAX_LENGTH = 200  # OutgoingEmail.subject


def email_refund_made(*, refund) -> None:
    payment = refund.payment
    contract = payment.contract
    freelancer_name = display_name(payment.freelancer)
    amount = format_cents(refund.amount_cents)
    # The refund's number comes first: two refunds of one payment may have the same amount.
    subject = f"Refund #{refund.pk}: {freelancer_name} refunded {amount} of payment #{payment.pk} on “{contract.title}”"
    queue_email(
        key=f"email:refund:{refund.pk}",
        user=payment.client,
        subject=Truncator(subject).chars(SUBJECT_MAX_LENGTH),
        template="refund_made",
        context={
            "contract": contract,
            "payment": payment,
            "refund": refund,
            "freelancer_name": freelancer_name,
            "amount": amount,
            "payment_amount": format_cents(payment.amount_cents),
            "fee_returned": format_cents(refund.client_fee_returned_cents),
            "total_back": format_cents(refund.amount_cents + refund.client_fee_returned_cents),
            "contract_url": settings.PORTAL_BASE_URL.rstrip("/")
            + reverse("contract_detail", args=[contract.pk])
            + "#payments",
        },
    )

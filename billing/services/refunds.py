from django.db import transaction
from django.utils import timezone

from contracts_portal.errors import DomainError

from ..models import Payment, Refund, TransactionKind
from ..money import format_cents, next_pro_rata_share
from ..refund_window import refund_window_refusal
from ..selectors import refund_totals
from .ledger import (
    Line,
    client_funds_account,
    earnings_account,
    ledger_post,
    platform_fees_account,
    request_idempotency_key,
)


def refund_create(*, payment: Payment, by, amount_cents: int, idempotency_key: str, reason: str = "") -> Refund:
    """Refund part or all of a payment to the client, returning the fees taken on the
    refunded part pro rata. Irreversible. A repeated request with the same
    idempotency key returns the refund already made."""
    key = request_idempotency_key("refund", idempotency_key)
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update().select_related("contract", "client", "freelancer").get(pk=payment.pk)
        )
        existing = Refund.objects.filter(ledger_transaction__idempotency_key=key).first()
        if existing is not None:
            if existing.payment_id != payment.pk or existing.amount_cents != amount_cents:
                raise DomainError("This refund form was already used for another refund; reload the page.")
            return existing
        if not (by and by.is_authenticated and by.pk == payment.freelancer_id):
            raise DomainError("Only the freelancer who received this payment can refund it.")
        now = timezone.now()
        refusal = refund_window_refusal(payment, now)
        if refusal:
            raise DomainError(refusal)
        if amount_cents <= 0:
            raise DomainError("The refund must be more than zero.")
        done = refund_totals(payment)
        remaining = payment.amount_cents - done["amount"]
        if amount_cents > remaining:
            if remaining == 0:
                raise DomainError("This payment has already been refunded in full.")
            raise DomainError(
                f"You can refund at most {format_cents(remaining)} of this payment: "
                f"{format_cents(done['amount'])} of {format_cents(payment.amount_cents)} has been refunded already."
            )
        freelancer_fee_share = next_pro_rata_share(
            total_cents=payment.freelancer_fee_cents,
            whole_cents=payment.amount_cents,
            done_cents=done["amount"],
            part_cents=amount_cents,
            shared_cents=done["freelancer_fee"],
        )
        client_fee_share = next_pro_rata_share(
            total_cents=payment.client_fee_cents,
            whole_cents=payment.amount_cents,
            done_cents=done["amount"],
            part_cents=amount_cents,
            shared_cents=done["client_fee"],
        )
        ledger_transaction = ledger_post(
            key=key,
            kind=TransactionKind.REFUND,
            contract=payment.contract,
            at=now,
            memo=f"Refund of {format_cents(amount_cents)} on payment #{payment.pk}",
            lines=[
                Line(earnings_account(payment.freelancer), -(amount_cents - freelancer_fee_share)),
                Line(platform_fees_account(), -(freelancer_fee_share + client_fee_share)),
                Line(client_funds_account(payment.client), amount_cents + client_fee_share),
            ],
        )
        return Refund.objects.create(
            payment=payment,
            amount_cents=amount_cents,
            freelancer_fee_returned_cents=freelancer_fee_share,
            client_fee_returned_cents=client_fee_share,
            reason=reason,
            created_by=by,
            created_at=now,
            ledger_transaction=ledger_transaction,
        )

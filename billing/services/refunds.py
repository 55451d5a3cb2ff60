"""Refunds: a freelancer gives back part or all of a payment. One plan, computed by
the same code for the preview the freelancer reads before confirming and for the
refund itself, so what is shown is what is done."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from contracts.services.effects import refund_made
from contracts.services.locking import lock_contract
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

STALE_REFUND = (
    "This payment was refunded in the meantime, so what you confirmed is no longer what would happen. "
    "Read the new figures before you confirm."
)


@dataclass(frozen=True)
class RefundPlan:
    """What refunding ``amount_cents`` of a payment moves: the client gets the amount
    back with the marketplace fee charged on it, and the service fee taken on it is
    returned to the freelancer, whose earnings go down by the rest."""

    payment: Payment
    amount_cents: int
    freelancer_fee_returned_cents: int
    client_fee_returned_cents: int
    refunded_before_cents: int

    @property
    def client_gets_back_cents(self) -> int:
        return self.amount_cents + self.client_fee_returned_cents

    @property
    def freelancer_gives_back_cents(self) -> int:
        return self.amount_cents - self.freelancer_fee_returned_cents

    @property
    def left_before_cents(self) -> int:
        return self.payment.amount_cents - self.refunded_before_cents

    @property
    def left_after_cents(self) -> int:
        return self.left_before_cents - self.amount_cents

    @property
    def refunds_all(self) -> bool:
        return self.left_after_cents == 0


def _is_payee(payment: Payment, user) -> bool:
    return bool(user and user.is_authenticated and user.pk == payment.freelancer_id)


def refund_plan(*, payment: Payment, by, amount_cents: int, now: datetime | None = None) -> RefundPlan:
    """What refunding ``amount_cents`` of ``payment`` now would move, or the refusal.

    The preview reads it without locks; ``refund_create`` computes it again with the
    contract locked and moves exactly these figures."""
    if not _is_payee(payment, by):
        raise DomainError("Only the freelancer who received this payment can refund it.")
    refusal = refund_window_refusal(payment, now or timezone.now())
    if refusal:
        raise DomainError(refusal)
    if amount_cents <= 0:
        raise DomainError("The refund must be more than zero.", code="amount")
    done = refund_totals(payment)
    remaining = payment.amount_cents - done["amount"]
    if amount_cents > remaining:
        if remaining == 0:
            raise DomainError("This payment has already been refunded in full.", code="amount")
        raise DomainError(
            f"You can refund at most {format_cents(remaining)} of this payment: "
            f"{format_cents(done['amount'])} of {format_cents(payment.amount_cents)} has been refunded already.",
            code="amount",
        )
    return RefundPlan(
        payment=payment,
        amount_cents=amount_cents,
        freelancer_fee_returned_cents=next_pro_rata_share(
            total_cents=payment.freelancer_fee_cents,
            whole_cents=payment.amount_cents,
            done_cents=done["amount"],
            part_cents=amount_cents,
            shared_cents=done["freelancer_fee"],
        ),
        client_fee_returned_cents=next_pro_rata_share(
            total_cents=payment.client_fee_cents,
            whole_cents=payment.amount_cents,
            done_cents=done["amount"],
            part_cents=amount_cents,
            shared_cents=done["client_fee"],
        ),
        refunded_before_cents=done["amount"],
    )


def refund_create(
    *,
    payment: Payment,
    by,
    amount_cents: int,
    idempotency_key: str,
    reason: str = "",
    refunded_before_cents: int | None = None,
) -> Refund:
    """Refund part or all of a payment to the client, returning the fees taken on the
    refunded part pro rata. Irreversible. A repeated request with the same
    idempotency key returns the refund already made.

    ``refunded_before_cents`` is what had been refunded of the payment when the
    freelancer read the preview: if other refunds were made since, the figures shown
    are no longer what would happen, and the refund is refused (code ``stale``)."""
    key = request_idempotency_key("refund", idempotency_key)
    with transaction.atomic():
        # Payments are append-only: the runtime database role may not lock their rows
        # (FOR UPDATE needs UPDATE), so the contract's lock serialises its refunds.
        contract = lock_contract(payment.contract_id)
        payment = Payment.objects.select_related("client", "freelancer").get(pk=payment.pk)
        payment.contract = contract
        existing = Refund.objects.filter(ledger_transaction__idempotency_key=key).first()
        if existing is not None:
            if existing.payment_id != payment.pk or existing.amount_cents != amount_cents:
                raise DomainError("This refund form was already used for another refund; reload the page.")
            return existing
        shown_before = refunded_before_cents
        if shown_before is not None and _is_payee(payment, by) and refund_totals(payment)["amount"] != shown_before:
            raise DomainError(STALE_REFUND, code="stale")
        now = timezone.now()
        plan = refund_plan(payment=payment, by=by, amount_cents=amount_cents, now=now)
        ledger_transaction = ledger_post(
            key=key,
            kind=TransactionKind.REFUND,
            contract=payment.contract,
            at=now,
            memo=f"Refund of {format_cents(amount_cents)} on payment #{payment.pk}",
            lines=[
                Line(earnings_account(payment.freelancer), -plan.freelancer_gives_back_cents),
                Line(
                    platform_fees_account(), -(plan.freelancer_fee_returned_cents + plan.client_fee_returned_cents)
                ),
                Line(client_funds_account(payment.client), plan.client_gets_back_cents),
            ],
        )
        refund = Refund.objects.create(
            payment=payment,
            amount_cents=amount_cents,
            freelancer_fee_returned_cents=plan.freelancer_fee_returned_cents,
            client_fee_returned_cents=plan.client_fee_returned_cents,
            reason=reason,
            created_by=by,
            created_at=now,
            ledger_transaction=ledger_transaction,
        )
        refund_made(refund)
        return refund

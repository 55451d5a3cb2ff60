import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q

from contracts_portal.append_only import AppendOnlyModel

# Refunds of one payment are serialised on its contract's row, the lock every service
# takes first: the portal's runtime database role may not lock an append-only payment
# row (FOR UPDATE needs the UPDATE privilege it does not have; contracts_portal/db_roles.py).
REFUND_WITHIN_PAYMENT_SQL = """
DECLARE
    paid bigint;
    refunded bigint;
BEGIN
    PERFORM 1 FROM contracts_contract
        WHERE id = (SELECT contract_id FROM billing_payment WHERE id = NEW.payment_id) FOR UPDATE;
    SELECT amount_cents INTO paid FROM billing_payment WHERE id = NEW.payment_id;
    SELECT COALESCE(SUM(amount_cents), 0) INTO refunded FROM billing_refund WHERE payment_id = NEW.payment_id;
    IF refunded + NEW.amount_cents > paid THEN
        RAISE EXCEPTION 'refunds of payment % would reach % cents, more than the % cents paid',
            NEW.payment_id, refunded + NEW.amount_cents, paid
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
"""


class Refund(AppendOnlyModel):
    """Money a freelancer gives back from a payment. Irreversible; never more in total
    than the payment; the fees taken on the refunded part are returned pro rata."""

    payment = models.ForeignKey("billing.Payment", on_delete=models.PROTECT, related_name="refunds")
    amount_cents = models.PositiveBigIntegerField()
    freelancer_fee_returned_cents = models.PositiveBigIntegerField()
    client_fee_returned_cents = models.PositiveBigIntegerField()
    reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    ledger_transaction = models.OneToOneField(
        "billing.LedgerTransaction", on_delete=models.PROTECT, related_name="refund"
    )

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [models.CheckConstraint(condition=Q(amount_cents__gt=0), name="refund_positive")]
        triggers = [
            pgtrigger.Protect(name="refund_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
            pgtrigger.Trigger(
                name="refund_within_payment",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert,
                func=REFUND_WITHIN_PAYMENT_SQL,
            ),
        ]

    def __str__(self) -> str:
        return f"Refund #{self.pk} of {self.amount_cents} cents on payment #{self.payment_id}"

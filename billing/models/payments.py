import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q

from contracts_portal.append_only import AppendOnlyModel


class PaymentSource(models.TextChoices):
    HOURLY_INVOICE = "hourly_invoice", "Hourly invoice"
    MILESTONE_RELEASE = "milestone_release", "Milestone payment"


class Payment(AppendOnlyModel):
    """Money paid to a freelancer: the gross amount before the service fee, and the
    fees taken on it. What is left to refund is derived from its refunds."""

    contract = models.ForeignKey("contracts.Contract", on_delete=models.PROTECT, related_name="payments")
    milestone = models.ForeignKey(
        "contracts.Milestone", on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments_made")
    freelancer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments_received")
    source = models.CharField(max_length=20, choices=PaymentSource.choices)
    amount_cents = models.PositiveBigIntegerField()
    freelancer_fee_cents = models.PositiveBigIntegerField()
    client_fee_cents = models.PositiveBigIntegerField()
    paid_at = models.DateTimeField()
    ledger_transaction = models.OneToOneField(
        "billing.LedgerTransaction", on_delete=models.PROTECT, related_name="payment"
    )

    class Meta:
        ordering = ("-paid_at", "-id")
        indexes = [
            models.Index(fields=["freelancer", "-paid_at"], name="payment_freelancer_paid"),
            models.Index(fields=["contract", "-paid_at"], name="payment_contract_paid"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="payment_positive"),
            models.CheckConstraint(
                condition=Q(freelancer_fee_cents__lte=models.F("amount_cents")), name="payment_fee_within_amount"
            ),
        ]
        triggers = [pgtrigger.Protect(name="payment_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"Payment #{self.pk} of {self.amount_cents} cents on contract #{self.contract_id}"

    @property
    def net_to_freelancer_cents(self) -> int:
        return self.amount_cents - self.freelancer_fee_cents


class Invoice(AppendOnlyModel):
    """Recorded hours of an hourly contract charged to the client at the contract rate."""

    contract = models.ForeignKey("contracts.Contract", on_delete=models.PROTECT, related_name="invoices")
    period_start = models.DateField()
    period_end = models.DateField()
    minutes = models.PositiveIntegerField()
    rate_cents = models.PositiveIntegerField()
    amount_cents = models.PositiveBigIntegerField()
    issued_at = models.DateTimeField()
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="invoice")

    class Meta:
        ordering = ("-issued_at", "-id")
        constraints = [models.CheckConstraint(condition=Q(minutes__gt=0), name="invoice_has_time")]
        triggers = [pgtrigger.Protect(name="invoice_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"Invoice #{self.pk} for contract #{self.contract_id}"

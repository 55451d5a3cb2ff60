import pgtrigger
from django.db import models
from django.db.models import Q
from django.utils import timezone

from contracts_portal.append_only import AppendOnlyModel


class EscrowMovementKind(models.TextChoices):
    FUND = "fund", "Funded"
    RELEASE = "release", "Released to the freelancer"
    RETURN = "return", "Returned to the client"


class EscrowMovement(AppendOnlyModel):
    """Money into or out of a milestone's escrow. The amount held is derived:
    funded minus released minus returned. ``client_fee_cents`` is the marketplace fee
    charged with the funding, or the share of it that a release or return carries."""

    milestone = models.ForeignKey("contracts.Milestone", on_delete=models.PROTECT, related_name="escrow_movements")
    kind = models.CharField(max_length=10, choices=EscrowMovementKind.choices)
    amount_cents = models.PositiveBigIntegerField()
    client_fee_cents = models.PositiveBigIntegerField()
    ledger_transaction = models.OneToOneField(
        "billing.LedgerTransaction", on_delete=models.PROTECT, related_name="escrow_movement"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("created_at", "id")
        constraints = [models.CheckConstraint(condition=Q(amount_cents__gt=0), name="escrow_movement_positive")]
        triggers = [
            pgtrigger.Protect(name="escrow_movement_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.amount_cents} cents, milestone #{self.milestone_id}"

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone

from contracts_portal.append_only import AppendOnlyModel


class StateChange(AppendOnlyModel):
    """One row per state transition of a contract, a milestone or a refund request
    (and of an offer, before it is a contract: ``subject`` and ``subject_id`` name it,
    ``contract`` is empty until the offer is accepted): who took it, when, from which
    state to which, and why. Written first of a transition's effects by
    ``contracts.services.transitions.take``, in the transaction that saves the new state."""

    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.PROTECT, null=True, blank=True, related_name="state_changes"
    )
    subject = models.CharField(max_length=40)
    subject_id = models.PositiveBigIntegerField()
    transition = models.CharField(max_length=40)
    source = models.CharField(max_length=30)
    target = models.CharField(max_length=30)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [
            models.Index(fields=["contract", "created_at"], name="statechange_contract_time"),
            models.Index(fields=["subject", "subject_id"], name="statechange_subject"),
        ]
        triggers = [pgtrigger.Protect(name="state_change_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.subject} #{self.subject_id}: {self.source} → {self.target} ({self.transition})"

from django.conf import settings
from django.db import models
from django.utils import timezone


class NotificationKind(models.TextChoices):
    CONTRACT = "contract", "Contract"
    MILESTONE = "milestone", "Milestone"
    REFUND_REQUEST = "refund_request", "Refund request"
    REFUND = "refund", "Refund"
    OFFER = "offer", "Offer"


class Notification(models.Model):
    """A plain sentence telling one person that something happened on a contract.

    Written as an effect of the change (``contracts.services.effects``) in the
    transaction that made it, so a rolled-back action leaves no notification behind.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    kind = models.CharField(max_length=40)
    message = models.TextField()
    link = models.CharField(max_length=300, blank=True, help_text="A URL path on this site.")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_read")]

    def __str__(self) -> str:
        return f"Notification #{self.pk} for {self.user_id}: {self.message[:60]}"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None

from datetime import UTC

from django.conf import settings
from django.db import models
from django.utils import timezone


class AccountSuspension(models.Model):
    """A permanent closure of an account: the rule that was broken and why.

    Written only by ``contracts.services.account_suspend`` (from the review queue or
    the admin), which also makes the account inactive and ends its open contracts.
    The person is shown the rule, its public explanation and the optional message to
    them when they try to sign in; the reviewer's internal note is never shown to them.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="suspension")
    rule = models.CharField(max_length=200, help_text="The rule broken, e.g. “Payment outside the platform”.")
    explanation = models.TextField(
        help_text="The public explanation of the rule, shown to the account holder when they try to sign in."
    )
    message_to_user = models.TextField(
        blank=True, help_text="Optional: anything more the reviewer wants to tell the account holder."
    )
    internal_note = models.TextField(
        blank=True, help_text="Why the account was closed, for reviewers only: never shown to the account holder."
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    # Not stored: how many open contracts the suspension ended, set by ``account_suspend``
    # on the instance it returns (each end is in its contract's own history).
    contracts_ended: int | None = None

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"Suspension of {self.user} ({self.rule})"

    @property
    def closed_message(self) -> str:
        """What the account holder reads: the rule, its explanation, the message to them."""
        day = self.created_at.astimezone(UTC)
        rule = self.rule.strip().rstrip(".")
        parts = [f"This account was permanently closed on {day:%Y-%m-%d}: {rule}.", self.explanation.strip()]
        if self.message_to_user.strip():
            parts.append(f"Message from the platform: {self.message_to_user.strip()}")
        return " ".join(part for part in parts if part)

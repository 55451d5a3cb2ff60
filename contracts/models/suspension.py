from datetime import UTC

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.utils import timezone


class AccountSuspension(models.Model):
    """A permanent closure of an account: the rule that was broken and why.

    The account is also made inactive, so it cannot sign in and its open sessions
    stop working; the sign-in form shows the person this rule and explanation.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="suspension")
    rule = models.CharField(max_length=200, help_text="The rule broken, e.g. “Payment outside the platform”.")
    explanation = models.TextField(help_text="Shown to the account holder when they try to sign in.")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"Suspension of {self.user} ({self.rule})"

    def save(self, *args, **kwargs) -> None:
        with transaction.atomic():
            super().save(*args, **kwargs)
            get_user_model().objects.filter(pk=self.user_id, is_active=True).update(is_active=False)
        if self.user_id and "user" in self._state.fields_cache:
            self.user.is_active = False

    @property
    def closed_message(self) -> str:
        day = self.created_at.astimezone(UTC)
        rule = self.rule.strip().rstrip(".")
        return f"This account was permanently closed on {day:%Y-%m-%d}: {rule}. {self.explanation.strip()}".strip()

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone

from contracts_portal.append_only import AppendOnlyModel


class FlagRule(models.TextChoices):
    QUICK_END = "quick_end", "Contract ended soon after it started, escrow returned, nothing paid"
    REPEATED_QUICK_END = "repeated_quick_end", "The same client and freelancer ended contracts quickly again and again"
    OFF_PLATFORM_CONTACT = "off_platform_contact", "Payment or contact details for outside the platform"
    QUICK_REFUND = "quick_refund", "Most of a payment refunded soon after it was made"


# What each rule means, as the person it is applied to reads it (a warning, the
# sign-in page of a closed account): never the evidence or a reviewer's note.
RULE_PUBLIC_EXPLANATIONS = {
    FlagRule.QUICK_END: (
        "Ending contracts soon after they start, with the escrow returned, to take the work and its payment "
        "outside the platform breaks the terms of service."
    ),
    FlagRule.REPEATED_QUICK_END: (
        "Repeatedly ending contracts with the same person soon after they start, with the escrow returned, to "
        "take the work and its payment outside the platform breaks the terms of service."
    ),
    FlagRule.OFF_PLATFORM_CONTACT: (
        "Asking to pay or be paid outside the platform, or sharing contact details to do so, breaks the terms of "
        f"service: for {settings.NON_CIRCUMVENTION_MONTHS} months after meeting on the platform, work between the two "
        "of you is paid through it."
    ),
    FlagRule.QUICK_REFUND: (
        "Refunding payments made through the platform in order to be paid outside it breaks the terms of service."
    ),
}


def rule_public_explanation(rule: str) -> str:
    return RULE_PUBLIC_EXPLANATIONS[FlagRule(rule)]


class FlagDecisionKind(models.TextChoices):
    DISMISS = "dismiss", "Dismiss"
    WARN = "warn", "Warn the user"
    SUSPEND = "suspend", "Suspend the account"
    CLOSED_WITH_ACCOUNT = "closed", "Closed: the account was suspended"


# What a reviewer chooses; CLOSED_WITH_ACCOUNT is recorded by the suspension itself.
REVIEWER_DECISIONS = (FlagDecisionKind.DISMISS, FlagDecisionKind.WARN, FlagDecisionKind.SUSPEND)

REVIEW_PERMISSION = "contracts.review_flags"


def is_reviewer(user) -> bool:
    """Whether ``user`` reviews flags, disputes and private feedback: signed in, active
    and holding ``contracts.review_flags`` (superusers hold every permission). The one
    check behind the review pages, the reviewers' services, the disputed-refund rule,
    the admin and the header's Review link."""
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(REVIEW_PERMISSION))


class Flag(models.Model):
    """A possible breach of the non-circumvention terms, raised by a detector with its
    evidence, for a reviewer to decide. Its status is its latest decision."""

    rule = models.CharField(max_length=30, choices=FlagRule.choices)
    subject = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="flags")
    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.PROTECT, null=True, blank=True, related_name="flags"
    )
    explanation = models.TextField()
    evidence = models.JSONField(default=dict)
    dedupe_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-id")
        permissions = [("review_flags", "Can review circumvention flags, disputes and private feedback")]
        indexes = [models.Index(fields=["rule", "-created_at"], name="flag_rule_created")]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} — {self.subject}"


class FlagDecision(AppendOnlyModel):
    """A reviewer's decision on a flag: who, when, what and why. Never edited; a
    later decision follows an earlier one."""

    flag = models.ForeignKey(Flag, on_delete=models.PROTECT, related_name="decisions")
    decision = models.CharField(max_length=10, choices=FlagDecisionKind.choices)
    note = models.TextField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    # Not stored: the AccountSuspension a decision to suspend made, set by ``flag_decide``
    # on the instance it returns.
    suspension = None

    class Meta:
        ordering = ("-created_at", "-id")
        triggers = [pgtrigger.Protect(name="flag_decision_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} on flag #{self.flag_id}"

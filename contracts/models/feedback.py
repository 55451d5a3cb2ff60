from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .contract import EndReason

CLIENT_RATES_FREELANCER = (
    ("skills", "Skills"),
    ("quality", "Quality of work"),
    ("availability", "Availability"),
    ("deadlines", "Adherence to deadlines"),
    ("communication", "Communication"),
    ("cooperation", "Cooperation"),
)
FREELANCER_RATES_CLIENT = (
    ("clarity", "Clarity of requirements"),
    ("communication", "Communication"),
    ("payment_promptness", "Payment promptness"),
    ("cooperation", "Cooperation"),
    ("availability", "Availability"),
)


class Feedback(models.Model):
    """What one party says about the other after a contract ends.

    Double-blind: the other party sees it only once ``revealed_at`` is set, when both
    have submitted or the window (``FEEDBACK_WINDOW_DAYS``) has closed, so neither can answer a bad
    rating with a bad rating. The private part (reason for ending, likelihood to
    recommend) is never shown to the other party at all. Written once, never edited.
    """

    contract = models.ForeignKey("contracts.Contract", on_delete=models.PROTECT, related_name="feedback")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="feedback_given")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="feedback_received")
    author_is_client = models.BooleanField()
    scores = models.JSONField(help_text="Criterion → rating 1 to 5.")
    overall_hundredths = models.PositiveSmallIntegerField(help_text="Average of the ratings × 100 (100 to 500).")
    public_comment = models.TextField(blank=True)
    private_reason = models.CharField(max_length=20, choices=EndReason.choices)
    private_recommend = models.PositiveSmallIntegerField(help_text="Likelihood to recommend, 0 to 10.")
    created_at = models.DateTimeField(default=timezone.now)
    revealed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name_plural = "feedback"
        indexes = [models.Index(fields=["recipient", "revealed_at"], name="feedback_recipient_revealed")]
        constraints = [
            models.UniqueConstraint(fields=["contract", "author"], name="feedback_once_per_party"),
            models.CheckConstraint(
                condition=Q(overall_hundredths__gte=100, overall_hundredths__lte=500), name="feedback_overall_1_to_5"
            ),
            models.CheckConstraint(condition=Q(private_recommend__lte=10), name="feedback_recommend_0_to_10"),
            models.CheckConstraint(condition=~Q(author=models.F("recipient")), name="feedback_not_about_oneself"),
        ]

    def __str__(self) -> str:
        return f"Feedback by {self.author_id} on contract #{self.contract_id}"

    @property
    def overall(self) -> str:
        return f"{self.overall_hundredths / 100:.2f}"

    @property
    def criteria(self):
        return CLIENT_RATES_FREELANCER if self.author_is_client else FREELANCER_RATES_CLIENT

    def labelled_scores(self) -> list[tuple[str, int]]:
        return [(label, self.scores.get(code)) for code, label in self.criteria]


class FeedbackResponse(models.Model):
    """The recipient's one public answer to revealed feedback."""

    feedback = models.OneToOneField(Feedback, on_delete=models.PROTECT, related_name="response")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Response to feedback #{self.feedback_id}"

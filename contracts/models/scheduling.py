from django.conf import settings
from django.db import models
from django.utils import timezone


class JobKind(models.TextChoices):
    CLOSURE_CHECKLIST = "closure_checklist", "Closure checklist"
    FEEDBACK_REQUEST = "feedback_request", "Feedback request"
    FEEDBACK_REMINDER = "feedback_reminder", f"Feedback reminder (day {settings.FEEDBACK_REMINDER_DAY})"
    FEEDBACK_WINDOW_CLOSE = "feedback_window_close", f"Feedback window closes (day {settings.FEEDBACK_WINDOW_DAYS})"
    NOTICE_ELAPSE = "notice_elapse", "Notice period ends the contract"
    MILESTONE_AUTO_RELEASE = (
        "milestone_auto_release",
        f"Unreviewed work released ({settings.MILESTONE_AUTO_RELEASE_DAYS} days)",
    )
    REFUND_REQUEST_AUTO_APPROVE = (
        "refund_request_auto_approve",
        f"Unanswered refund request approved ({settings.REFUND_REQUEST_RESPONSE_DAYS} days)",
    )
    END_PROPOSAL_EXPIRY = "end_proposal_expiry", f"End proposal expires ({settings.END_PROPOSAL_EXPIRY_DAYS} days)"
    RATE_CHANGE_EXPIRY = (
        "rate_change_expiry",
        f"Proposed rate lapses ({settings.RATE_CHANGE_EXPIRY_DAYS} days)",
    )
    OFFER_EXPIRY = "offer_expiry", f"Unanswered offer expires ({settings.OFFER_EXPIRY_DAYS} days)"
    WEEKLY_INVOICE = (
        "weekly_invoice",
        f"Hourly week invoiced (Monday {settings.HOURLY_WEEK_INVOICE_HOUR_UTC:02d}:00 UTC)",
    )


class JobState(models.TextChoices):
    PENDING = "pending", "Waiting for its due time"
    QUEUED = "queued", "Sent to a worker"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped: no longer applies"
    FAILED = "failed", "Failed: needs a look"


class ScheduledJob(models.Model):
    """Work the portal owes at a due time: the source of truth for every reminder and
    deadline, written in the transaction of the change that causes it.

    The unique ``key`` (one per contract, recipient and kind, or per deadline) makes
    scheduling idempotent and lets a job's effects happen once however often a
    worker receives it. Celery only carries job ids; a beat sweep hands due rows to
    workers and hands them out again if a worker died holding them.
    """

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=40, choices=JobKind.choices)
    contract = models.ForeignKey(
        "contracts.Contract",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="scheduled_jobs",
        help_text="Empty only for an offer's expiry: an offer is not a contract yet.",
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    subject_id = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Milestone, refund request, rate change or offer id."
    )
    due_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=JobState.choices, default=JobState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    queued_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("due_at", "id")
        indexes = [models.Index(fields=["state", "due_at"], name="job_state_due")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(contract__isnull=False)
                | models.Q(kind=JobKind.OFFER_EXPIRY, subject_id__isnull=False),
                name="job_of_a_contract_or_an_offer",
            )
        ]

    def __str__(self) -> str:
        about = f"contract #{self.contract_id}" if self.contract_id else f"offer #{self.subject_id}"
        return f"{self.get_kind_display()} for {about} due {self.due_at:%Y-%m-%d %H:%M}"


class EmailState(models.TextChoices):
    PENDING = "pending", "To send"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed after retries"


class OutgoingEmail(models.Model):
    """An e-mail the portal decided to send, recorded once under a unique key in the
    transaction of the decision, then delivered by a task after commit.

    Delivery claims the row (pending → sending) before handing the message to the
    mail backend and marks it sent after: a redelivered task finds it claimed or sent
    and does nothing. Only a worker killed between the backend's send and the mark can
    leave a row in ``sending``; the sweep retries such rows after a while, so that
    rare case errs towards one more e-mail rather than none.
    """

    key = models.CharField(max_length=200, unique=True)
    to = models.EmailField()
    subject = models.CharField(max_length=200)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=EmailState.choices, default=EmailState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["state", "claimed_at"], name="email_state_claimed")]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to} ({self.state})"

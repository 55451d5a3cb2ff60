from django.conf import settings
from django.db import models

from .time_zones import validate_time_zone

DISPLAY_NAME_MAX_LENGTH = 60
HEADLINE_MAX_LENGTH = 120


class EmailTopic(models.TextChoices):
    """The kinds of e-mail a person may turn off in their settings: news they can read
    in the portal as well, with nothing to do by a deadline. Every other e-mail (a
    deadline to act on, money moved, a decision about the account, sign-up and password
    links) is always sent; ``contracts.services.mail.EMAIL_TOPICS`` says which e-mail
    belongs to which topic."""

    FEEDBACK = "feedback", "Feedback: the request to leave feedback, its reminder, and when feedback is revealed"


class Profile(models.Model):
    """What a person sets about themselves, one row per user.

    Created the first time there is something to keep (``accounts.profiles``), so
    reading a page never writes one. The time zone is blank until known: first the
    zone the browser reports, then whatever the person chooses in their settings.
    The display name, when set, is how the portal names the person to others
    (``accounts.profiles.display_name``); the headline is shown on their public profile.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text="IANA name, such as Europe/Paris: dates the person types are in it, times are shown in it.",
    )
    display_name = models.CharField(max_length=DISPLAY_NAME_MAX_LENGTH, blank=True)
    headline = models.CharField(max_length=HEADLINE_MAX_LENGTH, blank=True)
    email_feedback = models.BooleanField(
        default=True, help_text="E-mails about feedback (EmailTopic.FEEDBACK); off: only the in-app notification."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Profile of {self.user}"

    def wants_email(self, topic: str) -> bool:
        return getattr(self, f"email_{EmailTopic(topic).value}")

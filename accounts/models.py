from django.conf import settings
from django.db import models

from .time_zones import validate_time_zone


class Profile(models.Model):
    """What a person sets about themselves, one row per user.

    Created the first time there is something to keep (``accounts.profiles``), so
    reading a page never writes one. The time zone is blank until known: first the
    zone the browser reports, then whatever the person chooses in their settings.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text="IANA name, such as Europe/Paris: dates the person types are in it, times are shown in it.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Profile of {self.user}"

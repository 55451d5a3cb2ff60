"""A person's profile: read once per request and kept on the user object, written
only when there is something to store."""

from datetime import UTC, date, tzinfo

from django.db import transaction
from django.utils import timezone

from contracts_portal.errors import DomainError

from .models import DISPLAY_NAME_MAX_LENGTH, HEADLINE_MAX_LENGTH, EmailTopic, Profile
from .time_zones import time_zone_named


def profile_of(user) -> Profile | None:
    """The user's profile, or None if nothing was stored yet. The answer (also "none")
    is cached on the user object, so a request asks the database once."""
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.profile
    except Profile.DoesNotExist:
        return None


def display_name(user) -> str:
    """How the portal names a person to others, in one place (notifications, e-mails,
    the header, their public profile): the display name they chose in their
    settings, else their full name, else their username."""
    profile = profile_of(user) if user is not None else None
    if profile is not None and profile.display_name.strip():
        return profile.display_name.strip()
    return user.get_full_name().strip() or user.get_username()


def headline(user) -> str:
    profile = profile_of(user)
    return profile.headline if profile else ""


def wants_email(user, topic: str) -> bool:
    """Whether the user wants the optional e-mails of ``topic`` (on until turned off)."""
    profile = profile_of(user) if user is not None else None
    return True if profile is None else profile.wants_email(topic)


def stored_time_zone(user) -> tzinfo | None:
    """The zone stored for the user, or None when it is not known yet."""
    profile = profile_of(user)
    return time_zone_named(profile.time_zone) if profile else None


def user_time_zone(user) -> tzinfo:
    """The user's time zone: the stored one, UTC until it is known."""
    return stored_time_zone(user) or UTC


def user_today(user) -> date:
    """Today's date where the user is."""
    return timezone.localdate(timezone.now(), user_time_zone(user))


def _keep_on_user(user, profile: Profile) -> Profile:
    user.profile = profile
    return profile


def profile_time_zone_set(*, user, time_zone: str) -> Profile:
    """The person chose their time zone (settings page): it replaces any other."""
    if time_zone_named(time_zone) is None:
        raise DomainError("Choose a time zone from the list, such as Europe/Paris.")
    with transaction.atomic():
        profile, _ = Profile.objects.select_for_update().get_or_create(user=user)
        profile.time_zone = time_zone
        profile.save(update_fields=["time_zone", "updated_at"])
    return _keep_on_user(user, profile)


def profile_time_zone_remember(*, user, time_zone: str) -> tzinfo | None:
    """Store the zone the browser reports as the user's first time zone, only if none is
    stored yet: a zone stored meanwhile (by another request, or chosen in the settings)
    wins. Returns the zone now stored, or None if ``time_zone`` is not a zone."""
    if time_zone_named(time_zone) is None:
        return stored_time_zone(user)
    with transaction.atomic():
        profile, created = Profile.objects.get_or_create(user=user, defaults={"time_zone": time_zone})
        if not created and not profile.time_zone:
            if Profile.objects.filter(pk=profile.pk, time_zone="").update(
                time_zone=time_zone, updated_at=timezone.now()
            ):
                profile.time_zone = time_zone
            else:
                profile.refresh_from_db(fields=["time_zone"])
    _keep_on_user(user, profile)
    return time_zone_named(profile.time_zone)


def public_line(value: str, *, label: str, max_length: int) -> str:
    """``value`` as one line shown to others: spaces collapsed, no control characters."""
    text = " ".join(str(value).split())
    if len(text) > max_length:
        raise DomainError(f"Keep your {label} to {max_length} characters.")
    if any(ord(character) < 32 for character in str(value) if character not in "\t\n\r"):
        raise DomainError(f"Your {label} can hold only printable characters.")
    return text


def profile_public_set(*, user, display_name: str, headline: str) -> Profile:
    """The person set how they are named to others and the headline of their public
    profile; blank clears either (their full name or username is shown instead)."""
    name = public_line(display_name, label="display name", max_length=DISPLAY_NAME_MAX_LENGTH)
    line = public_line(headline, label="headline", max_length=HEADLINE_MAX_LENGTH)
    with transaction.atomic():
        profile, _ = Profile.objects.select_for_update().get_or_create(user=user)
        profile.display_name, profile.headline = name, line
        profile.save(update_fields=["display_name", "headline", "updated_at"])
    return _keep_on_user(user, profile)


def profile_email_preferences_set(*, user, topics: dict[str, bool]) -> Profile:
    """The person chose which optional e-mails they get: ``topics`` maps every
    ``EmailTopic`` to on or off."""
    if set(topics) != set(EmailTopic.values) or not all(isinstance(on, bool) for on in topics.values()):
        raise DomainError("Choose for each kind of e-mail whether you want it.")
    fields = [f"email_{topic}" for topic in EmailTopic.values]
    with transaction.atomic():
        profile, _ = Profile.objects.select_for_update().get_or_create(user=user)
        for topic, on in topics.items():
            setattr(profile, f"email_{topic}", on)
        profile.save(update_fields=[*fields, "updated_at"])
    return _keep_on_user(user, profile)

"""A person's profile: read once per request and kept on the user object, written
only when there is something to store."""

from datetime import UTC, date, tzinfo

from django.db import transaction
from django.utils import timezone

from contracts_portal.errors import DomainError

from .models import Profile
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

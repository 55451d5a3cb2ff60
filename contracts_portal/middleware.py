from django.utils import timezone

from accounts.profiles import profile_time_zone_remember, stored_time_zone
from accounts.time_zones import time_zone_named

TIMEZONE_COOKIE = "tz"


class UserTimezoneMiddleware:
    """Show times in the person's time zone.

    A signed-in person's zone is the one stored in their profile (read once per request
    and kept on ``request.user``). Until one is stored, the zone the browser reports in
    the ``tz`` cookie (static/js/portal.js) is stored as their first, once; afterwards
    the stored zone wins over the cookie, and only the settings page changes it.
    Anonymous visitors get the cookie's zone; without a valid one, times stay UTC.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = self._zone(request)
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    @staticmethod
    def _zone(request):
        browser_zone = time_zone_named(request.COOKIES.get(TIMEZONE_COOKIE, ""))
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return browser_zone
        stored = stored_time_zone(user)
        if stored is None and browser_zone is not None:
            stored = profile_time_zone_remember(user=user, time_zone=browser_zone.key)
        return stored or browser_zone

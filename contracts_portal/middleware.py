import zoneinfo

from django.utils import timezone

TIMEZONE_COOKIE = "tz"


class UserTimezoneMiddleware:
    """Show dates in the user's time zone: the browser reports it in a cookie
    (static/js/portal.js); without it, or with a name we do not know, dates stay UTC."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = request.COOKIES.get(TIMEZONE_COOKIE, "")
        try:
            timezone.activate(zoneinfo.ZoneInfo(name)) if name else timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        return self.get_response(request)

from django.conf import settings

from contracts_portal.settings import policy as policy_module

from .models import Notification

POLICY_NAMES = tuple(name for name in vars(policy_module) if name.isupper())


def policy(request) -> dict:
    """``policy``: every number of ``contracts_portal/settings/policy.py`` for templates,
    as currently set (``{{ policy.REFUND_WINDOW_DAYS }}``), so no page writes one itself."""
    return {"policy": {name: getattr(settings, name) for name in POLICY_NAMES}}


def notifications(request) -> dict:
    """The signed-in user's unread notification count for the header (one query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": Notification.objects.filter(user=user, read_at__isnull=True).count()}

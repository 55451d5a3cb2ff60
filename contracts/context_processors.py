from .models import Notification


def notifications(request) -> dict:
    """The signed-in user's unread notification count for the header (one query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": Notification.objects.filter(user=user, read_at__isnull=True).count()}

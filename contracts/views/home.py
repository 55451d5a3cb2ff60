from django.conf import settings
from django.shortcuts import render

from ..demo import DEMO_PASSWORD, DEMO_USERS
from ..selectors import portal_overview


def home(request):
    """The front page: what the portal is and, in demo mode only (PORTAL_DEMO_MODE), the
    demo accounts and their shared password: never published on a real deployment."""
    context = {"overview": portal_overview(), "demo_mode": settings.PORTAL_DEMO_MODE}
    if settings.PORTAL_DEMO_MODE:
        context.update(demo_users=DEMO_USERS, demo_password=DEMO_PASSWORD)
    return render(request, "contracts/home.html", context)

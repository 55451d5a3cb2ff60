from django.shortcuts import render

from ..demo import DEMO_PASSWORD, DEMO_USERS
from ..selectors import portal_overview


def home(request):
    """The front page: what the portal is, and the demo accounts to sign in with."""
    return render(
        request,
        "contracts/home.html",
        {"demo_users": DEMO_USERS, "demo_password": DEMO_PASSWORD, "overview": portal_overview()},
    )

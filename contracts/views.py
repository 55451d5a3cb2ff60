from django.shortcuts import render

from .demo import DEMO_PASSWORD, DEMO_USERS
from .selectors import contracts_for, demo_overview


def home(request):
    """The front page: what the portal is, the signed-in user's contracts, and the
    demo accounts to sign in with."""
    user = request.user
    return render(
        request,
        "contracts/home.html",
        {
            "demo_users": DEMO_USERS,
            "demo_password": DEMO_PASSWORD,
            "overview": demo_overview(),
            "my_contracts": contracts_for(user)[:50] if user.is_authenticated else None,
        },
    )

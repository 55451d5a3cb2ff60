from axes.helpers import get_client_username
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import LoginView, LogoutView
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from .. import throttling
from ..forms.accounts import SignInForm
from ..throttling import Scope


class SignInView(LoginView):
    """Sign in; an account closed by the platform is told the rule it broke."""

    authentication_form = SignInForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class SignOutView(LogoutView):
    """Sign out (POST only) and go to LOGOUT_REDIRECT_URL."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You have signed out.")
        return response


# What a locked-out person is told, by the limit that refuses them (contracts.throttling).
LOCKOUT_REASONS = {
    Scope.USERNAME: (
        "Too many failed sign-ins to this account: signing in to it from your network is blocked for a while, "
        "even with the right password, to protect it from password guessing."
    ),
    Scope.ADDRESS: (
        "Too many failed sign-ins from your network: signing in to any account from it is blocked for a while, "
        "even with the right password, to protect accounts from password guessing."
    ),
}


def locked_out(request, original_response=None, credentials=None):
    """The sign-in page for someone locked out after too many failed sign-ins (django-axes
    AXES_LOCKOUT_CALLABLE): which limit was reached (this username from this address, or
    this address for every username) and when they can try again, in plain words, with
    status 429. The password is not checked while the lockout lasts."""
    username = get_client_username(request, credentials) or ""
    refusal = throttling.lockout(request, credentials)
    if refusal.ends_at is None:
        wait = "Ask an admin to lift the block."
    else:
        minutes = max(1, -(-int((refusal.ends_at - timezone.now()).total_seconds()) // 60))
        local = timezone.localtime(refusal.ends_at)
        wait = f"You can try again at {local:%H:%M} {local.tzname()}, in {minutes} minute{'s' if minutes != 1 else ''}."
    lockout = f"{LOCKOUT_REASONS[refusal.scope]} {wait}"
    next_url = request.POST.get(REDIRECT_FIELD_NAME, "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    form = SignInForm(request, initial={"username": username[:150]})
    return render(
        request,
        "registration/login.html",
        {"form": form, "lockout": lockout, "next": next_url},
        status=429,
    )

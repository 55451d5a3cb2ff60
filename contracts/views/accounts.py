from datetime import datetime

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import LoginView, LogoutView
from django.db.models import Max
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from ..forms.accounts import SignInForm


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


def lockout_ends_at(request, credentials=None) -> datetime | None:
    """When the lockout of this sign-in (username and address) ends: the cool-off
    counted from the last failed attempt that still counts, or None if unknown."""
    cool_off = get_cool_off(request)
    if cool_off is None:
        return None
    handler = AxesProxyHandler.get_implementation()
    last = None
    for attempts in handler.get_user_attempts(request, credentials):
        latest = attempts.aggregate(latest=Max("attempt_time"))["latest"]
        if latest is not None and (last is None or latest > last):
            last = latest
    return (last or timezone.now()) + cool_off


def locked_out(request, original_response=None, credentials=None):
    """The sign-in page for someone locked out after too many failed sign-ins (django-axes
    AXES_LOCKOUT_CALLABLE): what happened and when they can try again, in plain words,
    with status 429. The password is not checked while the lockout lasts."""
    username = get_client_username(request, credentials) or ""
    ends_at = lockout_ends_at(request, credentials)
    if ends_at is None:
        wait = "Ask an admin to unlock your account."
    else:
        minutes = max(1, -(-int((ends_at - timezone.now()).total_seconds()) // 60))
        local = timezone.localtime(ends_at)
        wait = f"You can try again at {local:%H:%M} {local.tzname()}, in {minutes} minute{'s' if minutes != 1 else ''}."
    lockout = (
        "Too many failed sign-ins: signing in to this account from your network is blocked for a while, "
        "even with the right password, to protect it from password guessing. " + wait
    )
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

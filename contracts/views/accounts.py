"""The pages of signing in and up that the portal adds to django-allauth's: the page
of someone locked out after too many failed sign-ins (django-axes), and the page of
someone who sent an account form too often (allauth's rate limits)."""

import time
from datetime import UTC, datetime

from allauth.account import app_settings as account_settings
from allauth.core.internal.ratelimit import get_cache_key, get_rates
from allauth.utils import get_form_class
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.cache import cache
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from .. import throttling
from ..forms.accounts import PasswordResetRequestForm, SignInForm, SignUpForm
from ..throttling import Scope


def try_again(ends_at: datetime | None, *, otherwise: str = "Ask an admin to lift the block.") -> str:
    """When a refused person can try again, in their time zone and in minutes from now."""
    if ends_at is None:
        return otherwise
    minutes = max(1, -(-int((ends_at - timezone.now()).total_seconds()) // 60))
    local = timezone.localtime(ends_at)
    return f"You can try again at {local:%H:%M} {local.tzname()}, in {minutes} minute{'s' if minutes != 1 else ''}."


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
    refusal = throttling.lockout(request, credentials)
    lockout = f"{LOCKOUT_REASONS[refusal.scope]} {try_again(refusal.ends_at)}"
    next_url = request.POST.get(REDIRECT_FIELD_NAME, "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    # What the person typed, never the account it names: an e-mail address typed
    # must not show the username it belongs to.
    typed = (request.POST.get("login") or request.POST.get("username") or "") if request.method == "POST" else ""
    form = SignInForm(request=request, initial={"login": str(typed)[:254]})
    return render(
        request,
        "account/login.html",
        {"form": form, "lockout": lockout, "redirect_field_value": next_url},
        status=429,
    )


# What someone who sent an account form too often is told, by the URL they posted to:
# the limit reached for each kind of limit (allauth's rate: per IP address, per
# e-mail address typed, per account), and the page shown with it.
THROTTLED = {
    "account_signup": {
        "ip": "Too many sign-ups from your network: signing up from it is paused for a while, "
        "so that nobody makes accounts in bulk.",
    },
    "account_reset_password": {
        "ip": "Too many password reset requests from your network: asking for more is paused for a while.",
        "key": "Too many password reset e-mails asked for this address: asking for more is paused for a while. "
        "If an account uses it, the e-mails already sent still work.",
    },
}
THROTTLED_ACTIONS = {
    "account_signup": "signup",
    "account_reset_password": "reset_password",  # nosec B105: URL and action names
    "account_reset_password_from_key": "reset_password_from_key",  # nosec B105
    "account_change_password": "change_password",  # nosec B105
    "account_set_password": "change_password",  # nosec B105
    "account_email": "manage_email",
    "account_reauthenticate": "reauthenticate",
}
GENERIC_THROTTLE = "Too many requests in a short time: this is paused for a while, to protect your account."


def _throttle(request, action: str, key: str) -> tuple[str, datetime | None]:
    """Which of the action's limits the request reached (ip, key or user) and when it
    lifts: when the oldest request still counted against it is as old as its window."""
    reached: list[tuple[float, str]] = []
    now = time.time()
    for rate in get_rates(app="allauth.account", action=action):
        if (rate.per == "key" and not key) or (rate.per == "user" and not request.user.is_authenticated):
            continue
        cache_key = get_cache_key(request, app="allauth.account", action=action, rate=rate, key=key)
        counted = sorted((moment for moment in cache.get(cache_key, []) if moment > now - rate.duration), reverse=True)
        if len(counted) >= rate.amount:
            reached.append((counted[rate.amount - 1] + rate.duration, rate.per))
    if not reached:
        return "ip", None
    lifts_at, per = max(reached)
    return per, datetime.fromtimestamp(lifts_at, tz=UTC)


def too_many_requests(request, exception=None):
    """The page of someone who sent an account form too often (allauth's rate limits,
    ``handler429``): which limit was reached and when they can try again, in plain
    words, with the form ready for later and status 429. The same whether or not an
    e-mail address typed belongs to an account."""
    url_name = request.resolver_match.url_name if request.resolver_match else ""
    action = THROTTLED_ACTIONS.get(url_name, "")
    email = request.POST.get("email", "").strip().lower() if request.method == "POST" else ""
    per, lifts_at = _throttle(request, action, email) if action else ("ip", None)
    reason = THROTTLED.get(url_name, {}).get(per, GENERIC_THROTTLE)
    throttled = f"{reason} {try_again(lifts_at, otherwise='Try again in a few minutes.')}"
    if url_name == "account_signup":
        form = get_form_class(account_settings.FORMS, "signup", SignUpForm)()
        return render(request, "account/signup.html", {"form": form, "throttled": throttled}, status=429)
    if url_name == "account_reset_password":
        form = get_form_class(account_settings.FORMS, "reset_password", PasswordResetRequestForm)(
            initial={"email": email}
        )
        return render(request, "account/password_reset.html", {"form": form, "throttled": throttled}, status=429)
    return render(request, "429.html", {"throttled": throttled}, status=429)

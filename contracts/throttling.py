"""Sign-in throttling: two limits on failed sign-ins, kept by django-axes.

- **Per username and address**: ``SIGN_IN_FAILURE_LIMIT_PER_USERNAME`` failures to one
  username from one IP address refuse that username from that address.
- **Per address**: ``SIGN_IN_FAILURE_LIMIT_PER_ADDRESS`` failures from one address,
  whatever the usernames, refuse every sign-in from it, so one password tried over many
  usernames (password spraying) is slowed too. It is higher, so that an office behind
  one NAT address is not locked out by a few people's typos.

A failure counts for ``AXES_COOLOFF_TIME``; while locked out the password is not checked.

django-axes counts failures per combination of ``AXES_LOCKOUT_PARAMETERS`` but compares
the largest count with one ``AXES_FAILURE_LIMIT`` (its maintainers point to a custom
handler for different limits: jazzband/django-axes#661). With the combinations
[username and address] and [address], the largest count is always the address's, which
includes the pair's. So ``failure_limit`` hands axes the limit that makes "largest count
>= limit" mean "the pair reached its limit, or the address reached its own": the
per-username limit once the pair has reached it, the address limit otherwise.

axes also resets every combination of a request on a successful sign-in, which would let
anyone with an account clear the address's count (and other usernames' counts from that
address) by signing in between guesses; ``SignInAttemptsHandler`` resets only the
signed-in username's failures from that address.

People sign in by username or by e-mail address: both count against the account's
username (``sign_in_username``), so switching between them gains no tries.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import QuerySet, Sum
from django.http import HttpRequest
from django.utils import timezone

from accounts.verification import account_with_email


def sign_in_username(request: HttpRequest, credentials: dict | None = None) -> str:
    """The username a sign-in attempt counts against (``AXES_USERNAME_CALLABLE``): the
    one typed, or the username of the account whose e-mail address was typed. An
    address no account uses counts as typed, like an unknown username, so the count
    never tells whether an address is registered."""
    typed = ""
    if credentials:
        typed = credentials.get("username") or credentials.get("email") or ""
    if not typed and request is not None:
        data = getattr(request, "data", request.POST)
        typed = data.get("login") or data.get("username") or ""
    typed = str(typed).strip()
    if "@" not in typed:
        return typed
    account = account_with_email(typed)
    return account.get_username() if account is not None else typed.lower()


class Scope(StrEnum):
    USERNAME = "username"  # one username from one address
    ADDRESS = "address"  # every username from one address


def limit_of(scope: Scope) -> int:
    if scope is Scope.ADDRESS:
        return settings.SIGN_IN_FAILURE_LIMIT_PER_ADDRESS
    return settings.SIGN_IN_FAILURE_LIMIT_PER_USERNAME


def _counted_attempts(request: HttpRequest, credentials: dict | None, scope: Scope) -> QuerySet[AccessAttempt]:
    """The axes records whose failures still count against ``scope``'s limit."""
    attempts = AccessAttempt.objects.filter(ip_address=request.axes_ip_address)
    if scope is Scope.USERNAME:
        attempts = attempts.filter(username=get_client_username(request, credentials))
    if get_cool_off(request) is not None:
        attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
    return attempts


def failure_count(request: HttpRequest, credentials: dict | None, scope: Scope) -> int:
    counted = _counted_attempts(request, credentials, scope)
    return counted.aggregate(total=Sum("failures_since_start"))["total"] or 0


def failure_limit(request: HttpRequest, credentials: dict | None = None) -> int:
    """AXES_FAILURE_LIMIT: the limit axes compares with the address's failures (see the
    module docstring), so a request is refused when either limit is reached."""
    per_username = limit_of(Scope.USERNAME)
    if failure_count(request, credentials, Scope.USERNAME) >= per_username:
        return per_username
    return limit_of(Scope.ADDRESS)


@dataclass(frozen=True)
class Lockout:
    scope: Scope
    ends_at: datetime | None  # None: no cool-off, only an admin can lift it


def _failure_reaching_limit(request: HttpRequest, credentials: dict | None, scope: Scope) -> datetime | None:
    """The time of the failure that, counting back from the newest, brings the count to
    ``scope``'s limit; None if the counted failures stay below it. The lock lifts once
    that failure is older than the cool-off: the newer ones alone stay below the limit."""
    limit = limit_of(scope)
    total = 0
    attempts = _counted_attempts(request, credentials, scope).order_by("-attempt_time")
    for attempt_time, failures in attempts.values_list("attempt_time", "failures_since_start"):
        total += failures
        if total >= limit:
            return attempt_time
    return None


def lockout(request: HttpRequest, credentials: dict | None = None) -> Lockout:
    """Which limit refuses this sign-in and when the person can try again. When both
    hold, the scope told is the address (the wider block) and the time is the later end."""
    cool_off = get_cool_off(request)
    reached = {
        scope: moment
        for scope in (Scope.ADDRESS, Scope.USERNAME)
        if (moment := _failure_reaching_limit(request, credentials, scope)) is not None
    }
    scope = Scope.ADDRESS if Scope.ADDRESS in reached else Scope.USERNAME
    if cool_off is None:
        return Lockout(scope, None)
    if not reached:
        # axes refused the sign-in a moment ago: a cool-off from now is the latest it can end.
        return Lockout(scope, timezone.now() + cool_off)
    return Lockout(scope, max(reached.values()) + cool_off)


class SignInAttemptsHandler(AxesDatabaseHandler):
    """axes' database handler, except that a successful sign-in clears only the failures
    of its own username from its own address, never the address's other failures."""

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        count, _ = AccessAttempt.objects.filter(
            username=get_client_username(request, credentials), ip_address=request.axes_ip_address
        ).delete()
        return count

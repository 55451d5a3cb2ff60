"""Bad input (issue 8, "Bad input"): every form and POST endpoint of the portal fuzzed
with generated input: wrong types, huge numbers, negative and zero amounts, more
than two decimal places, unicode, NUL characters, missing fields, repeated fields,
other encodings, and ids of other people's objects.

Each generated request is bad by construction (see ``fuzz_inputs``), and the portal
must: answer without a server error, refuse it clearly (a 4xx status; or, for the
forms on the contract page that post and redirect back, a 302 with an error message;
or, for sign-in and the other account forms of django-allauth, the form's page again
with its error and nobody signed in), and store nothing: every row of the accounts,
contracts and billing tables, and every e-mail address of an account, is as it was.

``STRESS=long`` runs more than three times as many examples. With ``RELIABILITY_REPORT_DIR`` set,
the counts are written to ``fuzz.json`` for docs/reliability.md.
"""

import json
import os
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django import forms
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import iri_to_uri
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.time_zones import known_time_zones
from billing.selectors import escrow_held_cents, refunded_cents
from contracts.models import Notification, NotificationKind
from contracts.services import MilestoneChoice
from tests.factories import PASSWORD, UserFactory

from . import fuzz_inputs as bad
from .fuzz_world import World, build_world, changed_tables, fingerprint

pytestmark = pytest.mark.django_db

LONG = os.environ.get("STRESS") == "long"
EXAMPLES = 300 if LONG else 90


def fuzz_settings(examples: int = EXAMPLES):
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=not LONG,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


# What was sent and what came back, for the report.


@dataclass
class Tally:
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    server_errors: int = 0
    stored: int = 0


TALLIES: dict[str, Tally] = {}


def record(endpoint: str, response, stored: bool) -> None:
    tally = TALLIES.setdefault(endpoint, Tally())
    tally.requests += 1
    tally.statuses[response.status_code] += 1
    tally.server_errors += response.status_code >= 500
    tally.stored += stored


@pytest.fixture(scope="module", autouse=True)
def write_report():
    yield
    report_dir = os.environ.get("RELIABILITY_REPORT_DIR")
    if not report_dir or not TALLIES:
        return
    total = sum(tally.requests for tally in TALLIES.values())
    statuses = Counter()
    for tally in TALLIES.values():
        statuses.update(tally.statuses)
    rows = [[f"{name}: requests (statuses)", _requests_cell(tally)] for name, tally in sorted(TALLIES.items())]
    rows += [
        ["Fuzzed requests, total", str(total)],
        ["Refused with 4xx", str(sum(count for status, count in statuses.items() if 400 <= status < 500))],
        ["Refused with 302 and an error message", str(statuses[302])],
        ["Sign-in or account form's page again with its error (200)", str(statuses[200])],
        ["Server errors (5xx)", str(sum(tally.server_errors for tally in TALLIES.values()))],
        ["Requests that stored anything", str(sum(tally.stored for tally in TALLIES.values()))],
    ]
    Path(report_dir).mkdir(parents=True, exist_ok=True)
    Path(report_dir, "fuzz.json").write_text(
        json.dumps(
            {
                "title": "Bad input (Hypothesis-generated requests)",
                "rows": rows,
                "notes": f"{'STRESS=long' if LONG else 'CI'} run, {EXAMPLES} examples per form. Every request is bad "
                "by construction (wrong types, huge, negative, zero and over-precise amounts, unicode, NUL, missing "
                "and repeated fields, JSON bodies, other people's ids); each must be refused and leave every row of "
                "the contracts and billing tables unchanged.",
            },
            indent=2,
        )
    )


def _requests_cell(tally: Tally) -> str:
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(tally.statuses.items()))
    return f"{tally.requests} ({statuses})"


# Sending.


def send(browser: Client, path: str, data: dict, encoding: str = "multipart"):
    if encoding == "urlencoded":
        return browser.post(path, urlencode(data, doseq=True), content_type="application/x-www-form-urlencoded")
    if encoding == "json":
        return browser.post(path, json.dumps(data), content_type="application/json")
    return browser.post(path, data)


def error_messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request) if m.level >= message_levels.ERROR]


class Rows:
    """The fingerprint of the portal's tables, taken once and again after each request:
    a request that stored nothing leaves it as it was, so it is the next one's "before"."""

    def __init__(self):
        self.current = fingerprint()

    def changed(self) -> list[str]:
        before, self.current = self.current, fingerprint()
        return changed_tables(before, self.current)


def check_refused(endpoint: str, response, rows: Rows, *, redirect_with_error=False, page_again=False, user=None):
    """The request was refused clearly, without a server error, and stored nothing; a
    form's page shown again leaves whoever sent it (``user``, or nobody) signed in as before."""
    changed = rows.changed()
    record(endpoint, response, bool(changed))
    status = response.status_code
    assert status < 500, f"{endpoint}: server error {status}\n" + "".join(
        traceback.format_exception(*response.exc_info) if getattr(response, "exc_info", None) else []
    )
    assert not changed, f"{endpoint}: bad input stored rows in {changed} (status {status})"
    if 400 <= status < 500:
        return
    if redirect_with_error and status == 302:
        assert error_messages(response), f"{endpoint}: redirected without an error message"
        return
    if page_again and status == 200:
        signed_in_as = response.wsgi_request.session.get(SESSION_KEY)
        if user is None:
            assert signed_in_as is None, f"{endpoint}: signed in with bad credentials"
        else:
            assert signed_in_as == str(user.pk), f"{endpoint}: no longer signed in as {user}"
        assert b'role="alert"' in response.content, f"{endpoint}: the page shows no error"
        return
    raise AssertionError(f"{endpoint}: bad input answered {status}, not refused")


# The forms: what a valid submission is, and what is wrong for each field.


@dataclass
class Form:
    role: str
    path: Callable[[World], str]
    valid: Callable[[World], dict]
    bad: dict  # field -> strategy of values wrong for it (or a callable World -> strategy)
    required: frozenset = frozenset()  # fields whose absence alone is wrong
    redirect_with_error: bool = False  # errors come back as a 302 with an error message
    page_again: bool = False  # allauth's forms answer 200 with their page and its errors
    path_follows_link: bool = False  # ``path(world, browser)``: reached by following a link first
    pairs: tuple = ()  # strategies of dicts that set fields wrong together (each fine alone)


def today() -> str:
    return timezone.localdate().isoformat()


def diary_form(path) -> Form:
    return Form(
        role="freelancer",
        path=path,
        valid=lambda w: {"work_date": today(), "hours": "1", "minutes": "30", "memo": "Wrote the tests"},
        bad={
            "work_date": bad.bad_date,
            "hours": bad.bad_integer(low=0, high=24),
            "minutes": bad.bad_integer(low=0, high=59),
            "memo": bad.bad_required_text(500),
        },
        required=frozenset({"work_date", "hours", "minutes", "memo"}),
        pairs=(st.sampled_from([{"hours": "0", "minutes": "0"}, {"hours": "24", "minutes": "1"}]),),
    )


def end_form_valid(w: World) -> dict:
    data = {"reason": "completed", "note": "", "plan_transition": "end", "state": "active"}
    for milestone in (w.milestone, w.submitted):
        data[f"milestone_{milestone.pk}_choice"] = MilestoneChoice.PAY_IN_FULL.value
        data[f"milestone_{milestone.pk}_amount"] = ""
    data["message_to_freelancer"] = ""
    return data


def end_form_bad(w: World) -> dict:
    fields = {
        "reason": bad.not_in(["completed", "not_responsive", "unsuccessful", "other"]),
        "note": bad.bad_optional_text(2000),
        "plan_transition": bad.not_in(["end"]),
        "state": bad.not_in(["active"]),
        "message_to_freelancer": bad.bad_optional_text(2000),
    }
    for milestone in (w.milestone, w.submitted):
        fields[f"milestone_{milestone.pk}_choice"] = bad.not_in([choice.value for choice in MilestoneChoice])
    return fields


def end_form_pairs(w: World) -> tuple:
    """Pay part of a milestone with a wrong amount (or more than is in escrow)."""
    return tuple(
        bad.bad_amount(more_than_cents=milestone.amount_cents).map(
            lambda amount, pk=milestone.pk: {f"milestone_{pk}_choice": "part", f"milestone_{pk}_amount": amount}
        )
        for milestone in (w.milestone, w.submitted)
    )


def refund_prefix(w: World) -> str:
    return f"p{w.payment.pk}"


def other_figure(cents: int):
    """Anything a confirmation may carry as a previewed figure other than ``cents``:
    what a stale or forged page sends (another number, or not a number at all)."""

    def differs(value) -> bool:
        try:
            return forms.IntegerField(required=False).clean(value) != cents
        except forms.ValidationError:
            return True

    return bad.not_in([cents]).filter(differs)


# Accounts.
NEW_PASSWORD = "a-long-Unusual-passphrase-42"
BAD_USERNAMES = st.sampled_from(
    ["felix", "FELIX", "ab", "has space", "felix@example.com", "-dash", "dot.", "admin", "ü", "x" * 31]
)
BAD_EMAILS = st.one_of(
    bad.blank(),
    bad.with_nul(),
    st.sampled_from(["felix", "felix@", "@example.com", "felix@@example.com", "felix example.com", "a@b@c.d"]),
    bad.too_long(254).map(lambda text: f"{text}@example.com"),
)
# Django's password validators refuse these: too short, too common, all digits.
WEAK_PASSWORDS = st.one_of(bad.blank(), st.sampled_from(["short", "password", "password123", "12345678901", "qwerty"]))
CONTROL_TEXT = st.sampled_from(["bell\x07", "esc\x1b[31m", "unit\x1fseparator", "back\x08space"])


def reset_form_path(world, browser) -> str:
    """Felix's password reset link followed in ``browser``, as the e-mail's reader does:
    the page where the new password is typed (the link's key kept in the session)."""
    felix = type(world.people["freelancer"]).objects.get(username="felix")
    key_url = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(felix), "key": default_token_generator.make_token(felix)},
    )
    response = browser.get(key_url)
    assert response.status_code == 302, response.status_code
    return response.url


# Offers.
OFFER_ROW = "milestones-0"


def offer_valid(kind: str):
    """The "Send an offer" form Clara sends Felix: fixed price with one milestone, or hourly."""

    def valid(w: World) -> dict:
        data = {
            "to": "felix",
            "title": "Landing page",
            "description": "One page, responsive.",
            "kind": kind,
            "notice_days": "7",
            "start_date": today(),
            "milestones-TOTAL_FORMS": "1",
            "milestones-INITIAL_FORMS": "0",
        }
        if kind == "fixed":
            return {**data, f"{OFFER_ROW}-title": "Page", f"{OFFER_ROW}-amount": "250", f"{OFFER_ROW}-due_date": ""}
        return {**data, "hourly_rate": "45.00", "weekly_hour_limit": "20", "manual_time_allowed": "on"}

    return valid


# Someone an offer cannot go to: nobody, Clara herself, or not an address at all.
BAD_RECIPIENTS = st.one_of(
    bad.blank(),
    bad.with_nul(),
    bad.too_long(254),
    st.sampled_from(["clara", "CLARA", "clara@example.com", "no-such-person", "zoe@", "@example.org", "a@b", "x@@y.z"]),
)
# A due date is optional, but one before the start date, or not a date, is wrong.
BAD_DUE_DATES = bad.bad_date.filter(lambda value: str(value).strip() != "")
OFFER_COMMON_BAD = {
    "to": BAD_RECIPIENTS,
    "title": bad.bad_required_text(200),
    "description": bad.bad_required_text(10_000),
    "kind": bad.not_in(["hourly", "fixed"]),
    "notice_days": bad.bad_integer(low=0, high=django_settings.MAX_NOTICE_DAYS),
    "start_date": bad.bad_date,  # before today, more than OFFER_HORIZON_DAYS ahead, or not a date
}
OFFER_COMMON_REQUIRED = {"to", "title", "description", "kind", "notice_days", "start_date"}


FORMS: dict[str, Form] = {
    "diary: record time": diary_form(lambda w: reverse("diary", args=[w.hourly.pk])),
    "diary: edit an entry": diary_form(lambda w: reverse("diary_entry_edit", args=[w.hourly.pk, w.entry.pk])),
    "end contract (client, fixed-price, per-milestone choices)": Form(
        role="client",
        path=lambda w: reverse("contract_end", args=[w.fixed.pk]),
        valid=end_form_valid,
        bad=end_form_bad,
        required=frozenset({"reason", "plan_transition", "state"}),
        pairs=end_form_pairs,
    ),
    "end contract (freelancer, hourly)": Form(
        role="freelancer",
        path=lambda w: reverse("contract_end", args=[w.hourly.pk]),
        valid=lambda w: {"reason": "completed", "note": "", "plan_transition": "end", "state": "active"},
        bad={
            "reason": bad.not_in(["completed", "not_responsive", "unsuccessful", "other"]),
            "note": bad.bad_optional_text(2000),
            "plan_transition": bad.not_in(["end"]),
            "state": bad.not_in(["active"]),
        },
        required=frozenset({"reason", "plan_transition", "state"}),
    ),
    # A payment is confirmed with the figures of its preview: a confirmation whose
    # amount or escrow is not the previewed one is refused like a wrong amount. A blank
    # amount is bad too: it never means "all of the escrow".
    "milestone: release (confirmation)": Form(
        role="client",
        path=lambda w: reverse("milestone_action", args=[w.milestone.pk, "release"]),
        valid=lambda w: {
            "amount": "50.00",
            "idempotency_key": uuid.uuid4().hex,
            "previewed_amount": "5000",
            "held_before": str(escrow_held_cents(w.milestone)),
            "confirm": "1",
        },
        bad=lambda w: {
            "amount": bad.bad_amount(more_than_cents=w.milestone.amount_cents),
            "idempotency_key": bad.bad_key,
            "previewed_amount": other_figure(5000),
            "held_before": other_figure(escrow_held_cents(w.milestone)),
        },
        required=frozenset({"amount", "idempotency_key", "previewed_amount", "held_before"}),
    ),
    "milestone: submit work": Form(
        role="freelancer",
        path=lambda w: reverse("milestone_action", args=[w.milestone.pk, "submit"]),
        valid=lambda w: {"note": "The drafts are attached."},
        bad={"note": bad.bad_optional_text(2000)},
        redirect_with_error=True,
    ),
    # Terms during the contract.
    "milestone: add (client)": Form(
        role="client",
        path=lambda w: reverse("milestone_add", args=[w.fixed.pk]),
        valid=lambda w: {"title": "Extra drafts", "amount": "50.00", "due_date": ""},
        bad={
            "title": bad.bad_required_text(200),
            "amount": st.one_of(
                bad.bad_amount(more_than_cents=django_settings.MILESTONE_MAXIMUM_CENTS),
                st.sampled_from(["4.99", "0.01", "1"]),
            ),
            "due_date": bad.bad_date.filter(lambda text: text.strip()),  # optional: blank is fine
        },
        required=frozenset({"title", "amount"}),
    ),
    "weekly limit (client)": Form(
        role="client",
        path=lambda w: reverse("weekly_limit_change", args=[w.hourly.pk]),
        valid=lambda w: {"limit": "hours", "hours": "20"},
        bad={
            "limit": bad.not_in(["hours", "none"]),
            "hours": bad.bad_integer(low=1, high=django_settings.MAX_WEEKLY_HOUR_LIMIT),
        },
        required=frozenset({"limit", "hours"}),
        pairs=(st.just({"hours": "40"}),),  # the limit already set for next week
    ),
    "rate: propose (freelancer)": Form(
        role="freelancer",
        path=lambda w: reverse("rate_change", args=[w.hourly.pk]),
        valid=lambda w: {"rate": "65.00", "message": ""},
        bad={
            "rate": st.one_of(bad.bad_amount(more_than_cents=django_settings.MAX_HOURLY_RATE_CENTS), st.just("50.00")),
            "message": bad.bad_optional_text(2000),
        },
        required=frozenset({"rate"}),
    ),
    "rate: decline (client)": Form(
        role="client",
        path=lambda w: reverse("rate_change_action", args=[w.rate_proposal.pk, "decline"]),
        valid=lambda w: {"message": "Not now"},
        bad={"message": bad.bad_optional_text(2000)},
        redirect_with_error=True,
    ),
    "refund request: dispute": Form(
        role="freelancer",
        path=lambda w: reverse("refund_request_action", args=[w.refund_request.pk, "dispute"]),
        valid=lambda w: {"statement": "I delivered the drafts."},
        bad={"statement": bad.bad_required_text(4000)},
        required=frozenset({"statement"}),
        redirect_with_error=True,
    ),
    "feedback": Form(
        role="client",
        path=lambda w: reverse("feedback_form", args=[w.ended_quiet.pk]),
        valid=lambda w: {
            **{
                f"score_{code}": "5"
                for code in ("skills", "quality", "availability", "deadlines", "communication", "cooperation")
            },
            "public_comment": "Great work",
            "private_reason": "completed",
            "private_recommend": "9",
        },
        bad={
            **{
                f"score_{code}": bad.not_in(range(1, 6))
                for code in ("skills", "quality", "availability", "deadlines", "communication", "cooperation")
            },
            "public_comment": bad.bad_optional_text(5000),
            "private_reason": bad.not_in(["completed", "not_responsive", "unsuccessful", "other"]),
            "private_recommend": bad.not_in(range(0, 11)),
        },
        required=frozenset(
            {"private_reason", "private_recommend"}
            | {
                f"score_{code}"
                for code in ("skills", "quality", "availability", "deadlines", "communication", "cooperation")
            }
        ),
    ),
    "feedback: public response": Form(
        role="freelancer",
        path=lambda w: reverse("feedback_respond", args=[w.feedback.pk]),
        valid=lambda w: {"text": "Thank you, Clara."},
        bad={"text": bad.bad_required_text(3000)},
        required=frozenset({"text"}),
        redirect_with_error=True,
    ),
    "offers: send a fixed-price offer": Form(
        role="client",
        path=lambda w: reverse("offer_send"),
        valid=offer_valid("fixed"),
        bad={
            **OFFER_COMMON_BAD,
            f"{OFFER_ROW}-title": bad.bad_required_text(200),
            f"{OFFER_ROW}-amount": st.one_of(
                bad.bad_amount(more_than_cents=django_settings.MILESTONE_MAXIMUM_CENTS),
                st.sampled_from(["4.99", "1", "0.50"]),  # below the minimum milestone
            ),
            f"{OFFER_ROW}-due_date": BAD_DUE_DATES,
        },
        required=frozenset(OFFER_COMMON_REQUIRED | {f"{OFFER_ROW}-title", f"{OFFER_ROW}-amount"}),
    ),
    "offers: send an hourly offer": Form(
        role="client",
        path=lambda w: reverse("offer_send"),
        valid=offer_valid("hourly"),
        bad={
            **OFFER_COMMON_BAD,
            "hourly_rate": bad.bad_amount(more_than_cents=django_settings.MAX_HOURLY_RATE_CENTS),
            "weekly_hour_limit": bad.bad_integer(low=1, high=django_settings.MAX_WEEKLY_HOUR_LIMIT).filter(
                lambda value: str(value).strip() != ""  # empty is "no limit"
            ),
        },
        required=frozenset(OFFER_COMMON_REQUIRED | {"hourly_rate"}),
    ),
    "offers: decline with a reason": Form(
        role="freelancer",
        path=lambda w: reverse("offer_action", args=[w.offer.pk, "decline"]),
        valid=lambda w: {"reason": "I am booked until September."},
        bad={"reason": bad.bad_required_text(2000)},
        required=frozenset({"reason"}),
    ),
    "review: decide a flag": Form(
        role="reviewer",
        path=lambda w: reverse("review_flag", args=[w.flag.pk]),
        valid=lambda w: {"decision": "dismiss", "note": "Not a breach."},
        bad={"decision": bad.not_in(["dismiss", "warn", "suspend"]), "note": bad.bad_required_text(4000)},
        required=frozenset({"decision", "note"}),
    ),
    "review: decide a dispute": Form(
        role="reviewer",
        path=lambda w: reverse("review_dispute", args=[w.disputed.pk]),
        valid=lambda w: {"outcome": "split", "freelancer_share": "10.00", "note": "Half was delivered."},
        bad=lambda w: {
            "outcome": bad.not_in(["client", "split", "freelancer"]),
            "freelancer_share": bad.bad_amount(more_than_cents=w.disputed.amount_cents),
            "note": bad.bad_required_text(4000),
        },
        required=frozenset({"outcome", "note", "freelancer_share"}),
    ),
    "refund a payment (preview)": Form(
        role="freelancer",
        path=lambda w: reverse("refund_payment", args=[w.payment.pk]),
        valid=lambda w: {
            f"{refund_prefix(w)}-amount": "10.00",
            f"{refund_prefix(w)}-reason": "",
            f"{refund_prefix(w)}-idempotency_key": uuid.uuid4().hex,
        },
        bad=lambda w: {
            f"{refund_prefix(w)}-amount": bad.bad_amount(more_than_cents=w.payment.amount_cents),
            f"{refund_prefix(w)}-reason": bad.bad_optional_text(500),
            f"{refund_prefix(w)}-idempotency_key": bad.bad_key,
        },
        required=frozenset({"-amount", "-idempotency_key"}),
    ),
    # A refund is confirmed with the figures of its preview: a confirmation whose
    # amount or "refunded before" is not the previewed one is refused, moving nothing.
    "refund a payment (confirmation)": Form(
        role="freelancer",
        path=lambda w: reverse("refund_payment", args=[w.payment.pk]),
        valid=lambda w: {
            f"{refund_prefix(w)}-amount": "10.00",
            f"{refund_prefix(w)}-reason": "",
            f"{refund_prefix(w)}-idempotency_key": uuid.uuid4().hex,
            f"{refund_prefix(w)}-previewed_amount": "1000",
            f"{refund_prefix(w)}-refunded_before": str(refunded_cents(w.payment)),
            "confirm": "1",
        },
        bad=lambda w: {
            f"{refund_prefix(w)}-amount": bad.bad_amount(more_than_cents=w.payment.amount_cents),
            f"{refund_prefix(w)}-reason": bad.bad_optional_text(500),
            f"{refund_prefix(w)}-idempotency_key": bad.bad_key,
            f"{refund_prefix(w)}-previewed_amount": other_figure(1000),
            f"{refund_prefix(w)}-refunded_before": other_figure(refunded_cents(w.payment)),
        },
        required=frozenset({"-amount", "-idempotency_key", "-previewed_amount", "-refunded_before"}),
    ),
    # The admin's Force end: a missing or bad reason is refused with its sentence, both
    # on the way to the confirmation page and on the confirmation that acts.
    "admin: force end (confirmation page)": Form(
        role="staff",
        path=lambda w: reverse("admin:contracts_contract_changelist"),
        valid=lambda w: {"action": "force_end", "_selected_action": [str(w.hourly.pk)], "reason": "Account closed."},
        bad={"reason": bad.bad_required_text(2000)},
        redirect_with_error=True,
    ),
    "admin: force end (confirmation)": Form(
        role="staff",
        path=lambda w: reverse("admin:contracts_contract_changelist"),
        valid=lambda w: {
            "action": "force_end",
            "_selected_action": [str(w.hourly.pk), str(w.fixed.pk)],
            "reason": "Account closed.",
            "post": "yes",
        },
        bad={"reason": bad.bad_required_text(2000)},
        redirect_with_error=True,
    ),
    "settings: time zone": Form(
        role="freelancer",
        path=lambda w: reverse("account_settings"),
        valid=lambda w: {"time_zone": "Pacific/Auckland"},
        bad={"time_zone": bad.not_in(sorted(known_time_zones()))},
        required=frozenset({"time_zone"}),
    ),
    "sign in": Form(
        role="anonymous",
        path=lambda w: reverse("login"),
        valid=lambda w: {"login": "felix", "password": PASSWORD},
        bad={
            "login": st.one_of(
                bad.blank(), bad.with_nul(), bad.too_long(254), bad.junk_text, st.just("felix@example.org")
            ),
            "password": st.one_of(bad.blank(), bad.with_nul(), bad.junk_text, st.just(PASSWORD.upper())),
        },
        required=frozenset({"login", "password"}),
        page_again=True,
    ),
    # A sign-up with a bad field stores no account, no address and no e-mail. (An
    # address already registered is not bad input: the sign-up answers as for a new
    # one and e-mails its owner; tests/accounts test it.)
    "sign up": Form(
        role="anonymous",
        path=lambda w: reverse("account_signup"),
        valid=lambda w: {
            "username": "newcomer",
            "email": "newcomer@example.com",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
        bad={
            "username": st.one_of(bad.bad_required_text(30), BAD_USERNAMES),
            "email": BAD_EMAILS,
            "password1": WEAK_PASSWORDS,
            "password2": st.one_of(bad.blank(), bad.with_nul(), st.just(NEW_PASSWORD.upper())),
        },
        required=frozenset({"username", "email", "password1", "password2"}),
        page_again=True,
    ),
    "password reset: ask for a link": Form(
        role="anonymous",
        path=lambda w: reverse("account_reset_password"),
        valid=lambda w: {"email": "felix@example.com"},
        bad={"email": BAD_EMAILS},
        required=frozenset({"email"}),
        page_again=True,
    ),
    "password reset: the new password": Form(
        role="anonymous",
        path=reset_form_path,
        path_follows_link=True,
        valid=lambda w: {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        bad={
            "password1": st.one_of(WEAK_PASSWORDS, st.just("felix-felix-felix")),
            "password2": st.one_of(bad.blank(), bad.with_nul(), st.just(NEW_PASSWORD.upper())),
        },
        required=frozenset({"password1", "password2"}),
        page_again=True,
    ),
    "password change": Form(
        role="freelancer",
        path=lambda w: reverse("account_change_password"),
        valid=lambda w: {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        bad={
            "oldpassword": st.one_of(bad.blank(), bad.with_nul(), bad.junk_text, st.just(PASSWORD.upper())),
            "password1": st.one_of(WEAK_PASSWORDS, st.just("felix-felix-felix")),
            "password2": st.one_of(bad.blank(), bad.with_nul(), st.just(NEW_PASSWORD.upper())),
        },
        required=frozenset({"oldpassword", "password1", "password2"}),
        page_again=True,
    ),
    # Asking to change one's address: the button names the action, so nothing is
    # "required" (a body without it, JSON included, only shows the page again).
    "e-mail address change": Form(
        role="freelancer",
        path=lambda w: reverse("account_email"),
        valid=lambda w: {"email": "felix.new@example.com", "action_add": ""},
        bad={"email": st.one_of(BAD_EMAILS, st.just("FELIX@example.com"))},
        page_again=True,
    ),
    "settings: public profile": Form(
        role="freelancer",
        path=lambda w: reverse("profile_settings"),
        valid=lambda w: {"display_name": "Felix F.", "headline": "Django and PostgreSQL"},
        bad={
            "display_name": st.one_of(bad.bad_optional_text(60), CONTROL_TEXT),
            "headline": st.one_of(bad.bad_optional_text(120), CONTROL_TEXT),
        },
    ),
    "settings: e-mail preferences": Form(
        role="freelancer",
        path=lambda w: reverse("email_settings"),
        valid=lambda w: {"feedback": "off"},
        bad={"feedback": bad.not_in(["on", "off"])},
        required=frozenset({"feedback"}),
    ),
}


def _resolve(value, world):
    return value(world) if callable(value) else value


@st.composite
def bad_submissions(draw, form: Form, world: World):
    """A submission with at least one wrong field: wrong values, missing fields, the
    field repeated with a wrong last value, a wrong pair; maybe extra junk fields, in
    one of three encodings (a JSON body leaves the form empty)."""
    data = form.valid(world)
    bad_fields = _resolve(form.bad, world)
    pairs = _resolve(form.pairs, world)
    required = {name for name in data if any(name.endswith(req) for req in form.required)}
    kinds = ["value", "repeated"] + (["missing"] if required else []) + (["pair"] if pairs else [])
    faults = draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=3))
    for fault in faults:
        if fault == "missing":
            data.pop(draw(st.sampled_from(sorted(required))), None)
        elif fault == "pair":
            data.update(draw(st.sampled_from(list(pairs)).flatmap(lambda strategy: strategy)))
        else:
            name = draw(st.sampled_from(sorted(bad_fields)))
            value = draw(bad_fields[name])
            data[name] = [data.get(name, ""), value] if fault == "repeated" else value
    if draw(st.booleans()):
        data[f"x_{draw(st.text(st.characters(codec='ascii', categories=['Ll']), min_size=1, max_size=6))}"] = draw(
            bad.junk_text
        )
    # A JSON body leaves the form empty: bad only for a form with a required field.
    encodings = ["multipart", "multipart", "urlencoded"] + (["json"] if required else [])
    encoding = draw(st.sampled_from(encodings))
    return data, encoding


@pytest.mark.parametrize("endpoint", sorted(FORMS))
def test_bad_input_to_every_form_is_refused_without_server_error_and_stores_nothing(endpoint):
    form = FORMS[endpoint]
    world = build_world()
    browser = world.browser(form.role, raise_request_exception=False)
    path = form.path(world, browser) if form.path_follows_link else form.path(world)
    rows = Rows()

    @fuzz_settings()
    @given(submission=bad_submissions(form, world))
    def fuzz(submission):
        data, encoding = submission
        response = send(browser, path, data, encoding)
        check_refused(
            endpoint,
            response,
            rows,
            redirect_with_error=form.redirect_with_error,
            page_again=form.page_again,
            user=world.user(form.role),
        )

    fuzz()


# Other people's objects, and ids that do not exist.

# Every URL with an object id that a signed-in person posts to, and a valid body.
ID_ENDPOINTS = {
    "contract_action": (lambda i: reverse("contract_action", args=[i, "pause"]), lambda w: {}),
    "contract_end": (
        lambda i: reverse("contract_end", args=[i]),
        lambda w: {"reason": "completed", "plan_transition": "end", "state": "active"},
    ),
    "checklist_item_toggle": (lambda i: reverse("checklist_item_toggle", args=[i, i]), lambda w: {"done": "1"}),
    "diary": (
        lambda i: reverse("diary", args=[i]),
        lambda w: {"work_date": today(), "hours": "1", "minutes": "0", "memo": "Forged"},
    ),
    "diary_entry_edit": (
        lambda i: reverse("diary_entry_edit", args=[i, i]),
        lambda w: {"work_date": today(), "hours": "1", "minutes": "0", "memo": "Forged"},
    ),
    "diary_entry_delete": (lambda i: reverse("diary_entry_delete", args=[i, i]), lambda w: {}),
    "milestone fund": (lambda i: reverse("milestone_action", args=[i, "fund"]), lambda w: {}),
    "milestone release": (
        lambda i: reverse("milestone_action", args=[i, "release"]),
        lambda w: {"idempotency_key": uuid.uuid4().hex},
    ),
    "refund request approve": (lambda i: reverse("refund_request_action", args=[i, "approve"]), lambda w: {}),
    "feedback_form": (
        lambda i: reverse("feedback_form", args=[i]),
        lambda w: {"private_reason": "completed", "private_recommend": "1"},
    ),
    "feedback_respond": (lambda i: reverse("feedback_respond", args=[i]), lambda w: {"text": "Forged"}),
    "milestone_add": (
        lambda i: reverse("milestone_add", args=[i]),
        lambda w: {"title": "Forged", "amount": "10.00"},
    ),
    "weekly_limit_change": (
        lambda i: reverse("weekly_limit_change", args=[i]),
        lambda w: {"limit": "hours", "hours": "10"},
    ),
    "rate_change": (lambda i: reverse("rate_change", args=[i]), lambda w: {"rate": "70.00"}),
    "rate_change_action accept": (lambda i: reverse("rate_change_action", args=[i, "accept"]), lambda w: {}),
    "offer accept": (lambda i: reverse("offer_action", args=[i, "accept"]), lambda w: {}),
    "offer decline": (lambda i: reverse("offer_action", args=[i, "decline"]), lambda w: {"reason": "Forged"}),
    "offer withdraw": (lambda i: reverse("offer_action", args=[i, "withdraw"]), lambda w: {}),
    "refund_payment": (
        lambda i: reverse("refund_payment", args=[i]),
        lambda w: {f"p{w.payment.pk}-amount": "1.00", f"p{w.payment.pk}-idempotency_key": uuid.uuid4().hex},
    ),
}


def world_ids(world: World) -> list[int]:
    objects = [
        world.hourly,
        world.fixed,
        world.ended,
        world.ended_quiet,
        world.entry,
        world.milestone,
        world.submitted,
        world.payment,
        world.feedback,
        world.checklist_item,
        world.refund_request,
        world.disputed,
        world.rated,
        world.rate_proposal,
        world.offer,
        world.invitation,
    ]
    return sorted({item.pk for item in objects})


def test_other_peoples_ids_and_ids_that_do_not_exist_are_404_and_store_nothing():
    """Uma is signed in but party to nothing: whatever id she sends, of Clara's and
    Felix's objects or of nothing at all (zero, huge, beyond any integer column), she
    gets 404 and nothing changes."""
    world = build_world()
    browser = world.browser("unrelated", raise_request_exception=False)
    rows = Rows()
    ids = st.one_of(
        st.sampled_from(world_ids(world)),
        st.integers(min_value=0, max_value=2**31),
        st.integers(min_value=2**31, max_value=10**40),
    )

    @fuzz_settings(EXAMPLES * 5)
    @given(endpoint=st.sampled_from(sorted(ID_ENDPOINTS)), object_id=ids)
    def fuzz(endpoint, object_id):
        path_for, body = ID_ENDPOINTS[endpoint]
        response = browser.post(path_for(object_id), body(world))
        check_refused(f"other people's ids: {endpoint}", response, rows)
        assert response.status_code == 404, (endpoint, object_id, response.status_code)

    fuzz()


def test_any_text_in_url_path_parts_is_404_without_server_error():
    """Actions and usernames in the path are free text: anything unknown is 404."""
    world = build_world()
    browser = world.browser("client", raise_request_exception=False)
    rows = Rows()
    segment = st.text(st.characters(codec="utf-8", exclude_characters="/"), min_size=1, max_size=30)

    @fuzz_settings(EXAMPLES * 3)
    @given(
        where=st.sampled_from(["contract", "milestone", "refund request", "rate change", "offer", "profile"]),
        text=segment,
    )
    def fuzz(where, text):
        quoted = quote(text, safe="")
        path = {
            "contract": f"/contracts/{world.hourly.pk}/actions/{quoted}/",
            "milestone": f"/milestones/{world.milestone.pk}/{quoted}/",
            "refund request": f"/refund-requests/{world.refund_request.pk}/{quoted}/",
            "rate change": f"/rate-changes/{world.rate_proposal.pk}/{quoted}/",
            "offer": f"/offers/{world.offer.pk}/{quoted}/",
            "profile": f"/people/{quoted}/",
        }[where]
        known = {"pause", "resume", "withdraw_notice", "propose_end", "withdraw_end_proposal", "decline_end"}
        known |= {"fund", "submit", "release", "approve"}
        known |= {"dispute", "clara", "felix", "uma", "sam", "rita"}
        known |= {"accept", "decline", "withdraw"}
        if text in known or text.lower() in known:
            return
        response = browser.get(path) if where == "profile" else browser.post(path, {})
        check_refused(f"free text in the path: {where}", response, rows)
        assert response.status_code == 404, (path, response.status_code)

    fuzz()


def test_the_next_address_after_marking_notifications_read_never_leaves_the_site():
    """POST /notifications/ goes back to ``next`` only if it is a path on this site."""
    world = build_world()
    browser = world.browser("staff", raise_request_exception=False)  # Sam has no notifications: nothing to mark
    rows = Rows()
    hostile = st.sampled_from(
        [
            "//evil.example.com",
            "https://evil.example.com/",
            "http:evil.example.com",
            "/\\evil.example.com",
            "\\\\evil.example.com",
            "javascript:alert(1)",
            "///evil.example.com",
            "https:/evil.example.com",
            " //evil.example.com",
            "\t//evil.example.com",
            "/%2F%2Fevil.example.com",
        ]
    )

    @fuzz_settings(EXAMPLES * 2)
    @given(next_url=st.one_of(hostile, bad.junk_text, hostile.map(lambda url: url + "/x?y=1#z")))
    def fuzz(next_url):
        response = browser.post(reverse("notifications"), {"next": next_url})
        changed = rows.changed()
        record("notifications: next address", response, bool(changed))
        assert response.status_code == 302 and not changed
        location = response["Location"]
        assert location.startswith("/") and not location.startswith(("//", "/\\")), location

    fuzz()


HOSTILE_ADDRESSES = [
    "//evil.example.com",
    "https://evil.example.com/",
    "http:evil.example.com",
    "/\\evil.example.com",
    "\\\\evil.example.com",
    "javascript:alert(1)",
    "///evil.example.com",
    "https:/evil.example.com",
    " //evil.example.com",
    "\t//evil.example.com",
]


def test_opening_other_peoples_notifications_and_ids_that_do_not_exist_is_404_and_marks_nothing_read():
    """Uma opens notifications by id: Felix's and Clara's, and ids of nothing (zero,
    huge, beyond any integer column). Each is 404 and nothing changes."""
    world = build_world()
    browser = world.browser("unrelated", raise_request_exception=False)
    rows = Rows()
    others = sorted(Notification.objects.exclude(user=world.user("unrelated")).values_list("pk", flat=True))
    ids = st.one_of(
        st.sampled_from(others),
        st.integers(min_value=0, max_value=2**31),
        st.integers(min_value=2**31, max_value=10**40),
    )

    @fuzz_settings(EXAMPLES * 2)
    @given(notification_id=ids)
    def fuzz(notification_id):
        response = browser.get(reverse("notification_open", args=[notification_id]))
        check_refused("notification_open: other people's ids", response, rows)
        assert response.status_code == 404, (notification_id, response.status_code)

    fuzz()


def test_opening_a_notification_never_leaves_the_site_whatever_link_it_stores():
    """The place a notification opens comes from its stored link: one that is not a
    path on this site (however it got there) goes to the contract or the list."""
    world = build_world()
    felix = world.user("freelancer")
    browser = world.browser("freelancer", raise_request_exception=False)
    hostile = st.sampled_from(HOSTILE_ADDRESSES)

    @fuzz_settings(EXAMPLES * 2)
    @given(
        link=st.one_of(hostile, bad.junk_text, hostile.map(lambda url: url + "/x?y=1#z")).map(lambda text: text[:300]),
        with_contract=st.booleans(),
    )
    def fuzz(link, with_contract):
        link = link.replace("\x00", "")
        notification = Notification.objects.create(
            user=felix,
            contract=world.hourly if with_contract else None,
            kind=NotificationKind.CONTRACT,
            message="Fuzzed link",
            link=link,
        )
        response = browser.get(reverse("notification_open", args=[notification.pk]))
        record("notification_open: stored link", response, False)
        assert response.status_code == 302, response.status_code
        location = response["Location"]
        assert location.startswith("/") and not location.startswith(("//", "/\\")), location
        fallback = reverse("contract_detail", args=[world.hourly.pk]) if with_contract else reverse("notifications")
        assert location in (iri_to_uri(link), fallback), (link, location)
        assert Notification.objects.get(pk=notification.pk).read_at is not None

    fuzz()


# Regressions: what the fuzzing found, each pinned by a plain example.


def test_amounts_in_other_scripts_digits_are_refused_and_pay_nothing():
    """ "١٢" (Arabic-Indic digits) was read as $12.00 and ended a contract paying part
    of a milestone; "²" gave a message about int(). Amounts are ASCII digits."""
    world = build_world()
    rows = Rows()
    for amount in ("١٢", "²", "１２"):
        response = world.browser("client").post(
            reverse("milestone_action", args=[world.milestone.pk, "release"]),
            {
                "amount": amount,
                "idempotency_key": uuid.uuid4().hex,
                "previewed_amount": "1200",
                "held_before": str(escrow_held_cents(world.milestone)),
                "confirm": "1",
            },
        )
        assert error_messages(response) == ["Enter an amount in dollars, such as 125.50."]
        assert not rows.changed()


def test_an_idempotency_key_longer_than_the_ledger_column_is_refused_not_a_server_error():
    """A 201-character key made the ledger insert fail: 500 on release and refund."""
    world = build_world()
    rows = Rows()
    release = world.browser("client", raise_request_exception=False).post(
        reverse("milestone_action", args=[world.milestone.pk, "release"]),
        {
            "amount": "5",
            "idempotency_key": "k" * 201,
            "previewed_amount": "500",
            "held_before": str(escrow_held_cents(world.milestone)),
            "confirm": "1",
        },
    )
    prefix = f"p{world.payment.pk}"
    refund = world.browser("freelancer", raise_request_exception=False).post(
        reverse("refund_payment", args=[world.payment.pk]),
        {
            f"{prefix}-amount": "5",
            f"{prefix}-idempotency_key": "k" * 201,
            f"{prefix}-previewed_amount": "500",
            f"{prefix}-refunded_before": str(refunded_cents(world.payment)),
            "confirm": "1",
        },
    )

    assert release.status_code == 400 and error_messages(release)
    assert refund.status_code == 400
    assert not rows.changed()


def test_an_empty_feedback_post_shows_what_is_missing():
    """A POST without form fields (a JSON body) showed the blank form with 200."""
    world = build_world()
    response = world.browser("client").post(
        reverse("feedback_form", args=[world.ended_quiet.pk]), "{}", content_type="application/json"
    )

    assert response.status_code == 400
    assert "Choose your reason for ending (private)." in response.content.decode()


def test_sign_in_with_a_blank_password_says_the_field_is_required():
    """The sign-in page showed only non-field errors: a blank password came back silent."""
    UserFactory(username="felix")

    response = Client().post(reverse("login"), {"username": "felix", "password": ""})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()


def test_a_profile_address_with_a_nul_character_is_404():
    """PostgreSQL cannot compare text with NUL: /people/%00/ was a server error."""
    response = Client(raise_request_exception=False).get("/people/fe%00lix/")

    assert response.status_code == 404


def test_a_next_address_that_is_not_a_path_goes_back_to_the_notifications():
    """next=0 was taken for a URL name by redirect(): NoReverseMatch, a server error."""
    world = build_world()
    browser = world.browser("staff", raise_request_exception=False)
    for next_url in ("0", "notifications", "admin:index", "logout"):
        response = browser.post(reverse("notifications"), {"next": next_url})
        assert response.status_code == 302 and response["Location"] == reverse("notifications"), next_url

"""The authorization matrix (issue 8, "Security"): every URL of the portal × {anonymous,
unrelated user, client, freelancer, staff without review permission, reviewer}, with
the status each one must get.

The URL list comes from the URL resolver: a URL pattern without an entry in
``MATRIX`` fails ``test_every_url_pattern_has_an_entry_in_the_matrix``, so nobody adds
a page without saying who may open it. The Django admin's own URLs are one group,
checked through its index and two change lists.

A cell is a status code, and whether the request may change anything: ``changes(302)``
means the role is allowed to act, and the portal's tables must change; every other
cell must leave every row of the contracts and billing tables as it was (a refused
POST stores nothing). ``SIGN_IN`` is a redirect to the sign-in page. Each request
runs on the same portal, rolled back after it, so one cell cannot affect another.
"""

import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from django.contrib.messages import get_messages
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from billing.selectors import escrow_held_cents, refunded_cents
from tests.factories import PASSWORD

from .fuzz_world import ROLES, World, build_world, changed_tables, fingerprint

pytestmark = pytest.mark.django_db

SIGN_IN = "sign-in"  # 302 to the portal's sign-in page
ADMIN_SIGN_IN = "admin-sign-in"  # 302 to the admin's sign-in page


@dataclass(frozen=True)
class Changes:
    status: int

    def __str__(self) -> str:
        return f"{self.status} (acts)"


def changes(status: int) -> Changes:
    return Changes(status)


@dataclass
class Probe:
    method: str
    path: Callable[[World], str]
    expected: dict
    data: Callable[[World], dict] | None = None
    label: str = ""


def cells(*, anonymous=SIGN_IN, unrelated=404, client, freelancer, staff=404, reviewer=404) -> dict:
    return {
        "anonymous": anonymous,
        "unrelated": unrelated,
        "client": client,
        "freelancer": freelancer,
        "staff": staff,
        "reviewer": reviewer,
    }


def everyone(status, *, anonymous=None) -> dict:
    return {role: (status if role != "anonymous" or anonymous is None else anonymous) for role in ROLES}


def reviewers_only(reviewer, *, others=403) -> dict:
    return cells(unrelated=others, client=others, freelancer=others, staff=others, reviewer=reviewer)


def url(name: str, *args: Callable[[World], object]) -> Callable[[World], str]:
    return lambda world: reverse(name, args=[arg(world) for arg in args])


def today(world) -> str:
    return timezone.localdate().isoformat()


def signed_in(status) -> dict:
    return cells(unrelated=status, client=status, freelancer=status, staff=status, reviewer=status)


POST_ONLY = signed_in(405)  # GET of a POST-only endpoint: sign in first, then 405 whoever you are


def sign_in_probes(name: str) -> list:
    return [
        Probe("get", url(name), everyone(302, anonymous=200)),  # the signed in are sent on
        Probe("post", url(name), everyone(302, anonymous=200), data=lambda w: {"login": "x", "password": "y"}),
    ]


def sign_out_probes(name: str) -> list:
    return [
        Probe("get", url(name), everyone(200, anonymous=302)),
        Probe("post", url(name), everyone(302)),
    ]


def confirmation_key(world) -> str:
    """The key of the link that verifies Nora's address."""
    return EmailConfirmationHMAC(world.unverified_address).key


def reset_link(world, *, key: str = "") -> str:
    """Felix's password reset link (or one with a bad key)."""
    felix = type(world.people["freelancer"]).objects.get(username="felix")  # as stored: signing in changes it
    token = key or default_token_generator.make_token(felix)
    return reverse("account_reset_password_from_key", kwargs={"uidb36": user_pk_to_url_str(felix), "key": token})

GET_ONLY = signed_in(405)  # POST to a page that is only read: sign in first, then 405 whoever you are


def offer_form(to: str) -> dict:
    """The "Send an offer" form of a fixed-price offer with one milestone."""
    return {
        "to": to,
        "title": "Landing page",
        "description": "One page, responsive.",
        "kind": "fixed",
        "notice_days": "0",
        "start_date": timezone.localdate().isoformat(),
        "milestones-TOTAL_FORMS": "1",
        "milestones-INITIAL_FORMS": "0",
        "milestones-0-title": "Page",
        "milestones-0-amount": "250",
    }


# Who may do what.
MATRIX: dict[str, list[Probe]] = {
    "home": [Probe("get", url("home"), everyone(200))],
    "login": sign_in_probes("login"),
    "account_login": sign_in_probes("account_login"),
    # Signing out is a POST; its GET asks "sign out?" (the signed out are sent home).
    "logout": sign_out_probes("logout"),
    "account_logout": sign_out_probes("account_logout"),
    "account_signup": [
        Probe("get", url("account_signup"), everyone(302, anonymous=200)),
        # A sign-up stores the account's address and e-mails a link to verify it.
        Probe(
            "post",
            url("account_signup"),
            everyone(302, anonymous=changes(302)),
            data=lambda w: {
                "username": "newcomer",
                "email": "newcomer@example.com",
                "password1": "a-long-Unusual-passphrase-42",
                "password2": "a-long-Unusual-passphrase-42",
            },
        ),
    ],
    "account_email_verification_sent": [Probe("get", url("account_email_verification_sent"), everyone(200))],
    # Nora's link: anyone holding it may verify her address (a signed-in other person
    # is signed out first); the link works once.
    "account_confirm_email": [
        Probe("get", lambda w: reverse("account_confirm_email", args=[confirmation_key(w)]), everyone(200)),
        Probe("post", lambda w: reverse("account_confirm_email", args=[confirmation_key(w)]), everyone(changes(302))),
        Probe("get", url("account_confirm_email", lambda w: "not-a-key"), everyone(200), label="bad key"),
    ],
    "account_inactive": [Probe("get", url("account_inactive"), everyone(200))],
    # Anyone may ask for a reset link for any address: the same answer whether an
    # account uses it or not, and an e-mail to the address either way.
    "account_reset_password": [
        Probe("get", url("account_reset_password"), everyone(200)),
        Probe(
            "post",
            url("account_reset_password"),
            everyone(changes(302)),
            data=lambda w: {"email": "felix@example.com"},
            label="an address with an account",
        ),
        Probe(
            "post",
            url("account_reset_password"),
            everyone(changes(302)),
            data=lambda w: {"email": "nobody@example.com"},
            label="an address without one",
        ),
    ],
    "account_reset_password_done": [Probe("get", url("account_reset_password_done"), everyone(200))],
    # Felix's reset link hides its key in the session and goes on; a bad key is refused.
    "account_reset_password_from_key": [
        Probe("get", lambda w: reset_link(w), everyone(302)),
        Probe("post", lambda w: reset_link(w), everyone(302)),
        Probe("get", lambda w: reset_link(w, key="bad-key"), everyone(200), label="bad key"),
    ],
    "account_reset_password_from_key_done": [Probe("get", url("account_reset_password_from_key_done"), everyone(200))],
    "account_change_password": [
        Probe("get", url("account_change_password"), signed_in(200)),
        # Whoever is signed in changes their own password (and is e-mailed that it changed).
        Probe(
            "post",
            url("account_change_password"),
            signed_in(changes(302)),
            data=lambda w: {
                "oldpassword": PASSWORD,
                "password1": "a-long-Unusual-passphrase-42",
                "password2": "a-long-Unusual-passphrase-42",
            },
        ),
    ],
    "account_set_password": [Probe("get", url("account_set_password"), signed_in(302))],  # they have one: change it
    "account_email": [
        Probe("get", url("account_email"), signed_in(200)),
        # Whoever is signed in asks to change their own address: a link goes to the new one.
        Probe(
            "post",
            url("account_email"),
            signed_in(changes(302)),
            data=lambda w: {"email": "new-address@example.com", "action_add": ""},
        ),
    ],
    "account_reauthenticate": [
        Probe("get", url("account_reauthenticate"), signed_in(200)),
        Probe("post", url("account_reauthenticate"), signed_in(302), data=lambda w: {"password": PASSWORD}),
    ],
    # Sign-in and re-authentication by a code e-mailed are off: their pages refuse.
    "account_confirm_login_code": [Probe("get", url("account_confirm_login_code"), everyone(302))],
    "account_request_reauthentication_code": [
        Probe("get", url("account_request_reauthentication_code"), signed_in(403))
    ],
    "account_confirm_reauthentication_code": [
        Probe("get", url("account_confirm_reauthentication_code"), signed_in(403))
    ],
    "my_jobs": [Probe("get", url("my_jobs"), signed_in(200))],
    "account_settings": [
        Probe("get", url("account_settings"), signed_in(200)),
        # Whoever is signed in sets their own time zone.
        Probe(
            "post",
            url("account_settings"),
            signed_in(changes(302)),
            data=lambda w: {"time_zone": "Pacific/Auckland"},
        ),
    ],
    # Whoever is signed in sets their own display name and headline, and e-mail preferences.
    "profile_settings": [
        Probe("get", url("profile_settings"), POST_ONLY),
        Probe(
            "post",
            url("profile_settings"),
            signed_in(changes(302)),
            data=lambda w: {"display_name": "Someone", "headline": "Django developer"},
        ),
    ],
    "email_settings": [
        Probe("get", url("email_settings"), POST_ONLY),
        Probe("post", url("email_settings"), signed_in(changes(302)), data=lambda w: {"feedback": "off"}),
    ],
    "contract_detail": [
        Probe("get", url("contract_detail", lambda w: w.hourly.pk), cells(client=200, freelancer=200), label="hourly"),
        Probe("get", url("contract_detail", lambda w: w.fixed.pk), cells(client=200, freelancer=200), label="fixed"),
    ],
    "contract_action": [
        Probe("get", url("contract_action", lambda w: w.hourly.pk, lambda w: "pause"), POST_ONLY),
        # Only the client pauses; the freelancer is told so on the contract page.
        Probe(
            "post",
            url("contract_action", lambda w: w.hourly.pk, lambda w: "pause"),
            cells(client=changes(302), freelancer=302),
            label="pause",
        ),
        Probe(
            "post",
            url("contract_action", lambda w: w.hourly.pk, lambda w: "propose_end"),
            cells(client=changes(302), freelancer=changes(302)),
            label="propose_end",
        ),
        Probe(
            "post",
            url("contract_action", lambda w: w.hourly.pk, lambda w: "no_such_action"),
            cells(client=404, freelancer=404),
            label="unknown action",
        ),
    ],
    "contract_end": [
        Probe("get", url("contract_end", lambda w: w.hourly.pk), cells(client=200, freelancer=200)),
        Probe(
            "post",
            url("contract_end", lambda w: w.hourly.pk),
            cells(client=changes(302), freelancer=changes(302)),
            data=lambda w: {"reason": "completed", "plan_transition": "end", "state": "active"},
        ),
    ],
    "checklist_item_toggle": [
        Probe(
            "get",
            url("checklist_item_toggle", lambda w: w.ended.pk, lambda w: w.checklist_item.pk),
            POST_ONLY,
        ),
        # The step is Felix's: Clara cannot tick it off.
        Probe(
            "post",
            url("checklist_item_toggle", lambda w: w.ended.pk, lambda w: w.checklist_item.pk),
            cells(client=404, freelancer=changes(302)),
            data=lambda w: {"done": "1"},
        ),
    ],
    "diary": [
        Probe("get", url("diary", lambda w: w.hourly.pk), cells(client=200, freelancer=200)),
        # Only the freelancer records time; the client's form comes back refused.
        Probe(
            "post",
            url("diary", lambda w: w.hourly.pk),
            cells(client=400, freelancer=changes(302)),
            data=lambda w: {"work_date": today(w), "hours": "1", "minutes": "0", "memo": "Tests"},
        ),
    ],
    "diary_entry_edit": [
        # Only the freelancer gets the form; the client is sent back to the diary.
        Probe(
            "get",
            url("diary_entry_edit", lambda w: w.hourly.pk, lambda w: w.entry.pk),
            cells(client=302, freelancer=200),
        ),
        Probe(
            "post",
            url("diary_entry_edit", lambda w: w.hourly.pk, lambda w: w.entry.pk),
            cells(client=400, freelancer=changes(302)),
            data=lambda w: {"work_date": today(w), "hours": "3", "minutes": "0", "memo": "Edited"},
        ),
    ],
    "diary_entry_delete": [
        Probe(
            "get",
            url("diary_entry_delete", lambda w: w.hourly.pk, lambda w: w.entry.pk),
            POST_ONLY,
        ),
        Probe(
            "post",
            url("diary_entry_delete", lambda w: w.hourly.pk, lambda w: w.entry.pk),
            cells(client=302, freelancer=changes(302)),
        ),
    ],
    "milestone_action": [
        Probe(
            "get",
            url("milestone_action", lambda w: w.milestone.pk, lambda w: "release"),
            POST_ONLY,
        ),
        # Releasing is previewed (nothing moves), then confirmed with the previewed
        # figures; the freelancer is sent back to the contract page with the rule.
        Probe(
            "post",
            url("milestone_action", lambda w: w.milestone.pk, lambda w: "release"),
            cells(client=200, freelancer=302),
            data=lambda w: {"amount": "10.00", "idempotency_key": uuid.uuid4().hex},
            label="release: preview",
        ),
        Probe(
            "post",
            url("milestone_action", lambda w: w.milestone.pk, lambda w: "release"),
            cells(client=changes(302), freelancer=302),
            data=lambda w: {
                "amount": "10.00",
                "idempotency_key": uuid.uuid4().hex,
                "previewed_amount": "1000",
                "held_before": str(escrow_held_cents(w.milestone)),
                "confirm": "1",
            },
            label="release: confirm",
        ),
        Probe(
            "post",
            url("milestone_action", lambda w: w.milestone.pk, lambda w: "submit"),
            cells(client=302, freelancer=changes(302)),
            data=lambda w: {"note": "Done"},
            label="submit",
        ),
        Probe(
            "post",
            url("milestone_action", lambda w: w.milestone.pk, lambda w: "steal"),
            cells(client=404, freelancer=404),
            label="unknown action",
        ),
    ],
    # Terms during the contract: the client adds milestones and sets the weekly limit;
    # either party proposes a rate, the other answers. Who may not is sent back to the
    # contract page with the rule.
    "milestone_add": [
        Probe("get", url("milestone_add", lambda w: w.fixed.pk), cells(client=200, freelancer=302)),
        Probe(
            "post",
            url("milestone_add", lambda w: w.fixed.pk),
            cells(client=changes(302), freelancer=302),
            data=lambda w: {"title": "Extra drafts", "amount": "50.00", "due_date": ""},
        ),
    ],
    "weekly_limit_change": [
        Probe("get", url("weekly_limit_change", lambda w: w.hourly.pk), cells(client=200, freelancer=302)),
        Probe(
            "post",
            url("weekly_limit_change", lambda w: w.hourly.pk),
            cells(client=changes(302), freelancer=302),
            data=lambda w: {"limit": "hours", "hours": "20"},
        ),
    ],
    "rate_change": [
        Probe("get", url("rate_change", lambda w: w.hourly.pk), cells(client=200, freelancer=200)),
        Probe(
            "post",
            url("rate_change", lambda w: w.hourly.pk),
            cells(client=changes(302), freelancer=changes(302)),
            data=lambda w: {"rate": "65.00", "message": ""},
        ),
    ],
    "rate_change_action": [
        Probe("get", url("rate_change_action", lambda w: w.rate_proposal.pk, lambda w: "accept"), POST_ONLY),
        # Felix proposed: Clara answers, Felix withdraws; each is told the rule otherwise.
        Probe(
            "post",
            url("rate_change_action", lambda w: w.rate_proposal.pk, lambda w: "accept"),
            cells(client=changes(302), freelancer=302),
            label="accept",
        ),
        Probe(
            "post",
            url("rate_change_action", lambda w: w.rate_proposal.pk, lambda w: "decline"),
            cells(client=changes(302), freelancer=302),
            data=lambda w: {"message": "Not now"},
            label="decline",
        ),
        Probe(
            "post",
            url("rate_change_action", lambda w: w.rate_proposal.pk, lambda w: "withdraw"),
            cells(client=302, freelancer=changes(302)),
            label="withdraw",
        ),
        Probe(
            "post",
            url("rate_change_action", lambda w: w.rate_proposal.pk, lambda w: "haggle"),
            cells(client=404, freelancer=404),
            label="unknown action",
        ),
    ],
    "refund_request_action": [
        Probe(
            "get",
            url("refund_request_action", lambda w: w.refund_request.pk, lambda w: "approve"),
            POST_ONLY,
        ),
        # The freelancer answers the client's refund request; the client cannot.
        Probe(
            "post",
            url("refund_request_action", lambda w: w.refund_request.pk, lambda w: "approve"),
            cells(client=302, freelancer=changes(302)),
            label="approve",
        ),
        Probe(
            "post",
            url("refund_request_action", lambda w: w.refund_request.pk, lambda w: "dispute"),
            cells(client=302, freelancer=changes(302)),
            data=lambda w: {"statement": "I delivered the drafts."},
            label="dispute",
        ),
    ],
    "notifications": [
        Probe("get", url("notifications"), signed_in(200)),
        # Marks the user's own notifications read: only the parties have unread ones.
        Probe(
            "post",
            url("notifications"),
            cells(unrelated=302, client=changes(302), freelancer=changes(302), staff=302, reviewer=302),
        ),
    ],
    "notification_open": [
        # Felix's unread notification: opening it marks it read and goes to its contract;
        # to anyone else it does not exist. A link, so a POST is refused.
        Probe("get", url("notification_open", lambda w: w.notification.pk), cells(client=404, freelancer=changes(302))),
        Probe("post", url("notification_open", lambda w: w.notification.pk), signed_in(405)),
    ],
    "feedback_form": [
        Probe("get", url("feedback_form", lambda w: w.ended_quiet.pk), cells(client=200, freelancer=200)),
        Probe(
            "post",
            url("feedback_form", lambda w: w.ended_quiet.pk),
            cells(client=changes(302), freelancer=400),  # Felix rates other criteria than Clara does
            data=lambda w: {
                **{f"score_{code}": "5" for code in ("skills", "quality", "availability", "deadlines")},
                **{f"score_{code}": "5" for code in ("communication", "cooperation")},
                "private_reason": "completed",
                "private_recommend": "9",
            },
        ),
    ],
    "feedback_respond": [
        Probe("get", url("feedback_respond", lambda w: w.feedback.pk), POST_ONLY),
        # Clara's feedback is about Felix: only he responds.
        Probe(
            "post",
            url("feedback_respond", lambda w: w.feedback.pk),
            cells(client=302, freelancer=changes(302)),
            data=lambda w: {"text": "Thank you, Clara."},
        ),
    ],
    "profile": [Probe("get", url("profile", lambda w: "felix"), everyone(200))],
    # Anyone signed in with a verified address sends offers (Felix's to himself is refused).
    "offer_send": [
        Probe("get", url("offer_send"), signed_in(200)),
        Probe(
            "post",
            url("offer_send"),
            cells(
                unrelated=changes(302),
                client=changes(302),
                freelancer=400,
                staff=changes(302),
                reviewer=changes(302),
            ),
            data=lambda w: offer_form("felix"),
        ),
    ],
    "offer_detail": [
        Probe("get", url("offer_detail", lambda w: w.offer.pk), cells(client=200, freelancer=200)),
        Probe("post", url("offer_detail", lambda w: w.offer.pk), GET_ONLY),
    ],
    "offer_action": [
        Probe("get", url("offer_action", lambda w: w.offer.pk, lambda w: "accept"), POST_ONLY),
        # Felix answers Clara's offer; Clara withdraws it. The other is told why not.
        Probe(
            "post",
            url("offer_action", lambda w: w.offer.pk, lambda w: "accept"),
            cells(client=302, freelancer=changes(302)),
            label="accept",
        ),
        Probe(
            "post",
            url("offer_action", lambda w: w.offer.pk, lambda w: "decline"),
            cells(client=302, freelancer=changes(302)),
            data=lambda w: {"reason": "I am booked until September."},
            label="decline",
        ),
        Probe(
            "post",
            url("offer_action", lambda w: w.offer.pk, lambda w: "withdraw"),
            cells(client=changes(302), freelancer=302),
            label="withdraw",
        ),
        Probe(
            "post",
            url("offer_action", lambda w: w.offer.pk, lambda w: "steal"),
            cells(client=404, freelancer=404),
            label="unknown action",
        ),
    ],
    # The invitation link: its page for anyone holding it; the client who sent it is
    # taken to the offer; only the person invited (zoe@example.org, verified) takes it.
    "offer_invitation": [
        Probe(
            "get",
            url("offer_invitation", lambda w: w.invitation.invitation_token),
            {**everyone(200), "client": 302},
        ),
        Probe("post", url("offer_invitation", lambda w: w.invitation.invitation_token), everyone(405)),
    ],
    "review_queue": [Probe("get", url("review_queue"), reviewers_only(200))],
    "review_flag": [
        Probe("get", url("review_flag", lambda w: w.flag.pk), reviewers_only(200)),
        Probe(
            "post",
            url("review_flag", lambda w: w.flag.pk),
            reviewers_only(changes(302)),
            data=lambda w: {"decision": "dismiss", "note": "Not a breach."},
        ),
    ],
    "review_dispute": [
        Probe("get", url("review_dispute", lambda w: w.disputed.pk), reviewers_only(200)),
        Probe(
            "post",
            url("review_dispute", lambda w: w.disputed.pk),
            reviewers_only(changes(302)),
            data=lambda w: {"outcome": "client", "note": "Nothing was delivered."},
        ),
    ],
    "refunds": [Probe("get", url("refunds"), signed_in(200))],
    "refund_payment": [
        Probe("get", url("refund_payment", lambda w: w.payment.pk), POST_ONLY),
        # Only the freelancer who was paid refunds; to anyone else the payment does not
        # exist. A refund is previewed (nothing moves), then confirmed with the figures.
        Probe(
            "post",
            url("refund_payment", lambda w: w.payment.pk),
            cells(client=404, freelancer=200),
            data=lambda w: {
                f"p{w.payment.pk}-amount": "10.00",
                f"p{w.payment.pk}-reason": "Partial refund",
                f"p{w.payment.pk}-idempotency_key": uuid.uuid4().hex,
            },
            label="preview",
        ),
        Probe(
            "post",
            url("refund_payment", lambda w: w.payment.pk),
            cells(client=404, freelancer=changes(302)),
            data=lambda w: {
                f"p{w.payment.pk}-amount": "10.00",
                f"p{w.payment.pk}-reason": "Partial refund",
                f"p{w.payment.pk}-idempotency_key": uuid.uuid4().hex,
                f"p{w.payment.pk}-previewed_amount": "1000",
                f"p{w.payment.pk}-refunded_before": str(refunded_cents(w.payment)),
                "confirm": "1",
            },
            label="confirm",
        ),
    ],
}

# The Django admin, as a group: staff only, and the flags only for reviewers.
NOT_STAFF = {"anonymous": ADMIN_SIGN_IN, "unrelated": ADMIN_SIGN_IN, "client": ADMIN_SIGN_IN}
ADMIN_PROBES = [
    Probe("get", url("admin:index"), {**NOT_STAFF, "freelancer": ADMIN_SIGN_IN, "staff": 200, "reviewer": 200}),
    Probe(
        "get",
        url("admin:contracts_contract_changelist"),
        {**NOT_STAFF, "freelancer": ADMIN_SIGN_IN, "staff": 200, "reviewer": 200},
    ),
    Probe(
        "get",
        url("admin:contracts_flag_changelist"),
        {**NOT_STAFF, "freelancer": ADMIN_SIGN_IN, "staff": 403, "reviewer": 200},
    ),
]


# The URL conf.


def _patterns(resolvers, prefix=""):
    """(route, name) of every URL pattern of the project; the admin's as one group."""
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                yield prefix + str(entry.pattern), "admin:*"
                continue
            yield from _patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.name


def project_url_patterns() -> list[tuple[str, str]]:
    return list(_patterns(get_resolver().url_patterns))


def test_every_url_pattern_has_an_entry_in_the_matrix():
    missing = [
        f"{route!r} (name {name!r})"
        for route, name in project_url_patterns()
        if name != "admin:*" and (name is None or name not in MATRIX)
    ]
    assert not missing, (
        "These URL patterns have no entry in MATRIX (tests/reliability/test_authorization_matrix.py): "
        + ", ".join(missing)
        + ". Add the status each role must get, so that nobody adds a page without saying who may open it."
    )


def test_the_matrix_names_only_urls_that_exist_and_covers_the_admin():
    names = {name for _route, name in project_url_patterns()}
    assert not set(MATRIX) - names, f"MATRIX entries for URLs that no longer exist: {sorted(set(MATRIX) - names)}"
    assert "admin:*" in names
    for probes in MATRIX.values():
        for probe in probes:
            assert set(probe.expected) == set(ROLES), probe


# The requests.


@pytest.fixture
def world() -> World:
    return build_world()


class _Rollback(Exception):
    pass


def _run(world: World, probe: Probe, role: str) -> tuple[object, bool, list[str]]:
    """The status the role gets, whether the portal's tables changed, and the tables
    that did; everything rolled back afterwards."""
    result = {}
    try:
        with transaction.atomic():
            before = fingerprint()
            browser = world.browser(role)
            path = probe.path(world)
            data = probe.data(world) if probe.data else {}
            response = getattr(browser, probe.method)(path, data) if probe.method == "post" else browser.get(path)
            after = fingerprint()
            result.update(response=response, changed=changed_tables(before, after))
            raise _Rollback
    except _Rollback:
        pass
    return result["response"], bool(result["changed"]), result["changed"]


def _matches(response, changed: bool, expected) -> bool:
    status = response.status_code
    if expected == SIGN_IN:
        return status == 302 and response.url.startswith(reverse("login")) and not changed
    if expected == ADMIN_SIGN_IN:
        return status == 302 and response.url.startswith(reverse("admin:login")) and not changed
    if isinstance(expected, Changes):
        return status == expected.status and changed
    return status == expected and not changed


def _describe(response, changed_list) -> str:
    where = f" → {response.url}" if response.status_code in (301, 302) else ""
    messages = [str(m) for m in get_messages(response.wsgi_request)] if hasattr(response, "wsgi_request") else []
    return f"{response.status_code}{where}; changed: {changed_list or 'nothing'}; messages: {messages}"


CHECKED: list[tuple[str, str, str, str, object]] = []


@pytest.mark.parametrize("name", sorted(MATRIX) + ["admin:*"])
def test_each_role_gets_the_status_the_matrix_gives_and_only_allowed_roles_change_anything(world, name):
    probes = ADMIN_PROBES if name == "admin:*" else MATRIX[name]
    wrong = []
    for probe in probes:
        for role in ROLES:
            response, changed, changed_list = _run(world, probe, role)
            expected = probe.expected[role]
            CHECKED.append((name, probe.method, probe.label, role, expected))
            if not _matches(response, changed, expected):
                wrong.append(
                    f"{probe.method.upper()} {probe.path(world)} {probe.label} as {role}: "
                    f"expected {expected}, got {_describe(response, changed_list)}"
                )
    assert not wrong, "\n".join(wrong)


def test_write_the_matrix_figures_for_the_reliability_report():
    """Runs last in this module: the cells checked above, for docs/reliability.md."""
    report_dir = os.environ.get("RELIABILITY_REPORT_DIR")
    if not report_dir or not CHECKED:
        return
    reads = sum(1 for *_rest, expected in CHECKED if expected == 200)
    denied = sum(1 for *_rest, expected in CHECKED if not isinstance(expected, Changes) and expected != 200)
    acting = sum(1 for *_rest, expected in CHECKED if isinstance(expected, Changes))
    patterns = project_url_patterns()
    rows = [
        ["URL patterns in the URL conf (admin as one group)", str(len(patterns))],
        ["Roles", str(len(ROLES))],
        ["Requests (cells) checked", str(len(CHECKED))],
        ["Cells where the role may act (tables must change)", str(acting)],
        ["Cells that read a page (200, nothing may change)", str(reads)],
        ["Cells refused or redirected (nothing may change)", str(denied)],
        ["Cells that did not match the matrix", "0"],
    ]
    Path(report_dir).mkdir(parents=True, exist_ok=True)
    Path(report_dir, "authorization.json").write_text(
        json.dumps(
            {
                "title": "Authorization matrix",
                "rows": rows,
                "notes": "Every URL pattern × anonymous, unrelated user, client, freelancer, staff without the "
                "review permission, reviewer; a new URL without an entry fails the test. Each cell checks the status "
                "and that the contracts and billing tables changed only where the role may act.",
            },
            indent=2,
        )
    )

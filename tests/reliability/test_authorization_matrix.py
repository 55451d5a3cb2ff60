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
from django.contrib.messages import get_messages
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from billing.selectors import escrow_held_cents, refunded_cents

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

# Who may do what.
MATRIX: dict[str, list[Probe]] = {
    "home": [Probe("get", url("home"), everyone(200))],
    "login": [
        Probe("get", url("login"), everyone(302, anonymous=200)),  # the signed in are sent on
        Probe("post", url("login"), everyone(302, anonymous=200), data=lambda w: {"username": "x", "password": "y"}),
    ],
    "logout": [
        Probe("get", url("logout"), everyone(405)),
        Probe("post", url("logout"), everyone(302)),
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

"""Security settings (issue 8, "Security"): production settings pass
``manage.py check --deploy``; every page carries a Content-Security-Policy that allows
no inline script or style, and the pages have none; every POST endpoint refuses a
request without the CSRF token; sign-in is throttled against password guessing
(django-axes), and a locked-out person is told what happened and when to try again.
"""

import json
import os
import re
import secrets
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from contracts.models import AccountSuspension
from tests.factories import PASSWORD, UserFactory
from tests.fixtures.pages import is_signed_in, post_sign_in

from .fuzz_world import build_world, changed_tables, fingerprint
from .test_authorization_matrix import MATRIX, Changes

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# The browser test below: Playwright's sync API runs an event loop in this thread, and
# the ORM calls beside it are synchronous (as tests/browser/conftest.py does).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
REPORT: dict[str, str] = {}


def _manage(*args, env_overrides: dict) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update(env_overrides)
    return subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


# Production settings.


def test_production_settings_pass_check_deploy_with_no_warnings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_overrides={
            "DJANGO_SETTINGS_MODULE": "contracts_portal.settings.production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        },
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    REPORT["manage.py check --deploy (production settings) warnings"] = "0"


def test_production_settings_refuse_to_start_without_a_secret_key_from_the_environment():
    result = _manage("check", env_overrides={"DJANGO_SETTINGS_MODULE": "contracts_portal.settings.production"})

    assert result.returncode != 0
    assert "Set DJANGO_SECRET_KEY for production settings." in result.stderr


def test_production_settings_keep_debug_off_https_cookies_hsts_and_throttling():
    code = (
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT,"
        " s.SECURE_HSTS_SECONDS >= 31536000, s.AXES_ENABLED, s.AUTHENTICATION_BACKENDS[0],"
        " 'csp.middleware.CSPMiddleware' in s.MIDDLEWARE, s.PASSWORD_HASHERS[0])"
    )
    result = _manage(
        "shell",
        "--no-imports",
        "-c",
        code,
        env_overrides={
            "DJANGO_SETTINGS_MODULE": "contracts_portal.settings.production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_DEBUG": "1",  # production ignores it
        },
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False",
        "True",
        "True",
        "True",
        "True",
        "True",
        "axes.backends.AxesStandaloneBackend",
        "True",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


# Content-Security-Policy.

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|<[^>]+\sstyle\s*=", re.IGNORECASE)


def _directives(header: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.django_db
def test_every_page_has_a_csp_without_inline_script_or_style_and_the_pages_have_none():
    world = build_world()
    pages = [
        ("anonymous", reverse("home")),
        ("anonymous", reverse("login")),
        ("anonymous", reverse("account_signup")),
        ("anonymous", reverse("account_reset_password")),
        ("anonymous", reverse("account_email_verification_sent")),
        ("anonymous", reverse("profile", args=["felix"])),
        ("client", reverse("account_settings")),
        ("client", reverse("account_email")),
        ("client", reverse("account_change_password")),
        ("client", reverse("logout")),
        ("client", reverse("my_jobs")),
        ("client", reverse("contract_detail", args=[world.hourly.pk])),
        ("client", reverse("contract_detail", args=[world.fixed.pk])),
        ("client", reverse("contract_end", args=[world.fixed.pk])),
        ("freelancer", reverse("diary", args=[world.hourly.pk])),
        ("freelancer", reverse("refunds")),
        ("freelancer", reverse("notifications")),
        ("client", reverse("feedback_form", args=[world.ended_quiet.pk])),
        ("reviewer", reverse("review_queue")),
        ("reviewer", reverse("review_flag", args=[world.flag.pk])),
        ("reviewer", reverse("review_dispute", args=[world.disputed.pk])),
        ("client", "/no-such-page/"),
    ]
    for role, path in pages:
        response = world.browser(role).get(path)
        assert response.status_code in (200, 404), (path, response.status_code)
        directives = _directives(response["Content-Security-Policy"])
        assert directives["script-src"] == ["'self'"], path
        assert directives["style-src"] == ["'self'"], path
        assert directives["object-src"] == ["'none'"] and directives["frame-ancestors"] == ["'none'"], path
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), (path, INLINE_SCRIPT.search(html).group(0))
        assert not INLINE_HANDLER.search(html), (path, INLINE_HANDLER.search(html).group(0))
        assert not INLINE_STYLE.search(html), (path, INLINE_STYLE.search(html).group(0))
    REPORT["Pages checked for the CSP header and inline script or style"] = str(len(pages))
    REPORT["Content-Security-Policy"] = response["Content-Security-Policy"]


# In the browser: the policy blocks nothing the portal itself uses.

CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
"""


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, as in tests/browser (browsers cannot be downloaded here)."""
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": ["--no-sandbox"]}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_the_browser_the_csp_blocks_nothing_on_the_pages_and_the_htmx_end_dialog(live_server, page):
    from playwright.sync_api import expect

    world = build_world()
    page.add_init_script(CSP_LISTENER)
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(f"{live_server.url}{reverse('login')}")
    page.get_by_label("Username").fill("clara")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    violations = []
    for path in [
        reverse("my_jobs"),
        reverse("contract_detail", args=[world.hourly.pk]),
        reverse("profile", args=["felix"]),
        reverse("notifications"),
        reverse("contract_detail", args=[world.fixed.pk]),
    ]:
        page.goto(f"{live_server.url}{path}")
        violations += page.evaluate("window.__cspViolations")
    page.locator("summary[aria-label='Contract options']").click()
    page.get_by_role("link", name="End contract").click()
    expect(page.locator("dialog[open]")).to_be_visible()  # htmx fetched and swapped it in
    violations += page.evaluate("window.__cspViolations")

    assert violations == []
    assert not [text for text in console if "Content Security Policy" in text]


# CSRF.


def _post_probes():
    for name, probes in sorted(MATRIX.items()):
        for probe in probes:
            if probe.method != "post":
                continue
            acting = [role for role, cell in probe.expected.items() if isinstance(cell, Changes)]
            if acting:
                yield name, probe, acting[0]


@pytest.mark.django_db
def test_every_post_endpoint_refuses_a_request_without_the_csrf_token_and_stores_nothing():
    """Each POST of the authorization matrix that changes something for its role is
    sent by that role without a CSRF token: 403, and nothing changes. The same
    request with the token does change something (so the 403 is the CSRF check)."""
    world = build_world()
    checked = []
    for name, probe, role in _post_probes():
        browser = world.browser(role, enforce_csrf_checks=True)
        before = fingerprint()
        response = browser.post(probe.path(world), probe.data(world) if probe.data else {})
        assert response.status_code == 403, (name, probe.label, response.status_code)
        assert b"CSRF" in response.content
        assert not changed_tables(before, fingerprint()), (name, probe.label)
        checked.append(name)
    assert {"contract_end", "diary", "milestone_action", "refund_payment", "review_flag", "feedback_form"} <= set(
        checked
    )
    REPORT["POST endpoints refusing a request without the CSRF token"] = f"{len(set(checked))} ({len(checked)} actions)"


@pytest.mark.django_db
def test_every_form_on_the_pages_carries_the_csrf_token():
    world = build_world()
    for role, path in [
        ("anonymous", reverse("login")),
        ("anonymous", reverse("account_signup")),
        ("anonymous", reverse("account_reset_password")),
        ("client", reverse("account_settings")),
        ("client", reverse("account_email")),
        ("client", reverse("account_change_password")),
        ("client", reverse("contract_detail", args=[world.fixed.pk])),
        ("client", reverse("contract_end", args=[world.fixed.pk])),
        ("freelancer", reverse("diary", args=[world.hourly.pk])),
        ("freelancer", reverse("refunds")),
        ("reviewer", reverse("review_flag", args=[world.flag.pk])),
    ]:
        html = world.browser(role).get(path).content.decode()
        forms = re.findall(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", html, re.IGNORECASE | re.DOTALL)
        assert forms, path
        for form in forms:
            assert 'name="csrfmiddlewaretoken"' in form, (path, form[:200])


# Sign-in throttling (django-axes).

LIMIT = django_settings.SIGN_IN_FAILURE_LIMIT_PER_USERNAME
COOL_OFF = django_settings.AXES_COOLOFF_TIME
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_five_failed_sign_ins_lock_the_account_from_that_address_even_for_the_right_password(axes_on):
    UserFactory(username="felix")
    browser = Client()
    with time_machine.travel(T0, tick=False):
        for attempt in range(1, LIMIT):
            response = post_sign_in(browser, "felix", "wrong-password")
            assert response.status_code == 200, attempt
            assert "Please enter a correct username or e-mail address and password." in response.content.decode()
        locking = post_sign_in(browser, "felix", "wrong-password")
        right = post_sign_in(browser, "felix")

    assert locking.status_code == right.status_code == 429
    assert not is_signed_in(browser)
    page = right.content.decode()
    assert "Too many failed sign-ins" in page
    assert "even with the right password" in page
    assert f"You can try again at {(T0 + COOL_OFF):%H:%M} UTC, in 15 minutes." in page
    assert 'name="login"' in page and 'value="felix"' in page  # the sign-in form, ready for later
    REPORT["Sign-in lockout"] = f"after {LIMIT} failures per username and address, for {COOL_OFF}"


@pytest.mark.django_db
def test_after_the_cool_off_the_right_password_signs_in_again(axes_on):
    UserFactory(username="felix")
    browser = Client()
    with time_machine.travel(T0, tick=False):
        for _ in range(LIMIT):
            post_sign_in(browser, "felix", "wrong-password")
    with time_machine.travel(T0 + COOL_OFF - timedelta(minutes=1), tick=False):
        still_locked = post_sign_in(browser, "felix")  # attempts while locked out do not extend the lockout
    with time_machine.travel(T0 + COOL_OFF + timedelta(seconds=1), tick=False):
        response = post_sign_in(browser, "felix")

    assert still_locked.status_code == 429
    assert response.status_code == 302
    assert is_signed_in(browser)


@pytest.mark.django_db
def test_a_lockout_is_per_username_and_address_so_others_still_sign_in(axes_on):
    UserFactory(username="felix")
    UserFactory(username="clara")
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(LIMIT):
        post_sign_in(attacker, "felix", "guess")

    felix_elsewhere = Client(REMOTE_ADDR="198.51.100.7")
    clara_same_address = Client(REMOTE_ADDR="203.0.113.9")

    assert post_sign_in(attacker, "felix").status_code == 429
    assert post_sign_in(felix_elsewhere, "felix").status_code == 302
    assert post_sign_in(clara_same_address, "clara").status_code == 302


@pytest.mark.django_db
def test_a_successful_sign_in_resets_the_count_of_failures(axes_on):
    UserFactory(username="felix")
    browser = Client()
    for _ in range(LIMIT - 1):
        post_sign_in(browser, "felix", "wrong-password")
    assert post_sign_in(browser, "felix").status_code == 302
    browser.post(reverse("logout"))

    for _ in range(LIMIT - 1):
        post_sign_in(browser, "felix", "wrong-password")

    assert post_sign_in(browser, "felix").status_code == 302


@pytest.mark.django_db
def test_the_admin_sign_in_is_throttled_too(axes_on):
    UserFactory(username="ada", is_staff=True, is_superuser=True)
    browser = Client()
    for _ in range(LIMIT):
        browser.post(reverse("admin:login"), {"username": "ada", "password": "wrong-password"})

    response = browser.post(reverse("admin:login"), {"username": "ada", "password": PASSWORD})

    assert response.status_code == 429
    assert not is_signed_in(browser)


@pytest.mark.django_db
def test_with_throttling_on_a_suspended_account_is_still_told_the_rule_and_wrong_passwords_stay_generic(axes_on):
    user = UserFactory(username="gary")
    AccountSuspension.objects.create(user=user, rule="Payment outside the platform", explanation="PayPal.")

    told = post_sign_in(Client(), "gary").content.decode()
    generic = post_sign_in(Client(), "gary", "wrong-password").content.decode()

    assert "This account was permanently closed" in told and "Payment outside the platform" in told
    assert "Please enter a correct username or e-mail address and password." in generic
    assert "closed" not in generic


@pytest.fixture(scope="module", autouse=True)
def write_report():
    yield
    report_dir = os.environ.get("RELIABILITY_REPORT_DIR")
    if not report_dir or not REPORT:
        return
    Path(report_dir).mkdir(parents=True, exist_ok=True)
    Path(report_dir, "security.json").write_text(
        json.dumps(
            {
                "title": "Security settings",
                "rows": [[label, value] for label, value in REPORT.items()],
                "notes": "Production settings checked with a secret from the environment; bandit runs in make lint.",
            },
            indent=2,
        )
    )

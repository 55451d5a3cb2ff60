"""Passwords (issue 14, "Accounts"): a forgotten password is reset through a link
e-mailed to the account's address, which works for a while and once; asking never
tells whether an address is registered (the page is the same, and an address without
an account is told so by e-mail). A signed-in person changes their password with the
current one. Django's validators refuse weak passwords; every change is e-mailed."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory
from tests.fixtures.accounts import STRONG_PASSWORD, ask_password_reset, emails_to, link_to, the_email_to
from tests.fixtures.pages import is_signed_in, post_sign_in, text

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LINK_HOURS = django_settings.PASSWORD_RESET_LINK_HOURS
BASE = "https://portal.example"
RESET_LINK = "/accounts/password/reset/key/"
REFUSED_LINK = "This password reset link has expired or was already used."


@pytest.fixture(autouse=True)
def portal_base_url(settings):
    settings.PORTAL_BASE_URL = BASE


@pytest.fixture
def felix(db):
    return UserFactory(username="felix", email="felix@example.com")


def follow_reset_link(browser: Client, at) -> str:
    """The link of Felix's reset e-mail opened in ``browser``: the page where the new
    password is typed (the link's key moves to the session, out of the address bar)."""
    with time_machine.travel(at, tick=False):
        response = browser.get(link_to(the_email_to("felix@example.com"), RESET_LINK))
    assert response.status_code == 302, text(response)
    return response.url


def new_password(browser: Client, path: str, password: str = STRONG_PASSWORD, *, at):
    with time_machine.travel(at, tick=False):
        return browser.post(path, {"password1": password, "password2": password})


def test_a_reset_link_is_emailed_and_sets_a_new_password_that_signs_in(felix):
    with time_machine.travel(T0, tick=False):
        response = ask_password_reset(Client(), "Felix@Example.com")
    browser = Client()
    form_page = follow_reset_link(browser, T0 + timedelta(minutes=5))
    done = new_password(browser, form_page, at=T0 + timedelta(minutes=6))

    assert response.status_code == 302 and response.url == reverse("account_reset_password_done")
    assert done.status_code == 302 and done.url == reverse("account_reset_password_from_key_done")
    assert post_sign_in(Client(), "felix", PASSWORD).status_code == 200  # the old password no longer works
    assert post_sign_in(Client(), "felix", STRONG_PASSWORD).status_code == 302
    reset_email, changed_email = emails_to("felix@example.com")
    assert reset_email.subject == "Reset your Contracts portal password"
    assert f"{BASE}{RESET_LINK}" in reset_email.body_text
    assert f"The link works for {LINK_HOURS} hours, once." in reset_email.body_text
    assert changed_email.subject == "Your Contracts portal password was reset"


def test_asking_for_an_address_without_an_account_answers_alike_and_tells_that_address(felix):
    known_visitor, unknown_visitor = Client(), Client()
    known = ask_password_reset(known_visitor, "felix@example.com")
    unknown = ask_password_reset(unknown_visitor, "nobody@example.com")

    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url
    assert text(known_visitor.get(known.url)) == text(unknown_visitor.get(unknown.url))
    told = the_email_to("nobody@example.com")
    assert told.subject == "No Contracts portal account uses this address"
    assert RESET_LINK not in told.body_text
    assert get_user_model().objects.count() == 1


def test_a_reset_link_works_once(felix):
    with time_machine.travel(T0, tick=False):
        ask_password_reset(Client(), "felix@example.com")
    browser = Client()
    new_password(browser, follow_reset_link(browser, T0), at=T0 + timedelta(minutes=1))

    with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
        again = Client().get(link_to(emails_to("felix@example.com")[0], RESET_LINK))

    assert again.status_code == 200
    assert REFUSED_LINK in text(again)


def test_a_reset_link_is_refused_once_it_expired(felix):
    with time_machine.travel(T0, tick=False):
        ask_password_reset(Client(), "felix@example.com")

    with time_machine.travel(T0 + timedelta(hours=LINK_HOURS, seconds=1), tick=False):
        late = Client().get(link_to(the_email_to("felix@example.com"), RESET_LINK))

    assert late.status_code == 200
    assert REFUSED_LINK in text(late)
    assert felix.check_password(PASSWORD)


def test_a_weak_new_password_is_refused_at_its_field_and_the_old_one_stays(felix):
    with time_machine.travel(T0, tick=False):
        ask_password_reset(Client(), "felix@example.com")
    browser = Client()

    response = new_password(browser, follow_reset_link(browser, T0), "password", at=T0 + timedelta(minutes=1))

    assert response.status_code == 200
    assert "This password is too common." in response.context["form"].errors["password1"]
    felix.refresh_from_db()
    assert felix.check_password(PASSWORD)


def test_a_double_click_emails_one_link_and_asking_again_emails_another(felix):
    for key in ("d" * 32, "d" * 32, "e" * 32):
        ask_password_reset(Client(), "felix@example.com", submission_key=key)

    assert [email.subject for email in emails_to("felix@example.com")] == ["Reset your Contracts portal password"] * 2


def test_a_signed_in_person_changes_their_password_with_the_current_one_and_is_emailed(felix):
    browser = Client()
    browser.force_login(felix)

    wrong = browser.post(
        reverse("account_change_password"),
        {"oldpassword": "not-it", "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
    )
    right = browser.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
    )

    assert "Type your current password." in wrong.context["form"].errors["oldpassword"]
    assert right.status_code == 302
    assert is_signed_in(browser)  # still signed in here
    felix.refresh_from_db()
    assert felix.check_password(STRONG_PASSWORD)
    assert the_email_to("felix@example.com").subject == "Your Contracts portal password was changed"


def test_a_weak_password_is_refused_when_changing_it(felix):
    browser = Client()
    browser.force_login(felix)

    response = browser.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": "12345678901", "password2": "12345678901"},
    )

    assert "This password is entirely numeric." in response.context["form"].errors["password1"]
    felix.refresh_from_db()
    assert felix.check_password(PASSWORD)
    assert emails_to("felix@example.com") == []

"""Throttling of the account forms (issue 14, "Accounts"): sign-up and password reset
are throttled like sign-in, with a 429 page that says which limit was reached and when
it lifts, the form ready for later, and nothing stored; it never tells whether an
address is registered. Sign-in counts failures per account whether the person types
its username or its e-mail address."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from contracts.models import OutgoingEmail
from tests.factories import UserFactory
from tests.fixtures.accounts import ask_password_reset, emails_to, sign_up
from tests.fixtures.pages import is_signed_in, post_sign_in, text

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)
SIGN_UPS = django_settings.SIGN_UP_LIMIT_PER_ADDRESS
RESETS_PER_ADDRESS = django_settings.PASSWORD_RESET_LIMIT_PER_ADDRESS
RESETS_PER_EMAIL = django_settings.PASSWORD_RESET_LIMIT_PER_EMAIL
OFFICE = "203.0.113.9"
ELSEWHERE = "198.51.100.7"


def test_the_limits_are_the_policy():
    assert (SIGN_UPS, RESETS_PER_ADDRESS, RESETS_PER_EMAIL) == (10, 10, 3)
    assert django_settings.AXES_COOLOFF_TIME == WINDOW


def test_sign_ups_from_one_address_are_refused_after_the_limit_with_the_time_they_resume(account_limits_on):
    with time_machine.travel(T0, tick=False):
        answers = [
            sign_up(Client(REMOTE_ADDR=OFFICE), f"user{n}", f"user{n}@example.com").status_code for n in range(SIGN_UPS)
        ]
    accounts = get_user_model().objects.count()
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        refused = sign_up(Client(REMOTE_ADDR=OFFICE), "late", "late@example.com")
        elsewhere = sign_up(Client(REMOTE_ADDR=ELSEWHERE), "other", "other@example.com")

    assert answers == [302] * SIGN_UPS
    assert refused.status_code == 429
    page = text(refused)
    assert "Too many sign-ups from your network" in page
    assert "You can try again at 09:15 UTC, in 10 minutes." in page
    assert 'name="username"' in refused.content.decode()  # the form, ready for later
    assert get_user_model().objects.count() == accounts + 1  # only the one from elsewhere
    assert not emails_to("late@example.com")
    assert elsewhere.status_code == 302


def test_sign_ups_resume_once_the_window_has_passed(account_limits_on):
    with time_machine.travel(T0, tick=False):
        for n in range(SIGN_UPS):
            sign_up(Client(REMOTE_ADDR=OFFICE), f"user{n}", "not-an-address")  # refused forms count too
    with time_machine.travel(T0 + WINDOW - timedelta(seconds=1), tick=False):
        still = sign_up(Client(REMOTE_ADDR=OFFICE), "late", "late@example.com")
    with time_machine.travel(T0 + WINDOW + timedelta(seconds=1), tick=False):
        later = sign_up(Client(REMOTE_ADDR=OFFICE), "late", "late@example.com")

    assert still.status_code == 429
    assert later.status_code == 302
    assert get_user_model().objects.filter(username="late").exists()


def test_reset_emails_to_one_address_are_refused_after_the_limit_alike_for_registered_and_unknown(
    account_limits_on,
):
    UserFactory(username="felix", email="felix@example.com")
    pages = {}
    with time_machine.travel(T0, tick=False):
        for address in ("felix@example.com", "nobody@example.com"):
            answers = [ask_password_reset(Client(), address).status_code for _ in range(RESETS_PER_EMAIL)]
            assert answers == [302] * RESETS_PER_EMAIL
            refused = ask_password_reset(Client(), address)
            assert refused.status_code == 429
            pages[address] = text(refused).replace(address, "ADDRESS")

    assert pages["felix@example.com"] == pages["nobody@example.com"]
    assert "Too many password reset e-mails asked for this address" in pages["felix@example.com"]
    assert "You can try again at 09:15 UTC, in 15 minutes." in pages["felix@example.com"]
    assert len(emails_to("felix@example.com")) == len(emails_to("nobody@example.com")) == RESETS_PER_EMAIL


def test_reset_requests_from_one_network_are_refused_after_the_limit(account_limits_on):
    with time_machine.travel(T0, tick=False):
        answers = [
            ask_password_reset(Client(REMOTE_ADDR=OFFICE), f"person{n}@example.com").status_code
            for n in range(RESETS_PER_ADDRESS)
        ]
        sent = OutgoingEmail.objects.count()
        refused = ask_password_reset(Client(REMOTE_ADDR=OFFICE), "one-more@example.com")
        elsewhere = ask_password_reset(Client(REMOTE_ADDR=ELSEWHERE), "one-more@example.com")

    assert answers == [302] * RESETS_PER_ADDRESS
    assert refused.status_code == 429
    assert "Too many password reset requests from your network" in text(refused)
    assert 'value="one-more@example.com"' in refused.content.decode()
    assert elsewhere.status_code == 302
    assert OutgoingEmail.objects.count() == sent + 1  # the one from elsewhere


def test_sign_in_failures_by_username_and_by_email_address_count_together(axes_on):
    UserFactory(username="felix", email="felix@example.com")
    attacker = Client(REMOTE_ADDR=OFFICE)
    limit = django_settings.SIGN_IN_FAILURE_LIMIT_PER_USERNAME
    with time_machine.travel(T0, tick=False):
        answers = [
            post_sign_in(attacker, login, "guess").status_code
            for login in ["felix", "felix@example.com", "FELIX@example.com", "felix", "felix@example.com"][:limit]
        ]
        right_by_email = post_sign_in(Client(REMOTE_ADDR=OFFICE), "felix@example.com")

    assert answers == [200] * (limit - 1) + [429]
    assert right_by_email.status_code == 429
    page = right_by_email.content.decode()
    assert "Too many failed sign-ins to this account" in page
    assert 'value="felix@example.com"' in page and 'value="felix"' not in page  # what was typed, nothing more
    assert not is_signed_in(attacker)


def test_failures_with_an_unknown_address_do_not_lock_a_registered_account(axes_on):
    UserFactory(username="felix", email="felix@example.com")
    attacker = Client(REMOTE_ADDR=OFFICE)
    for _ in range(django_settings.SIGN_IN_FAILURE_LIMIT_PER_USERNAME):
        post_sign_in(attacker, "nobody@example.com", "guess")

    assert post_sign_in(Client(REMOTE_ADDR=OFFICE), "felix@example.com").status_code == 302


def test_other_account_forms_sent_too_often_get_the_429_page_with_when_it_lifts(account_limits_on):
    browser = Client()
    browser.force_login(UserFactory(username="felix"))
    wrong = {"oldpassword": "not-it", "password1": "x", "password2": "x"}
    with time_machine.travel(T0, tick=False):
        answers = [browser.post(reverse("account_change_password"), wrong).status_code for _ in range(5)]
        refused = browser.post(reverse("account_change_password"), wrong)

    assert answers == [200] * 5
    assert refused.status_code == 429
    assert "Too many requests in a short time" in text(refused)
    assert "You can try again at 09:01 UTC, in 1 minute." in text(refused)

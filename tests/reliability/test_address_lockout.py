"""Address-wide sign-in throttling (issue 12, defect 8): besides the limit per username
and address, failures from one address count together, so one password sprayed over
many usernames is refused once the (higher) address limit is reached; the lockout page
says which limit was reached and when it lifts (contracts/throttling.py)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from tests.fixtures.pages import is_signed_in, post_sign_in

PER_USERNAME = django_settings.SIGN_IN_FAILURE_LIMIT_PER_USERNAME
PER_ADDRESS = django_settings.SIGN_IN_FAILURE_LIMIT_PER_ADDRESS
COOL_OFF = django_settings.AXES_COOLOFF_TIME
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
OFFICE = "203.0.113.9"
ELSEWHERE = "198.51.100.7"
ADDRESS_BLOCKED = "Too many failed sign-ins from your network: signing in to any account from it is blocked"
USERNAME_BLOCKED = "Too many failed sign-ins to this account: signing in to it from your network is blocked"


def spray(browser: Client, count: int, *, first: int = 0, password: str = "Summer2026!") -> list[int]:
    """One password tried on ``count`` different usernames: the status of each answer."""
    return [post_sign_in(browser, f"user{number}", password).status_code for number in range(first, first + count)]


def test_the_address_limit_is_higher_than_the_per_username_one():
    assert PER_USERNAME == 5
    assert PER_ADDRESS == 30
    assert django_settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"], "ip_address"]


@pytest.mark.django_db
def test_spraying_one_password_over_many_usernames_is_refused_at_the_address_limit_even_for_a_right_password(
    axes_on,
):
    UserFactory(username="fresh")
    attacker = Client(REMOTE_ADDR=OFFICE)
    with time_machine.travel(T0, tick=False):
        answers = spray(attacker, PER_ADDRESS)
        right_password = post_sign_in(Client(REMOTE_ADDR=OFFICE), "fresh")

    assert answers == [200] * (PER_ADDRESS - 1) + [429]  # the failure that reaches the limit is refused already
    assert right_password.status_code == 429
    page = right_password.content.decode()
    assert ADDRESS_BLOCKED in page
    assert "even with the right password" in page
    assert f"You can try again at {(T0 + COOL_OFF):%H:%M} UTC, in 15 minutes." in page
    assert USERNAME_BLOCKED not in page
    assert 'value="fresh"' in page  # the sign-in form, ready for later


@pytest.mark.django_db
def test_an_address_lockout_does_not_affect_sign_ins_from_another_address(axes_on):
    UserFactory(username="fresh")
    spray(Client(REMOTE_ADDR=OFFICE), PER_ADDRESS)

    elsewhere = Client(REMOTE_ADDR=ELSEWHERE)
    response = post_sign_in(elsewhere, "fresh")

    assert response.status_code == 302
    assert is_signed_in(elsewhere)
    assert post_sign_in(Client(REMOTE_ADDR=OFFICE), "fresh").status_code == 429


@pytest.mark.django_db
def test_failures_below_the_address_limit_from_a_shared_address_lock_no_one_else_out(axes_on):
    UserFactory(username="clara")
    office = Client(REMOTE_ADDR=OFFICE)
    assert spray(office, PER_ADDRESS - 1) == [200] * (PER_ADDRESS - 1)

    colleague = Client(REMOTE_ADDR=OFFICE)
    assert post_sign_in(colleague, "clara").status_code == 302
    assert is_signed_in(colleague)


@pytest.mark.django_db
def test_the_per_username_limit_still_locks_one_username_first_and_says_so(axes_on):
    UserFactory(username="felix")
    UserFactory(username="clara")
    attacker = Client(REMOTE_ADDR=OFFICE)
    with time_machine.travel(T0, tick=False):
        answers = [post_sign_in(attacker, "felix", "guess").status_code for _ in range(PER_USERNAME)]
        right_password = post_sign_in(attacker, "felix")
        colleague = post_sign_in(Client(REMOTE_ADDR=OFFICE), "clara")

    assert answers == [200] * (PER_USERNAME - 1) + [429]
    assert right_password.status_code == 429
    page = right_password.content.decode()
    assert USERNAME_BLOCKED in page and ADDRESS_BLOCKED not in page
    assert f"You can try again at {(T0 + COOL_OFF):%H:%M} UTC, in 15 minutes." in page
    assert colleague.status_code == 302  # 5 failures are far below the address limit


@pytest.mark.django_db
def test_the_address_lock_lifts_after_the_cool_off(axes_on):
    UserFactory(username="fresh")
    with time_machine.travel(T0, tick=False):
        spray(Client(REMOTE_ADDR=OFFICE), PER_ADDRESS)
    with time_machine.travel(T0 + COOL_OFF - timedelta(minutes=1), tick=False):
        still_locked = post_sign_in(Client(REMOTE_ADDR=OFFICE), "fresh")  # does not extend the lock
    with time_machine.travel(T0 + COOL_OFF + timedelta(seconds=1), tick=False):
        browser = Client(REMOTE_ADDR=OFFICE)
        response = post_sign_in(browser, "fresh")

    assert still_locked.status_code == 429
    assert "You can try again at 09:15 UTC, in 1 minute." in still_locked.content.decode()
    assert response.status_code == 302
    assert is_signed_in(browser)


@pytest.mark.django_db
def test_the_address_lock_lifts_when_the_failure_that_reached_the_limit_ages_out_and_the_page_says_when(axes_on):
    UserFactory(username="fresh")
    attacker = Client(REMOTE_ADDR=OFFICE)
    with time_machine.travel(T0, tick=False):
        spray(attacker, 1)
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        answers = spray(attacker, PER_ADDRESS - 1, first=1)
        refused = post_sign_in(Client(REMOTE_ADDR=OFFICE), "fresh")
    with time_machine.travel(T0 + COOL_OFF + timedelta(seconds=1), tick=False):
        browser = Client(REMOTE_ADDR=OFFICE)
        response = post_sign_in(browser, "fresh")

    assert answers[-1] == 429
    assert "You can try again at 09:15 UTC, in 5 minutes." in refused.content.decode()
    assert response.status_code == 302  # 29 failures of 09:10 are left: below the limit
    assert is_signed_in(browser)


@pytest.mark.django_db
def test_signing_in_to_an_own_account_between_guesses_does_not_reset_the_address_count(axes_on):
    UserFactory(username="mallory")
    UserFactory(username="fresh")
    attacker = Client(REMOTE_ADDR=OFFICE)
    spray(attacker, PER_ADDRESS - 1)
    assert post_sign_in(attacker, "mallory").status_code == 302
    attacker.post(reverse("logout"))

    assert spray(attacker, 1, first=PER_ADDRESS) == [429]
    assert post_sign_in(Client(REMOTE_ADDR=OFFICE), "fresh").status_code == 429


@pytest.mark.django_db
def test_a_colleague_signing_in_does_not_reset_another_username_count_from_the_same_address(axes_on):
    UserFactory(username="felix")
    UserFactory(username="clara")
    attacker = Client(REMOTE_ADDR=OFFICE)
    for _ in range(PER_USERNAME - 1):
        post_sign_in(attacker, "felix", "guess")
    assert post_sign_in(Client(REMOTE_ADDR=OFFICE), "clara").status_code == 302

    assert post_sign_in(attacker, "felix", "guess").status_code == 429


@pytest.mark.django_db
def test_when_both_limits_hold_the_page_names_the_network_and_the_later_end(axes_on):
    UserFactory(username="felix")
    attacker = Client(REMOTE_ADDR=OFFICE)
    with time_machine.travel(T0, tick=False):
        spray(attacker, PER_ADDRESS - PER_USERNAME)
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        answers = [post_sign_in(attacker, "felix", "guess").status_code for _ in range(PER_USERNAME)]
        page = post_sign_in(attacker, "felix").content.decode()

    assert answers[-1] == 429
    assert ADDRESS_BLOCKED in page
    # The address lock ends at 09:15; felix's own failures, all at 09:05, keep him out until 09:20.
    assert "You can try again at 09:20 UTC, in 15 minutes." in page

"""Signing up (issue 14, "Accounts"): a username, an e-mail address and a password make
an account at once and e-mail a link, through the portal's outbox, that verifies the
address; the link expires and works once. Signing up never tells whether an address
is registered: an address in use gets the same answer, stores nothing, and its owner
is e-mailed. A taken username or a weak password is refused at its field, storing
nothing. An unverified account may sign in (it may not send offers)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from accounts.verification import email_is_verified
from contracts.account_adapter import PortalAccountAdapter
from contracts.models import OutgoingEmail
from tests.factories import UserFactory
from tests.fixtures.accounts import STRONG_PASSWORD, emails_to, link_to, sign_up, the_email_to
from tests.fixtures.pages import browser_for, is_signed_in, messages_of, post_sign_in, text
from tests.fixtures.people import verified

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LINK_DAYS = django_settings.EMAIL_VERIFICATION_LINK_DAYS
BASE = "https://portal.example"
CONFIRM = "/accounts/confirm-email/"
REFUSED_LINK = "This verification link has expired or was already used."


@pytest.fixture(autouse=True)
def portal_base_url(settings):
    settings.PORTAL_BASE_URL = BASE


def stored() -> tuple[int, int, int]:
    """Accounts, e-mail addresses and e-mails recorded."""
    return get_user_model().objects.count(), EmailAddress.objects.count(), OutgoingEmail.objects.count()


def signed_up_nora(browser: Client | None = None):
    with time_machine.travel(T0, tick=False):
        response = sign_up(browser or Client(), "nora", "Nora@Example.com")
    return response, get_user_model().objects.get(username="nora")


def test_sign_up_makes_the_account_and_emails_a_verification_link_without_signing_in():
    browser = Client()
    response, nora = signed_up_nora(browser)

    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert not is_signed_in(browser)
    assert nora.email == "nora@example.com" and nora.check_password(STRONG_PASSWORD)
    assert not email_is_verified(nora)
    email = the_email_to("nora@example.com")
    assert email.subject == "Verify your e-mail address for the Contracts portal"
    assert "Hello nora," in email.body_text
    assert f"The link works for {LINK_DAYS} days, once." in email.body_text
    assert link_to(email, CONFIRM).startswith(CONFIRM)
    page = text(browser.get(response.url))
    assert "Check your inbox" in page and f"within {LINK_DAYS} days" in page


def test_the_links_of_the_email_point_at_the_portal_address_never_at_the_host_asked():
    with time_machine.travel(T0, tick=False):
        sign_up(Client(HTTP_HOST="localhost"), "nora", "nora@example.com")

    email = the_email_to("nora@example.com")
    assert f"{BASE}{CONFIRM}" in email.body_text
    assert "localhost" not in email.body_text and "localhost" not in email.body_html


def test_following_the_link_and_confirming_verifies_the_address():
    _, nora = signed_up_nora()
    path = link_to(the_email_to("nora@example.com"), CONFIRM)
    reader = Client()

    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        page = reader.get(path)
        assert not email_is_verified(nora)  # opening the link alone (a mail scanner) verifies nothing
        response = reader.post(path, follow=True)

    assert "Yes, verify nora@example.com" in text(page)
    assert email_is_verified(nora)
    assert response.redirect_chain[-1][0] == reverse("login")
    assert "nora@example.com is verified. Sign in to go on." in messages_of(response)


def test_a_link_is_refused_clearly_once_it_expired_and_verifies_nothing():
    _, nora = signed_up_nora()
    path = link_to(the_email_to("nora@example.com"), CONFIRM)

    with time_machine.travel(T0 + timedelta(days=LINK_DAYS, seconds=1), tick=False):
        page = Client().get(path)
        posted = Client().post(path)

    assert page.status_code == 200
    assert REFUSED_LINK in text(page)
    assert posted.status_code == 404
    assert not email_is_verified(nora)


def test_a_link_still_works_just_before_it_expires():
    _, nora = signed_up_nora()
    path = link_to(the_email_to("nora@example.com"), CONFIRM)

    with time_machine.travel(T0 + timedelta(days=LINK_DAYS, seconds=-1), tick=False):
        Client().post(path)

    assert email_is_verified(nora)


def test_a_link_used_once_is_refused_clearly_the_second_time():
    signed_up_nora()
    path = link_to(the_email_to("nora@example.com"), CONFIRM)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        Client().post(path)
        again = Client().get(path)

    assert REFUSED_LINK in text(again)
    assert "Yes, verify" not in text(again)


def test_signing_up_with_a_registered_address_answers_alike_stores_nothing_and_tells_its_owner():
    owner = UserFactory(username="felix", email="felix@example.com")
    before = get_user_model().objects.count(), EmailAddress.objects.count()
    new_visitor, known_visitor = Client(), Client()

    with time_machine.travel(T0, tick=False):
        new = sign_up(new_visitor, "newcomer", "newcomer@example.com")
        known = sign_up(known_visitor, "mallory", "FELIX@example.com")

    assert known.status_code == new.status_code == 302
    assert known.url == new.url
    # The same page; its message names the address the visitor typed.
    assert text(known_visitor.get(known.url)).replace("felix@example.com", "ADDRESS") == text(
        new_visitor.get(new.url)
    ).replace("newcomer@example.com", "ADDRESS")
    assert not get_user_model().objects.filter(username="mallory").exists()
    assert (get_user_model().objects.count(), EmailAddress.objects.count()) == (before[0] + 1, before[1] + 1)
    told = the_email_to("felix@example.com")
    assert told.subject == "You already have a Contracts portal account"
    assert "no new account was made" in told.body_text
    assert f"{BASE}{reverse('account_reset_password')}" in told.body_text
    assert owner.check_password("correct-horse-battery")  # nothing about the account changed


def test_a_taken_username_is_refused_at_its_field_storing_nothing():
    UserFactory(username="felix")
    before = stored()

    response = sign_up(Client(), "Felix", "someone@example.com")

    assert response.status_code == 200
    assert "This username is taken: choose another." in response.context["form"].errors["username"]
    assert stored() == before


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("Tk9!x", "This password is too short. It must contain at least 8 characters."),
        ("password123", "This password is too common."),
        ("83749265019", "This password is entirely numeric."),
        ("nora.example", "The password is too similar to the"),
    ],
)
def test_a_weak_password_is_refused_at_its_field_storing_nothing(password, why):
    before = stored()

    response = sign_up(Client(), "nora.example", "nora@example.com", password)

    assert response.status_code == 200
    assert any(why in error for error in response.context["form"].errors["password1"]), response.context[
        "form"
    ].errors
    assert 'role="alert"' in response.content.decode()
    assert stored() == before


@pytest.mark.parametrize(
    ("username", "why"),
    [
        ("ab", "Ensure this value has at least 3 characters"),
        ("nora@example.com", "Use letters, digits, dots, hyphens and underscores only"),
        ("nora smith", "Use letters, digits, dots, hyphens and underscores only"),
        ("admin", "This username is reserved: choose another."),
    ],
)
def test_a_username_that_cannot_be_public_is_refused_at_its_field(username, why):
    before = stored()

    response = sign_up(Client(), username, "nora@example.com")

    assert any(why in error for error in response.context["form"].errors["username"])
    assert stored() == before


def test_mismatched_passwords_are_refused_at_the_second_field():
    response = Client().post(
        reverse("account_signup"),
        {"username": "nora", "email": "nora@example.com", "password1": STRONG_PASSWORD, "password2": "other"},
    )

    assert "You must type the same password each time." in response.context["form"].errors["password2"]
    assert not get_user_model().objects.filter(username="nora").exists()


def test_an_unverified_account_may_sign_in_and_is_reminded_to_verify():
    signed_up_nora()
    browser = Client()

    response = post_sign_in(browser, "nora", STRONG_PASSWORD, follow=True)

    assert is_signed_in(browser)
    assert any("Your e-mail address is not verified yet" in message for message in messages_of(response))


def test_an_account_signs_in_with_its_email_address_too():
    _, nora = signed_up_nora()
    Client().post(link_to(the_email_to("nora@example.com"), CONFIRM))
    browser = Client()

    response = post_sign_in(browser, "NORA@example.com", STRONG_PASSWORD)

    assert response.status_code == 302 and response.url == reverse("home")
    assert browser.session["_auth_user_id"] == str(nora.pk)


def test_a_double_click_on_sign_up_makes_one_account_and_sends_one_email():
    browser = Client()
    first = sign_up(browser, "nora", "nora@example.com", submission_key="a" * 32)
    second = sign_up(browser, "nora", "nora@example.com", submission_key="a" * 32)

    assert first.status_code == 302
    assert second.status_code == 200  # the username is taken by now: the form says so
    assert get_user_model().objects.filter(username="nora").count() == 1
    assert len(emails_to("nora@example.com")) == 1


def test_a_double_click_with_a_registered_address_emails_its_owner_once_and_asking_again_once_more():
    UserFactory(username="felix", email="felix@example.com")

    for key in ("b" * 32, "b" * 32, "c" * 32):
        sign_up(Client(), "mallory", "felix@example.com", submission_key=key)

    assert [email.subject for email in emails_to("felix@example.com")] == [
        "You already have a Contracts portal account"
    ] * 2


def test_a_new_link_can_be_sent_from_the_email_page_and_both_links_work():
    _, nora = signed_up_nora()
    browser = Client()
    browser.force_login(nora)

    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        response = browser.post(reverse("account_email"), {"email": "nora@example.com", "action_send": ""})

    assert response.status_code == 302
    first, second = emails_to("nora@example.com")
    assert second.subject == "Verify your e-mail address for the Contracts portal"
    assert link_to(first, CONFIRM) != link_to(second, CONFIRM)
    with time_machine.travel(T0 + timedelta(days=1, hours=1), tick=False):
        Client().post(link_to(first, CONFIRM))
    assert email_is_verified(nora)


def test_the_sign_up_page_is_labelled_and_links_to_sign_in():
    page = Client().get(reverse("account_signup"))

    html = page.content.decode()
    for field, label in (("username", "Username"), ("email", "E-mail address"), ("password1", "Password")):
        assert f'<label for="id_{field}">{label}</label>' in html
    assert f'href="{reverse("login")}"' in html
    assert 'name="submission_key"' in html


def test_changing_the_address_verifies_the_new_one_before_it_replaces_the_old_and_tells_the_old_one(felix):
    verified(felix)
    browser = browser_for(felix)

    with time_machine.travel(T0, tick=False):
        asked = browser.post(
            reverse("account_email"), {"email": "felix.new@example.com", "action_add": ""}, follow=True
        )
    felix.refresh_from_db()
    assert felix.email == "felix@example.com" and email_is_verified(felix)  # until the new one is verified
    assert "Waiting for verification: felix.new@example.com" in text(asked)
    link = link_to(the_email_to("felix.new@example.com"), CONFIRM)
    with time_machine.travel(T0 + timedelta(minutes=3), tick=False):
        Client().post(link)

    felix.refresh_from_db()
    assert felix.email == "felix.new@example.com" and email_is_verified(felix)
    assert list(EmailAddress.objects.filter(user=felix).values_list("email", flat=True)) == ["felix.new@example.com"]
    told = the_email_to("felix@example.com")
    assert told.subject == "Your Contracts portal e-mail address was changed"
    assert told.body_text.startswith("Hello Felix Freelancer,")
    assert "changed from felix@example.com to felix.new@example.com" in told.body_text


def test_two_sign_ups_of_one_username_at_once_make_one_account_and_tell_the_second(monkeypatch):
    """Both passed the "is it taken?" check before either was stored (a double click):
    the database refuses the second, which is told so, never a server error."""
    first = sign_up(Client(), "nora", "nora@example.com")
    monkeypatch.setattr(PortalAccountAdapter, "clean_username", lambda self, username, shallow=False: username)
    before = stored()

    second = sign_up(Client(), "nora", "nora.again@example.com")

    assert first.status_code == 302
    assert second.status_code == 400
    assert "This username was taken a moment ago: choose another." in text(second)
    assert stored() == before

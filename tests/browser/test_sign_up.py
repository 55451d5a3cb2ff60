"""In Chromium, with no demo data: a visitor signs up, follows the link e-mailed to
verify their address, signs in with it, and sets how they are named (issue 14)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from playwright.sync_api import expect

from accounts.verification import email_is_verified
from contracts.models import OutgoingEmail
from tests.fixtures.accounts import STRONG_PASSWORD
from tests.fixtures.browser import success

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_visitor_signs_up_verifies_the_address_from_the_email_and_signs_in(page, live_server, settings):
    settings.PORTAL_BASE_URL = live_server.url
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Username").fill("nora")
    page.get_by_label("E-mail address").fill("nora@example.com")
    page.get_by_label("Password", exact=True).fill(STRONG_PASSWORD)
    page.get_by_label("Password (again)").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)  # not signed in yet
    recorded = OutgoingEmail.objects.get(to="nora@example.com")
    (delivered,) = [message for message in mail.outbox if message.to == ["nora@example.com"]]
    assert delivered.subject == recorded.subject == "Verify your e-mail address for the Contracts portal"
    link = re.search(rf"{re.escape(live_server.url)}/accounts/confirm-email/\S+/", delivered.body).group(0)

    page.goto(link)
    page.get_by_role("button", name="Yes, verify nora@example.com").click()
    success(page, "nora@example.com is verified. Sign in to go on.")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    page.get_by_label("Username or e-mail address").fill("nora@example.com")
    page.get_by_label("Password", exact=True).fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert email_is_verified(get_user_model().objects.get(username="nora"))

    page.get_by_role("link", name="Settings").click()
    expect(page.locator("#account")).to_contain_text("nora@example.com Verified")
    page.get_by_label("Display name").fill("Nora N.")
    page.get_by_label("Headline").fill("Illustrator, children's books")
    page.get_by_role("button", name="Update profile").click()
    success(page, "Profile saved")
    expect(page.locator(".site-header .who")).to_have_text("Nora N.")
    page.goto(f"{live_server.url}/people/nora/")
    expect(page.get_by_role("heading", name="Nora N.")).to_be_visible()
    expect(page.locator("#headline")).to_have_text("Illustrator, children's books")


def test_a_wrong_password_is_refused_at_sign_in_and_the_reset_page_is_one_click_away(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username or e-mail address").fill("nobody")
    page.get_by_label("Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text(
        "Please enter a correct username or e-mail address and password."
    )
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()

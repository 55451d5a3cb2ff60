"""In the browser: the home page outside demo mode (no demo logins, still a way to sign
in), and the sign-in page of an address locked out by password spraying."""

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from contracts.demo import DEMO_PASSWORD
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_outside_demo_mode_the_home_page_lists_no_demo_logins_and_sign_in_is_one_click(page, live_server, settings):
    settings.PORTAL_DEMO_MODE = False
    page.goto(live_server.url)

    expect(page.get_by_role("heading", name="Contracts portal")).to_be_visible()
    expect(page.get_by_role("heading", name="Demo accounts")).to_have_count(0)
    expect(page.locator("table.demo-logins")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text(DEMO_PASSWORD)
    page.locator("main").get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_after_password_spraying_from_this_address_the_right_password_is_refused_with_the_network_message(
    page, live_server, settings
):
    settings.AXES_ENABLED = True
    UserFactory(username="fresh")
    sprayer = Client(REMOTE_ADDR="127.0.0.1")  # the browser's address on the live server
    for number in range(django_settings.SIGN_IN_FAILURE_LIMIT_PER_ADDRESS):
        sprayer.post(reverse("login"), {"login": f"user{number}", "password": "Summer2026!"})

    page.goto(f"{live_server.url}{reverse('login')}")
    page.get_by_label("Username").fill("fresh")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Too many failed sign-ins from your network")
    expect(alert).to_contain_text("even with the right password")
    expect(alert).to_contain_text("You can try again at")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

"""A browser east of UTC: its zone is taken as the person's on their first signed-in
page, the diary accepts their own today while UTC is still yesterday, and the settings
page changes the zone."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from playwright.sync_api import expect

from accounts.models import Profile
from contracts.models import DiaryEntry
from tests.factories import HourlyContractFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Monday 19:00 UTC is Tuesday 08:00 in Auckland (NZDT, UTC+13).
AUCKLAND_TUESDAY_MORNING = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)
TUESDAY = date(2026, 12, 1)


def test_a_browser_in_auckland_records_time_for_its_own_today_while_utc_is_still_yesterday(browser, live_server):
    context = browser.new_context(timezone_id="Pacific/Auckland", locale="en-NZ")
    try:
        with time_machine.travel(AUCKLAND_TUESDAY_MORNING, tick=True):
            freelancer = UserFactory(username="aroha")
            contract = HourlyContractFactory(
                freelancer=freelancer, title="Mobile app", started_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
            )

            page = context.new_page()
            page.goto(f"{live_server.url}/accounts/login/")
            page.get_by_label("Username").fill("aroha")
            page.get_by_label("Password").fill("correct-horse-battery")
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("button", name="Sign out")).to_be_visible()
            assert Profile.objects.get(user=freelancer).time_zone == "Pacific/Auckland"

            page.goto(f"{live_server.url}/contracts/{contract.pk}/diary/")
            expect(page.get_by_label("Date")).to_have_value("2026-12-01")
            expect(page.locator("#billing-week")).to_contain_text(
                "Billing week: Mon Nov 30 (00:00 UTC) – Sun Dec 6 (23:59 UTC)"
            )
            page.get_by_label("Hours").fill("1")
            page.get_by_label("Minutes").fill("30")
            page.get_by_label("What did you work on?").fill("Morning standup and release notes")
            page.get_by_role("button", name="Add time").click()

            expect(page.get_by_role("status").filter(has_text="Time recorded.")).to_be_visible()
            expect(page.locator("table.diary")).to_contain_text("Tue Dec 1, 2026")
            entry = DiaryEntry.objects.get(contract=contract)
            assert (entry.work_date, entry.minutes) == (TUESDAY, 90)

            page.get_by_role("link", name="Settings").click()
            expect(page.get_by_label("Time zone")).to_have_value("Pacific/Auckland")
            expect(page.get_by_text("it is Dec 1, 2026 08:")).to_contain_text("NZDT there")
            page.get_by_label("Time zone").select_option("Europe/Paris")
            page.get_by_role("button", name="Save").click()

            expect(page.get_by_role("status").filter(has_text="Time zone saved")).to_contain_text(
                "times are now shown in Europe/Paris"
            )
            expect(page.get_by_label("Time zone")).to_have_value("Europe/Paris")
            # The browser still reports Auckland: the stored choice wins, and the page says so.
            expect(page.get_by_text("Your browser is set to Pacific/Auckland")).to_be_visible()
            assert Profile.objects.get(user=freelancer).time_zone == "Europe/Paris"
    finally:
        context.close()

"""The whole life of a contract in Chromium, with no demo data at all (issue 14):
two people sign up and verify their e-mails; the client sends an offer; the
freelancer reads its terms and accepts; work is done and paid; the contract ends and
both leave feedback. Once for a fixed-price offer with two milestones and a notice
period, once for an hourly offer whose time is billed on Monday and at the end."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from playwright.sync_api import expect

from billing.models import Invoice, Payment
from billing.selectors import escrow_held_cents
from contracts.models import Contract, ContractState, EndKind, Feedback, MilestoneState
from contracts.tasks import schedule_weekly_invoices_task, sweep_scheduled_work
from offers.models import Offer, OfferState
from tests.fixtures.accounts import STRONG_PASSWORD
from tests.fixtures.browser import submit_sign_in, success

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLIENT_RATINGS = ("Skills", "Quality of work", "Availability", "Adherence to deadlines", "Communication", "Cooperation")
FREELANCER_RATINGS = ("Clarity of requirements", "Communication", "Payment promptness", "Cooperation", "Availability")


def sign_up_and_verify(page, live_server, username: str, display_name: str) -> None:
    """Sign up on the portal, open the link e-mailed to verify the address, verify it."""
    email = f"{username}@example.com"
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(STRONG_PASSWORD)
    page.get_by_label("Password (again)").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    (message,) = [sent for sent in mail.outbox if sent.to == [email]]
    page.goto(re.search(rf"{re.escape(live_server.url)}/accounts/confirm-email/\S+/", message.body).group(0))
    page.get_by_role("button", name=f"Yes, verify {email}").click()
    success(page, f"{email} is verified")
    sign_in(page, live_server, username)
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Display name").fill(display_name)
    page.get_by_role("button", name="Update profile").click()
    success(page, "Profile saved")


def sign_in(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    submit_sign_in(page, live_server, username, STRONG_PASSWORD)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def open_contract(page, title: str, *, tab: str = "Active") -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My Jobs").click()
    page.get_by_role("link", name=re.compile(rf"^{tab} \(")).click()
    page.locator("table.jobs").get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()


def leave_feedback(page, criteria, comment: str) -> None:
    page.locator("#feedback").get_by_role("link", name="Leave feedback").click()
    for criterion in criteria:
        page.get_by_role("radiogroup", name=criterion, exact=True).get_by_role("radio", name="5", exact=True).click()
    page.get_by_label("Public comment").fill(comment)
    page.get_by_label("Job completed successfully").check()
    page.get_by_label("How likely are you to recommend them").select_option("9")
    page.get_by_role("button", name="Submit feedback").click()


def send_offer(page, *, title: str, fill_terms) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My Jobs").click()
    page.get_by_role("link", name="Send an offer").click()
    page.get_by_label("Freelancer: username or e-mail address").fill("felix")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Description of the work").fill(f"{title}, as discussed.")
    fill_terms()
    page.get_by_role("button", name="Send the offer").click()
    success(page, f"Your offer “{title}” is sent")


def accept_offer(page, title: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My Jobs").click()
    page.locator("#offers-waiting").get_by_role("link", name=title).click()
    page.get_by_role("button", name="Accept the offer").click()
    success(page, "You accepted the offer: the contract has started")


def test_a_fixed_price_contract_from_sign_up_to_feedback(page, live_server, settings):
    settings.PORTAL_BASE_URL = live_server.url
    sign_up_and_verify(page, live_server, "felix", "Felix Freelancer")
    sign_up_and_verify(page, live_server, "clara", "Clara Client")

    def fixed_terms():
        page.get_by_label("Fixed-price").check()
        page.locator("#milestone-row-1").get_by_label("Milestone").fill("Drafts")
        page.locator("#milestone-row-1").get_by_label("Amount").fill("300")
        page.get_by_role("button", name="Add a milestone").click()
        page.locator("#milestone-row-2").get_by_label("Milestone").fill("Final files")
        page.locator("#milestone-row-2").get_by_label("Amount").fill("200")
        page.get_by_label("Notice period in days").fill("14")

    send_offer(page, title="Brand identity", fill_terms=fixed_terms)

    sign_in(page, live_server, "felix")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My Jobs").click()
    page.locator("#offers-waiting").get_by_role("link", name="Brand identity").click()
    meaning = page.locator("#what-the-terms-mean")
    expect(meaning).to_contain_text("You can give 14 days' notice, and so can the client")
    expect(meaning).to_contain_text("on the $500.00 of these milestones you receive $450.00")
    page.get_by_role("button", name="Accept the offer").click()
    success(page, "You accepted the offer: the contract has started; its first milestone is funded: $300.00")
    contract = Contract.objects.get()
    drafts, final_files = contract.milestones.order_by("position")
    assert (contract.notice_days, escrow_held_cents(drafts), final_files.state) == (14, 300_00, MilestoneState.PENDING)

    # The freelancer submits the drafts; the client releases their payment.
    page.locator(f"#milestone-{drafts.pk}").get_by_label("Message to the client").fill("Three drafts attached.")
    page.locator(f"#milestone-{drafts.pk}").get_by_role("button", name="Submit work").click()
    success(page, "Work for “Drafts” is submitted")

    sign_in(page, live_server, "clara")
    open_contract(page, "Brand identity")
    row = page.locator(f"#milestone-{drafts.pk}")
    row.get_by_label("Amount to pay").fill("300")
    row.get_by_role("button", name="Release payment").click()
    page.locator("dialog[open]").get_by_role("button", name="Pay $300.00").click()
    success(page, "$300.00 paid to the freelancer for “Drafts”.")
    assert list(Payment.objects.values_list("amount_cents", flat=True)) == [300_00]

    # They agree to end: the client proposes, the freelancer accepts (no notice: no fault).
    page.locator("summary[aria-label='Contract options']").click()
    page.get_by_role("button", name="Propose ending by mutual agreement").click()
    success(page, "You proposed ending the contract by mutual agreement")

    sign_in(page, live_server, "felix")
    open_contract(page, "Brand identity")
    page.locator("#end-proposal").get_by_role("link", name="Review and accept").click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_contain_text("the contract ends now, with no fault on either side")
    dialog.get_by_label("Job completed successfully").check()
    dialog.get_by_role("button", name="Accept and end contract").click()
    success(page, "The contract has ended by mutual agreement")
    contract.refresh_from_db()
    assert (contract.state, contract.end_kind) == (ContractState.ENDED, EndKind.MUTUAL)
    final_files.refresh_from_db()
    assert final_files.state == MilestoneState.CANCELLED

    # Both leave feedback; once both have, each reads the other's.
    leave_feedback(page, FREELANCER_RATINGS, "Clear brief, paid at once.")
    sign_in(page, live_server, "clara")
    open_contract(page, "Brand identity", tab="Ended")
    leave_feedback(page, CLIENT_RATINGS, "Lovely drafts, on time.")
    expect(page.locator("#feedback")).to_contain_text("Clear brief, paid at once.")
    assert Feedback.objects.filter(contract=contract, revealed_at__isnull=False).count() == 2
    assert Offer.objects.get().state == OfferState.ACCEPTED
    assert get_user_model().objects.count() == 2


WEDNESDAY = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
NEXT_MONDAY_NOON = datetime(2026, 3, 9, 12, 5, tzinfo=UTC)


def record_time(page, day: str, hours: str, memo: str) -> None:
    page.get_by_role("link", name="Record time").click()
    page.get_by_label("Date").fill(day)
    page.get_by_label("Hours").fill(hours)
    page.get_by_label("Minutes").fill("0")
    page.get_by_label("What did you work on?").fill(memo)
    page.get_by_role("button", name="Add time").click()
    success(page, "recorded")


def test_an_hourly_contract_from_sign_up_to_feedback_billed_on_monday_and_at_the_end(page, live_server, settings):
    settings.PORTAL_BASE_URL = live_server.url
    with time_machine.travel(WEDNESDAY, tick=True):
        sign_up_and_verify(page, live_server, "felix", "Felix Freelancer")
        sign_up_and_verify(page, live_server, "clara", "Clara Client")

        def hourly_terms():
            page.get_by_role("radio", name="Hourly").check()
            page.get_by_label("Hourly rate").fill("50")
            page.get_by_label("Weekly limit in hours (empty: no limit)").fill("20")
            page.get_by_label("Notice period in days").fill("0")

        send_offer(page, title="Data pipeline", fill_terms=hourly_terms)
        sign_in(page, live_server, "felix")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="My Jobs").click()
        page.locator("#offers-waiting").get_by_role("link", name="Data pipeline").click()
        expect(page.locator("#what-the-terms-mean")).to_contain_text("Monday 12:00 UTC")
        page.get_by_role("button", name="Accept the offer").click()
        success(page, "You accepted the offer: the contract has started")
        contract = Contract.objects.get()
        assert (contract.hourly_rate_cents, contract.weekly_hour_limit) == (50_00, 20)
        record_time(page, "2026-03-04", "2", "Schema and loaders")

    # Monday noon UTC: last week's time is invoiced at the contract's rate.
    with time_machine.travel(NEXT_MONDAY_NOON, tick=True):
        schedule_weekly_invoices_task()
        sweep_scheduled_work()
        (weekly,) = Invoice.objects.filter(contract=contract)
        assert (weekly.minutes, weekly.amount_cents) == (120, 100_00)

        sign_in(page, live_server, "felix")
        open_contract(page, "Data pipeline")
        expect(page.locator("#invoices")).to_contain_text("$100.00")
        record_time(page, "2026-03-09", "1", "Monitoring")
        open_contract(page, "Data pipeline")

        # The freelancer ends it: the hour not yet invoiced is billed now.
        page.locator("summary[aria-label='Contract options']").click()
        page.get_by_role("link", name="End contract").click()
        dialog = page.locator("dialog[open]")
        expect(dialog.locator("#preview-hours")).to_contain_text("1:00 h")
        expect(dialog.locator("#preview-hours")).to_contain_text("$50.00")
        dialog.get_by_label("Job completed successfully").check()
        dialog.get_by_role("button", name="End contract").click()
        success(page, "The contract has ended.")
        assert sorted(Invoice.objects.filter(contract=contract).values_list("amount_cents", flat=True)) == [
            50_00,
            100_00,
        ]
        assert Contract.objects.get().state == ContractState.ENDED

        leave_feedback(page, FREELANCER_RATINGS, "Clear brief, paid at once.")
        sign_in(page, live_server, "clara")
        open_contract(page, "Data pipeline", tab="Ended")
        leave_feedback(page, CLIENT_RATINGS, "Solid pipeline.")
        expect(page.locator("#feedback")).to_contain_text("Clear brief, paid at once.")
        assert Feedback.objects.filter(contract=contract, revealed_at__isnull=False).count() == 2

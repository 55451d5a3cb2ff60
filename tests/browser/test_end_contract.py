"""Ending a contract in the browser: My Jobs → contract page → "Contract options" →
"End contract" opens a modal dialog with a preview of what ending does; without
JavaScript the same link is a page with the same form."""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import expect

from billing.models import Invoice, Payment
from billing.selectors import account_balance_cents, escrow_held_cents
from billing.services.ledger import client_funds_account
from contracts.models import ContractState, EscrowRefundRequest, MilestoneState
from tests.factories import (
    DiaryEntryFactory,
    FixedContractFactory,
    HourlyContractFactory,
    UserFactory,
)
from tests.fixtures.browser import sign_in
from tests.fixtures.contracts import funded

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS = Path(__file__).resolve().parents[2] / "docs"
FEES_WARNING = "Ending a contract to pay or be paid outside the portal, to avoid fees, breaks the terms of service"


def open_contract_from_my_jobs(page, title: str):
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My Jobs").click()
    page.locator("table.jobs").get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()


def open_end_dialog(page):
    """Open the options menu, click "End contract", and return the open modal dialog."""
    page.locator("summary[aria-label='Contract options']").click()
    page.get_by_role("link", name="End contract").click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_be_visible()
    assert dialog.evaluate("element => element.matches(':modal')"), "the End-contract dialog is not modal"
    return dialog


def test_freelancer_ending_an_hourly_contract_previews_the_hours_then_bills_them_and_locks_the_diary(page, live_server):
    freelancer = UserFactory(username="felix")
    contract = HourlyContractFactory(freelancer=freelancer, title="Backend API development")
    DiaryEntryFactory(contract=contract, minutes=90, memo="Payment webhooks")

    sign_in(page, live_server, "felix")
    open_contract_from_my_jobs(page, "Backend API development")
    dialog = open_end_dialog(page)

    expect(dialog.locator("#preview-hours")).to_contain_text("1:30 h")
    expect(dialog.locator("#preview-hours")).to_contain_text("$75.00")
    expect(dialog).to_contain_text("both of you can leave feedback until")
    expect(dialog).to_contain_text("(14 days after the end)")
    expect(dialog).to_contain_text(FEES_WARNING)

    dialog.get_by_label("Job completed successfully").check()
    dialog.get_by_role("button", name="End contract").click()

    expect(page.get_by_role("status").filter(has_text="The contract has ended.")).to_be_visible()
    expect(page.locator(".head-actions .state")).to_have_text("Ended")
    expect(page.locator("#diary-summary")).to_contain_text("Locked")
    expect(page.locator("#invoices")).to_contain_text("$75.00")
    expect(page.locator("dialog")).to_have_count(0)

    contract.refresh_from_db()
    assert contract.state == ContractState.ENDED
    assert contract.end_reason == "completed"
    assert [invoice.amount_cents for invoice in Invoice.objects.filter(contract=contract)] == [75_00]

    page.get_by_role("link", name="Open the work diary").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Locked")
    expect(page.locator("table.diary")).to_contain_text("Payment webhooks")
    expect(page.get_by_role("button", name="Add time")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Delete"))).to_have_count(0)


def test_escape_closes_the_end_dialog_without_ending_the_contract(page, live_server):
    freelancer = UserFactory(username="felix")
    contract = HourlyContractFactory(freelancer=freelancer, title="Backend API development")
    DiaryEntryFactory(contract=contract, minutes=90)

    sign_in(page, live_server, "felix")
    open_contract_from_my_jobs(page, "Backend API development")
    open_end_dialog(page)
    page.keyboard.press("Escape")

    expect(page.locator("dialog")).to_have_count(0)
    expect(page.locator(".head-actions .state")).to_have_text("Active")
    contract.refresh_from_db()
    assert contract.state == ContractState.ACTIVE
    assert not Invoice.objects.filter(contract=contract).exists()

    # The dialog can be opened again after being dismissed.
    open_end_dialog(page)


def test_freelancer_ending_a_fixed_price_contract_returns_all_escrow_to_the_client(page, live_server):
    freelancer = UserFactory(username="fiona")
    contract = FixedContractFactory(freelancer=freelancer, title="Logo design")
    milestone = funded(contract, 250_00, "First concepts", position=1)

    sign_in(page, live_server, "fiona")
    open_contract_from_my_jobs(page, "Logo design")
    dialog = open_end_dialog(page)
    expect(dialog.locator(".preview-milestone")).to_contain_text("($250.00 in escrow): $250.00 returned to the client")
    # A freelancer has nothing to choose about escrow: it all goes back.
    expect(dialog.get_by_role("button", name="Update preview")).to_have_count(0)

    dialog.get_by_label("The other party was not responsive").check()
    dialog.get_by_role("button", name="End contract").click()

    expect(page.get_by_role("status").filter(has_text="The contract has ended.")).to_be_visible()
    row = page.locator(f"#milestone-{milestone.pk}")
    expect(row).to_contain_text("Escrow returned")
    expect(row.locator("td").nth(3)).to_have_text("$0.00")

    milestone.refresh_from_db()
    assert milestone.state == MilestoneState.REFUNDED
    assert escrow_held_cents(milestone) == 0
    # The client was charged $250.00 plus the marketplace fee; all of it came back.
    assert account_balance_cents(client_funds_account(contract.client)) == 0
    assert not Payment.objects.filter(contract=contract).exists()


def test_update_preview_works_before_a_reason_is_chosen_and_does_not_demand_one(page, live_server):
    """The milestone choices come first in the form: a client picks "Pay part", types
    the amount and updates the preview before choosing a private reason. A preview is
    not a confirmation, so it must not be blocked (or scolded) for a missing reason."""
    client = UserFactory(username="clara")
    contract = FixedContractFactory(client=client, title="Mobile app")
    funded(contract, 300_00, "Prototype", position=1)

    sign_in(page, live_server, "clara")
    open_contract_from_my_jobs(page, "Mobile app")
    dialog = open_end_dialog(page)
    expect(dialog.locator(".preview-milestone")).to_contain_text("choose below")

    dialog.get_by_role("radio", name="Pay part").check()
    dialog.get_by_label("Amount to pay if you pay part").fill("120")
    dialog.get_by_role("button", name="Update preview").click()

    preview = page.locator("dialog[open] .preview-milestone")
    expect(preview).to_contain_text("$120.00 paid to the freelancer")
    expect(preview).to_contain_text("$180.00 asked back as a refund request")
    expect(page.locator("dialog[open]")).not_to_contain_text("Choose a reason for ending the contract.")
    contract.refresh_from_db()
    assert contract.state == ContractState.ACTIVE


def test_client_paying_part_of_a_milestone_sees_the_split_in_the_preview_and_the_rest_becomes_a_refund_request(
    page, live_server
):
    client = UserFactory(username="clara")
    contract = FixedContractFactory(client=client, title="Mobile app")
    milestone = funded(contract, 300_00, "Prototype", position=1)

    sign_in(page, live_server, "clara")
    open_contract_from_my_jobs(page, "Mobile app")
    dialog = open_end_dialog(page)
    expect(dialog.locator(".preview-milestone")).to_contain_text("choose below")

    dialog.get_by_label("Job completed unsuccessfully").check()
    dialog.get_by_role("radio", name="Pay part").check()
    dialog.get_by_label("Amount to pay if you pay part").fill("120")
    dialog.get_by_role("button", name="Update preview").click()

    dialog = page.locator("dialog[open]")
    preview = dialog.locator(".preview-milestone")
    expect(preview).to_contain_text("$120.00 paid to the freelancer")
    expect(preview).to_contain_text("$180.00 asked back as a refund request")
    # The choices survive the preview round trip, and nothing has happened yet.
    expect(dialog.get_by_role("radio", name="Pay part")).to_be_checked()
    expect(dialog.get_by_label("Amount to pay if you pay part")).to_have_value("120")
    expect(dialog.get_by_label("Job completed unsuccessfully")).to_be_checked()
    assert escrow_held_cents(milestone) == 300_00

    dialog.get_by_role("button", name="End contract").click()

    expect(page.get_by_role("status").filter(has_text="The contract has ended.")).to_be_visible()
    expect(page.locator("#refund-requests")).to_contain_text("$180.00 of “Prototype”")
    expect(page.locator("#refund-requests")).to_contain_text("Waiting for the freelancer")
    expect(page.locator("#payments")).to_contain_text("$120.00")

    refund_request = EscrowRefundRequest.objects.get(milestone=milestone)
    assert refund_request.amount_cents == 180_00
    assert [payment.amount_cents for payment in Payment.objects.filter(contract=contract)] == [120_00]
    assert escrow_held_cents(milestone) == 180_00


def test_without_javascript_the_end_link_is_a_page_with_the_same_form_and_ending_works(browser, live_server):
    freelancer = UserFactory(username="felix")
    contract = HourlyContractFactory(freelancer=freelancer, title="Backend API development")
    DiaryEntryFactory(contract=contract, minutes=90)

    context = browser.new_context(java_script_enabled=False)
    try:
        page = sign_in(context.new_page(), live_server, "felix")
        open_contract_from_my_jobs(page, "Backend API development")
        page.locator("summary[aria-label='Contract options']").click()
        page.get_by_role("link", name="End contract").click()

        expect(page).to_have_url(f"{live_server.url}/contracts/{contract.pk}/end/")
        expect(page.get_by_role("heading", level=1, name="End contract")).to_be_visible()
        expect(page.locator("dialog")).to_have_count(0)
        form = page.locator("form.end-form")
        expect(form.locator("#preview-hours")).to_contain_text("1:30 h")
        expect(form.locator("#preview-hours")).to_contain_text("$75.00")
        expect(form).to_contain_text("(14 days after the end)")
        expect(form).to_contain_text(FEES_WARNING)

        form.get_by_label("Another reason").check()
        form.get_by_label("Anything to add? (private)").fill("Project finished early")
        form.get_by_role("button", name="End contract").click()

        expect(page).to_have_url(f"{live_server.url}/contracts/{contract.pk}/")
        expect(page.get_by_role("status").filter(has_text="The contract has ended.")).to_be_visible()
        expect(page.locator(".head-actions .state")).to_have_text("Ended")
        expect(page.locator("#invoices")).to_contain_text("$75.00")
    finally:
        context.close()

    contract.refresh_from_db()
    assert contract.state == ContractState.ENDED
    assert contract.end_reason_note == "Project finished early"


def test_confirming_the_end_twice_says_the_contract_already_ended_and_bills_once(browser, live_server):
    freelancer = UserFactory(username="felix")
    contract = HourlyContractFactory(freelancer=freelancer, title="Backend API development")
    DiaryEntryFactory(contract=contract, minutes=90)
    end_url = f"{live_server.url}/contracts/{contract.pk}/end/"
    contract_url = f"{live_server.url}/contracts/{contract.pk}/"

    context = browser.new_context(java_script_enabled=False)
    statuses = []
    context.on("response", lambda response: statuses.append(response.status))
    try:
        page = sign_in(context.new_page(), live_server, "felix")
        # A second tab holds the same form, as a page restored by Back would.
        stale = context.new_page()
        stale.goto(end_url)
        stale.get_by_label("Job completed successfully").check()

        page.goto(end_url)
        page.get_by_label("Job completed successfully").check()
        page.get_by_role("button", name="End contract").click()
        expect(page.get_by_role("status").filter(has_text="The contract has ended.")).to_be_visible()
        invoices, payments = Invoice.objects.filter(contract=contract).count(), Payment.objects.count()
        assert invoices == 1

        # Back to the form: the server no longer offers it, and says why.
        page.go_back()
        expect(page).to_have_url(contract_url)
        expect(page.get_by_role("alert")).to_contain_text("already ended")

        # Submitting the form read before the end changes nothing, with a clear message.
        stale.get_by_role("button", name="End contract").click()
        expect(stale).to_have_url(contract_url)
        expect(stale.get_by_role("alert")).to_contain_text("This contract has already ended; ending is final.")
        expect(stale.get_by_role("status").filter(has_text="The contract has ended.")).to_have_count(0)
    finally:
        context.close()

    assert 500 not in statuses
    assert Invoice.objects.filter(contract=contract).count() == invoices
    assert Payment.objects.count() == payments


def test_screenshot_of_the_end_dialog_for_a_client_ending_with_two_funded_milestones(browser, live_server):
    """Saves docs/end-contract-modal.png (shown in the README) at a fixed instant, so
    the committed picture only changes when the dialog does."""
    with time_machine.travel(datetime(2026, 3, 11, 15, 30, tzinfo=UTC), tick=False):
        client = UserFactory(username="clara", first_name="Clara", last_name="Client")
        freelancer = UserFactory(username="felix", first_name="Felix", last_name="Freelancer")
        contract = FixedContractFactory(client=client, freelancer=freelancer, title="Website redesign")
        funded(contract, 400_00, "Design mockups", position=1)
        funded(contract, 800_00, "Frontend build", position=2)

        context = browser.new_context(viewport={"width": 1200, "height": 900}, timezone_id="UTC", locale="en-US")
        try:
            page = sign_in(context.new_page(), live_server, "clara")
            open_contract_from_my_jobs(page, "Website redesign")
            dialog = open_end_dialog(page)
            dialog.get_by_label("Job completed unsuccessfully").check()
            choices = dialog.locator(".milestone-choice")
            choices.nth(0).get_by_role("radio", name="Pay in full").check()
            choices.nth(1).get_by_role("radio", name="Pay part").check()
            choices.nth(1).get_by_label("Amount to pay if you pay part").fill("300")
            dialog.get_by_role("button", name="Update preview").click()

            dialog = page.locator("dialog[open]")
            expect(dialog.locator(".preview-milestone").nth(0)).to_contain_text("$400.00 paid to the freelancer")
            expect(dialog.locator(".preview-milestone").nth(1)).to_contain_text("$500.00 asked back")
            page.evaluate("document.activeElement && document.activeElement.blur()")
            dialog.evaluate("element => element.scrollTo(0, 0)")

            DOCS.mkdir(exist_ok=True)
            path = DOCS / "end-contract-modal.png"
            page.screenshot(path=path, animations="disabled", caret="hide")
        finally:
            context.close()

    assert path.stat().st_size > 10_000
    contract.refresh_from_db()
    assert contract.state == ContractState.ACTIVE

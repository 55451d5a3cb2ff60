"""The work diary, milestones and escrow, refunds within 180 days, and refund
requests after a client's end, driven through the pages as users do."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from billing.models import Payment, Refund
from billing.selectors import escrow_held_cents
from contracts import services
from contracts.models import DiaryEntry, EscrowRefundRequest, MilestoneState
from contracts.models.refund_request import RefundRequestState
from tests.factories import (
    DiaryEntryFactory,
    FixedContractFactory,
    HourlyContractFactory,
    MilestoneFactory,
    UserFactory,
)
from tests.fixtures.browser import paid_milestone, sign_in, success

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A Wednesday afternoon (UTC): this week's entries are open for editing until Monday noon.
WEDNESDAY = datetime(2026, 3, 11, 14, 0, tzinfo=UTC)
PAID_AT = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def confirm_in_dialog(page, button: str):
    """Confirm what the preview dialog shows (money cannot move in one click)."""
    dialog = page.locator("dialog[open]")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=button).click()


def test_freelancer_records_edits_and_deletes_time_in_the_work_diary(page, live_server):
    with time_machine.travel(WEDNESDAY, tick=True):
        freelancer = UserFactory(username="felix")
        contract = HourlyContractFactory(freelancer=freelancer, title="Backend API development")

        sign_in(page, live_server, "felix")
        page.goto(f"{live_server.url}/contracts/{contract.pk}/")
        page.get_by_role("link", name="Record time").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Work diary")

        page.get_by_label("Date").fill("2026-03-10")
        page.get_by_label("Hours").fill("2")
        page.get_by_label("Minutes").fill("15")
        page.get_by_label("What did you work on?").fill("Wrote the payments API client")
        page.get_by_role("button", name="Add time").click()

        success(page, "Time recorded.")
        diary = page.locator("table.diary")
        expect(diary).to_contain_text("Tue Mar 10, 2026")
        expect(diary).to_contain_text("2:15")
        expect(diary).to_contain_text("Wrote the payments API client")
        entry = DiaryEntry.objects.get(contract=contract)
        assert (entry.work_date, entry.minutes) == (date(2026, 3, 10), 135)

        diary.get_by_role("link", name="Edit").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Edit time")
        expect(page.get_by_label("Hours")).to_have_value("2")
        expect(page.get_by_label("Minutes")).to_have_value("15")
        page.get_by_label("Hours").fill("3")
        page.get_by_label("Minutes").fill("0")
        page.get_by_label("What did you work on?").fill("Wrote the payments API client and its tests")
        page.get_by_role("button", name="Save").click()

        success(page, "Diary entry updated.")
        expect(diary).to_contain_text("3:00")
        expect(diary).to_contain_text("Wrote the payments API client and its tests")
        entry.refresh_from_db()
        assert entry.minutes == 180

        diary.get_by_role("button", name="Delete the entry of Mar 10").click()
        success(page, "Diary entry deleted.")
        expect(page.get_by_text("No time recorded yet.")).to_be_visible()
        assert not DiaryEntry.objects.filter(contract=contract).exists()


def test_time_over_the_weekly_limit_is_refused_with_the_hours_left_and_the_form_keeps_what_was_typed(page, live_server):
    with time_machine.travel(WEDNESDAY, tick=True):
        freelancer = UserFactory(username="felix")
        contract = HourlyContractFactory(freelancer=freelancer, title="Backend API development", weekly_hour_limit=10)
        DiaryEntryFactory(contract=contract, work_date=date(2026, 3, 9), minutes=8 * 60, memo="Sprint planning")

        sign_in(page, live_server, "felix")
        page.goto(f"{live_server.url}/contracts/{contract.pk}/diary/")
        page.get_by_label("Date").fill("2026-03-10")
        page.get_by_label("Hours").fill("3")
        page.get_by_label("Minutes").fill("30")
        page.get_by_label("What did you work on?").fill("Load testing")
        page.get_by_role("button", name="Add time").click()

        expect(page.locator(".diary-form").get_by_role("alert")).to_have_text(
            "This contract allows 10 hours a week; 2:00 hours are left in the week of 2026-03-09."
        )
        expect(page.get_by_label("Date")).to_have_value("2026-03-10")
        expect(page.get_by_label("Hours")).to_have_value("3")
        expect(page.get_by_label("Minutes")).to_have_value("30")
        expect(page.get_by_label("What did you work on?")).to_have_value("Load testing")
        expect(page.get_by_role("status").filter(has_text="Time recorded.")).to_have_count(0)
        assert DiaryEntry.objects.filter(contract=contract).count() == 1


def test_client_funds_freelancer_submits_and_client_releases_in_full_each_step_confirmed(page, live_server):
    client = UserFactory(username="clara")
    freelancer = UserFactory(username="fiona")
    contract = FixedContractFactory(client=client, freelancer=freelancer, title="Logo design")
    milestone = MilestoneFactory(contract=contract, title="First concepts", amount_cents=400_00, position=1)
    row = page.locator(f"#milestone-{milestone.pk}")

    sign_in(page, live_server, "clara")
    page.goto(f"{live_server.url}/contracts/{contract.pk}/")
    row.get_by_role("button", name="Fund $400.00").click()
    success(page, "“First concepts” is funded: $400.00 is in escrow.")
    expect(row).to_contain_text("Funded (in escrow)")
    expect(row.locator("td").nth(3)).to_have_text("$400.00")
    assert escrow_held_cents(milestone) == 400_00

    sign_in(page, live_server, "fiona")
    page.goto(f"{live_server.url}/contracts/{contract.pk}/")
    row.get_by_label("Message to the client").fill("Three concepts attached in the shared folder.")
    row.get_by_role("button", name="Submit work").click()
    success(page, "Work for “First concepts” is submitted; the client has 14 days to review it.")
    expect(row).to_contain_text("Work submitted")
    expect(row).to_contain_text("Three concepts attached in the shared folder.")

    sign_in(page, live_server, "clara")
    page.goto(f"{live_server.url}/contracts/{contract.pk}/")
    row.get_by_role("button", name="All in escrow: $400.00").click()
    confirm_in_dialog(page, "Pay $400.00")
    success(page, "$400.00 paid to the freelancer for “First concepts”.")
    expect(row).to_contain_text("Paid")
    expect(row.locator("td").nth(3)).to_have_text("$0.00")
    expect(page.locator("#payments")).to_contain_text("$400.00")

    milestone.refresh_from_db()
    assert milestone.state == MilestoneState.RELEASED
    assert escrow_held_cents(milestone) == 0
    assert [payment.amount_cents for payment in Payment.objects.filter(contract=contract)] == [400_00]


def test_a_payment_made_180_days_ago_can_still_be_refunded_in_part(page, live_server):
    payment = paid_milestone(freelancer_username="fiona", amount_cents=400_00, at=PAID_AT)

    with time_machine.travel(PAID_AT + timedelta(days=180) - timedelta(minutes=5), tick=True):
        sign_in(page, live_server, "fiona")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Refunds").click()
        row = page.locator(f"#payment-{payment.pk}")
        expect(row.locator("[data-label='Left to refund']")).to_have_text("$400.00")
        row.get_by_label("Amount to refund").fill("100.00")
        row.get_by_label("Reason (shown to the client)").fill("One concept was not used")
        row.get_by_role("button", name="Review the refund").click()
        confirm_in_dialog(page, "Refund $100.00")

        success(page, f"Refunded $100.00 of payment #{payment.pk} to the client.")
        expect(row.locator("[data-label='Refunded']")).to_have_text("$100.00")
        expect(row.locator("[data-label='Left to refund']")).to_have_text("$300.00")
        expect(row.get_by_label("Amount to refund")).to_have_value("")
        expect(row.get_by_role("button", name="All that is left: $300.00")).to_be_visible()

    refund = Refund.objects.get(payment=payment)
    assert refund.amount_cents == 100_00
    assert refund.freelancer_fee_returned_cents == 10_00


def test_a_payment_made_181_days_ago_shows_why_it_cannot_be_refunded_and_no_form(page, live_server):
    payment = paid_milestone(freelancer_username="fiona", amount_cents=400_00, at=PAID_AT)

    with time_machine.travel(PAID_AT + timedelta(days=181, hours=2), tick=True):
        sign_in(page, live_server, "fiona")
        page.goto(f"{live_server.url}/refunds/")
        row = page.locator(f"#payment-{payment.pk}")
        expect(row).to_contain_text("Refunds are possible for 180 days after a payment")
        expect(row.get_by_label("Amount to refund")).to_have_count(0)
        expect(row.get_by_role("button", name="Refund")).to_have_count(0)
    assert not Refund.objects.exists()


def _refund_request_after_client_end():
    client = UserFactory(username="clara")
    freelancer = UserFactory(username="fiona")
    contract = FixedContractFactory(client=client, freelancer=freelancer, title="Logo design")
    milestone = MilestoneFactory(contract=contract, title="First concepts", amount_cents=300_00, position=1)
    services.milestone_fund(milestone=milestone, by=client)
    services.contract_end(
        contract=contract,
        by=client,
        reason="unsuccessful",
        message_to_freelancer="The concepts did not match the brief.",
        milestone_decisions={milestone.pk: services.MilestoneDecision(services.MilestoneChoice.PAY_NOTHING)},
    )
    return contract, milestone, EscrowRefundRequest.objects.get(milestone=milestone)


def test_freelancer_disputes_a_refund_request_with_a_statement_and_the_escrow_stays_held(page, live_server):
    contract, milestone, refund_request = _refund_request_after_client_end()

    sign_in(page, live_server, "fiona")
    page.goto(f"{live_server.url}/contracts/{contract.pk}/")
    requests = page.locator("#refund-requests")
    expect(requests).to_contain_text("$300.00 of “First concepts” — Waiting for the freelancer.")
    expect(requests).to_contain_text("Client: “The concepts did not match the brief.”")
    requests.get_by_label("Why do you dispute it? An admin reads both sides.").fill(
        "All three concepts followed the brief we agreed on."
    )
    requests.get_by_role("button", name="Dispute refund").click()

    success(page, "Refund disputed: an admin will read both sides and decide the split.")
    expect(requests).to_contain_text("Disputed: waiting for an admin decision")
    expect(requests).to_contain_text("Freelancer: “All three concepts followed the brief we agreed on.”")
    expect(requests.get_by_role("button", name="Approve refund")).to_have_count(0)
    expect(requests.get_by_role("button", name="Dispute refund")).to_have_count(0)

    refund_request.refresh_from_db()
    assert refund_request.state == RefundRequestState.DISPUTED
    assert escrow_held_cents(milestone) == 300_00


def test_freelancer_approves_a_refund_request_and_the_escrow_goes_back_to_the_client(page, live_server):
    contract, milestone, refund_request = _refund_request_after_client_end()

    sign_in(page, live_server, "fiona")
    page.goto(f"{live_server.url}/contracts/{contract.pk}/")
    requests = page.locator("#refund-requests")
    requests.get_by_role("button", name="Approve refund").click()

    success(page, "Refund approved: $300.00 goes back to the client.")
    expect(requests).to_contain_text("Approved: escrow returned to the client")
    row = page.locator(f"#milestone-{milestone.pk}")
    expect(row).to_contain_text("Escrow returned")
    expect(row.locator("td").nth(3)).to_have_text("$0.00")

    refund_request.refresh_from_db()
    milestone.refresh_from_db()
    assert refund_request.state == RefundRequestState.APPROVED
    assert milestone.state == MilestoneState.REFUNDED
    assert escrow_held_cents(milestone) == 0

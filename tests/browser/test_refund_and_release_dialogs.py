"""Refunding a payment and paying part of a milestone in the browser: the amount is
typed, a modal dialog shows what will move (computed by the service that moves it),
and only its confirm button moves the money (issue 12, defect 4)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from billing.models import Payment, Refund
from billing.selectors import escrow_held_cents
from billing.services.refunds import refund_create
from contracts import services
from contracts.models import Milestone
from tests.factories import FixedContractFactory, MilestoneFactory, UserFactory
from tests.fixtures.browser import paid_milestone, sign_in, success

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAID_AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
LATER = PAID_AT + timedelta(days=3)


def open_dialog(page, has_text: str | None = None):
    """The open preview dialog; after a click inside a dialog, ``has_text`` tells the
    new one (the server's answer) from the one it replaces."""
    dialog = page.locator("dialog[open]", has_text=has_text)
    expect(dialog).to_be_visible()
    assert dialog.evaluate("element => element.matches(':modal')"), "the preview dialog is not modal"
    return dialog


def figure(dialog, label: str):
    """The amount shown next to ``label`` in the preview's figures."""
    return dialog.locator("dl.figures dt", has_text=label).locator("xpath=following-sibling::dd[1]")


def test_freelancer_refunds_part_of_a_payment_through_the_dialog_after_reading_the_fees_and_what_is_left(
    page, live_server
):
    payment = paid_milestone(400_00, at=PAID_AT, client_username="clara")

    with time_machine.travel(LATER, tick=True):
        sign_in(page, live_server, "fiona")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Refunds").click()
        row = page.locator(f"#payment-{payment.pk}")
        expect(row.get_by_label("Amount to refund")).to_have_value("")
        row.get_by_label("Amount to refund").fill("100.00")
        row.get_by_label("Reason (shown to the client)").fill("One concept was not used")
        row.get_by_role("button", name="Review the refund").click()

        dialog = open_dialog(page)
        expect(figure(dialog, "Refunded to the client")).to_have_text("$100.00")
        expect(figure(dialog, "Service fee returned to you")).to_have_text("$10.00")
        expect(figure(dialog, "Marketplace fee returned to the client")).to_have_text("$5.00")
        expect(figure(dialog, "Left to refund afterwards")).to_have_text("$300.00")
        expect(dialog.get_by_label("Reason (shown to the client)")).to_have_value("One concept was not used")
        assert not Refund.objects.exists()

        dialog.get_by_role("button", name="Refund $100.00").click()

        success(page, f"Refunded $100.00 of payment #{payment.pk} to the client.")
        expect(page.locator("dialog[open]")).to_have_count(0)
        expect(row.locator("[data-label='Refunded']")).to_have_text("$100.00")
        expect(row.locator("[data-label='Left to refund']")).to_have_text("$300.00")

    refund = Refund.objects.get()
    assert (refund.amount_cents, refund.freelancer_fee_returned_cents, refund.reason) == (
        100_00,
        10_00,
        "One concept was not used",
    )


def test_all_that_is_left_fills_the_amount_and_previews_it_and_cancel_refunds_nothing(page, live_server):
    payment = paid_milestone(400_00, at=PAID_AT, client_username="clara")

    with time_machine.travel(LATER, tick=True):
        sign_in(page, live_server, "fiona")
        page.goto(f"{live_server.url}/refunds/")
        row = page.locator(f"#payment-{payment.pk}")
        row.get_by_role("button", name="All that is left: $400.00").click()

        dialog = open_dialog(page)
        expect(dialog.get_by_label("Amount to refund")).to_have_value("400.00")
        expect(figure(dialog, "Left to refund afterwards")).to_have_text("$0.00")
        dialog.get_by_role("link", name="Cancel").click()

        expect(page.locator("dialog[open]")).to_have_count(0)
    assert not Refund.objects.exists()


def test_a_missing_amount_shows_at_the_field_in_the_dialog_with_the_reason_kept(page, live_server):
    payment = paid_milestone(400_00, at=PAID_AT, client_username="clara")

    with time_machine.travel(LATER, tick=True):
        sign_in(page, live_server, "fiona")
        page.goto(f"{live_server.url}/refunds/")
        row = page.locator(f"#payment-{payment.pk}")
        row.get_by_label("Amount to refund").fill("100.00")
        row.get_by_label("Reason (shown to the client)").fill("Late delivery")
        row.get_by_role("button", name="Review the refund").click()
        dialog = open_dialog(page)

        dialog.get_by_label("Amount to refund").fill("")
        dialog.get_by_role("button", name="Update the figures").click()

        dialog = open_dialog(page, has_text="Enter the amount to refund.")
        expect(dialog.locator(".errorlist")).to_have_text("Enter the amount to refund.")
        expect(dialog.get_by_label("Reason (shown to the client)")).to_have_value("Late delivery")
        expect(dialog.get_by_role("button", name="Refund $")).to_have_count(0)
    assert not Refund.objects.exists()


def test_a_confirmation_after_another_refund_shows_the_new_figures_in_the_dialog_and_refunds_nothing(
    page, live_server
):
    payment = paid_milestone(400_00, at=PAID_AT, client_username="clara")

    with time_machine.travel(LATER, tick=True):
        sign_in(page, live_server, "fiona")
        page.goto(f"{live_server.url}/refunds/")
        row = page.locator(f"#payment-{payment.pk}")
        row.get_by_label("Amount to refund").fill("300.00")
        row.get_by_role("button", name="Review the refund").click()
        dialog = open_dialog(page)
        expect(figure(dialog, "Left to refund afterwards")).to_have_text("$100.00")
        refund_create(payment=payment, by=payment.freelancer, amount_cents=100_00, idempotency_key="other-tab")

        dialog.get_by_role("button", name="Refund $300.00").click()

        dialog = open_dialog(page, has_text="This payment was refunded in the meantime")
        expect(dialog.get_by_role("alert")).to_contain_text("This payment was refunded in the meantime")
        expect(figure(dialog, "Left to refund afterwards")).to_have_text("$0.00")
        assert list(Refund.objects.values_list("amount_cents", flat=True)) == [100_00]

        dialog.get_by_role("button", name="Refund $300.00").click()
        success(page, f"Refunded $300.00 of payment #{payment.pk} to the client.")
    assert sorted(Refund.objects.values_list("amount_cents", flat=True)) == [100_00, 300_00]


def test_client_pays_part_of_a_milestone_through_the_dialog_after_reading_the_fee_and_what_stays_in_escrow(
    page, live_server
):
    contract = FixedContractFactory(
        client=UserFactory(username="clara"), freelancer=UserFactory(username="fiona"), title="Brand identity"
    )
    milestone = MilestoneFactory(contract=contract, title="Logo", amount_cents=400_00, position=1)
    services.milestone_fund(milestone=milestone, by=contract.client)

    sign_in(page, live_server, "clara")
    page.goto(f"{live_server.url}/contracts/{contract.pk}/")
    row = page.locator(f"#milestone-{milestone.pk}")
    row.get_by_label("Amount to pay").fill("150")
    row.get_by_role("button", name="Release payment").click()

    dialog = open_dialog(page)
    expect(figure(dialog, "Paid out of escrow")).to_have_text("$150.00")
    expect(figure(dialog, "The freelancer's service fee on it")).to_have_text("$15.00")
    expect(figure(dialog, "The freelancer receives")).to_have_text("$135.00")
    expect(figure(dialog, "Stays in escrow")).to_have_text("$250.00")
    assert not Payment.objects.exists()

    dialog.get_by_role("button", name="Pay $150.00").click()

    success(page, "$150.00 paid to the freelancer for “Logo”.")
    expect(row.locator("td").nth(3)).to_have_text("$250.00")
    expect(row).to_contain_text("Funded (in escrow)")
    expect(page.locator("#payments")).to_contain_text("$150.00")
    assert list(Payment.objects.values_list("amount_cents", flat=True)) == [150_00]
    assert escrow_held_cents(Milestone.objects.get(pk=milestone.pk)) == 250_00

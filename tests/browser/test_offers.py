"""In Chromium: a client sends a fixed-price offer with two milestones (the second row
added with "Add a milestone") and a notice period; the freelancer finds it at the top
of My Jobs, reads what its terms mean at the end, and accepts: the contract starts with
its first milestone funded."""

import pytest
from playwright.sync_api import expect

from billing.selectors import escrow_held_cents
from contracts.models import Contract, MilestoneState
from offers.models import Offer, OfferState
from tests.factories import UserFactory
from tests.fixtures.browser import sign_in, success
from tests.fixtures.people import verified

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_client_sends_a_fixed_price_offer_and_the_freelancer_reads_its_terms_and_accepts(page, live_server):
    verified(UserFactory(username="clara", first_name="Clara", last_name="Client"))
    UserFactory(username="felix", first_name="Felix", last_name="Freelancer")

    sign_in(page, live_server, "clara")
    page.get_by_role("link", name="My Jobs", exact=True).click()
    page.get_by_role("link", name="Send an offer").click()
    page.get_by_label("Freelancer: username or e-mail address").fill("felix")
    page.get_by_label("Title").fill("Brand identity")
    page.get_by_label("Description of the work").fill("A logo and a style guide for the new brand.")
    page.get_by_label("Fixed-price").check()
    expect(page.locator("#hourly-terms")).to_be_hidden()
    page.locator("#milestone-row-1").get_by_label("Milestone").fill("Drafts")
    page.locator("#milestone-row-1").get_by_label("Amount").fill("300")
    page.get_by_role("button", name="Add a milestone").click()
    second = page.locator("#milestone-row-2")
    expect(second).to_be_visible()
    expect(page.locator("#milestone-row-1").get_by_label("Milestone")).to_have_value("Drafts")
    second.get_by_label("Milestone").fill("Final files")
    second.get_by_label("Amount").fill("200")
    page.get_by_label("Notice period in days").fill("14")
    page.get_by_role("button", name="Send the offer").click()

    success(page, "Your offer “Brand identity” is sent: Felix Freelancer is told and e-mailed.")
    expect(page.locator("#offer-state")).to_have_text("Waiting for an answer")
    expect(page.locator("#what-you-pay")).to_contain_text("$315.00")
    offer = Offer.objects.get()
    assert [m.title for m in offer.milestones.all()] == ["Drafts", "Final files"]

    sign_in(page, live_server, "felix")
    page.get_by_role("link", name="My Jobs", exact=True).click()
    waiting = page.locator("#offers-waiting")
    expect(waiting).to_contain_text("fixed-price offer from Clara Client")
    waiting.get_by_role("link", name="Brand identity").click()
    meaning = page.locator("#what-the-terms-mean")
    expect(meaning).to_contain_text("You can give 14 days' notice, and so can the client")
    expect(meaning).to_contain_text("If you end the contract, every milestone still in escrow goes back to the client.")
    expect(meaning).to_contain_text("on the $500.00 of these milestones you receive $450.00")
    page.get_by_role("button", name="Accept the offer").click()

    success(page, "You accepted the offer: the contract has started; its first milestone is funded: $300.00")
    expect(page.get_by_role("heading", name="Brand identity")).to_be_visible()
    contract = Contract.objects.get()
    first, second_milestone = contract.milestones.order_by("position")
    assert (first.state, escrow_held_cents(first), second_milestone.state) == (
        MilestoneState.FUNDED,
        300_00,
        MilestoneState.PENDING,
    )
    assert Offer.objects.get().state == OfferState.ACCEPTED

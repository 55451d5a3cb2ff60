"""In the browser: the freelancer proposes a new hourly rate and the client accepts it
from the contract page, which then shows it from the next billing week; the client
lowers the weekly limit for the weeks to come; the client adds a milestone to a
fixed-price contract and funds it."""

import pytest
from playwright.sync_api import expect

from contracts.models import Milestone, MilestoneState, RateChange, RateChangeProposal, WeeklyLimitChange
from contracts.models.terms import describe_week
from tests.factories import FixedContractFactory, HourlyContractFactory, UserFactory
from tests.fixtures.browser import sign_in, success

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def parties(db):
    return {
        "client": UserFactory(username="clara", first_name="Clara", last_name="Client"),
        "freelancer": UserFactory(username="felix", first_name="Felix", last_name="Freelancer"),
    }


def test_the_freelancer_proposes_a_rate_and_the_client_accepts_it(page, live_server, parties):
    contract = HourlyContractFactory(title="Data pipeline", **parties)
    contract_url = f"{live_server.url}/contracts/{contract.pk}/"

    sign_in(page, live_server, "felix")
    page.goto(contract_url)
    page.locator("#propose-rate > summary").click()
    page.get_by_label("New rate an hour").fill("62.50")
    page.get_by_label("Message to the other party (optional)").fill("The scope grew to three data sources.")
    page.get_by_role("button", name="Propose the new rate").click()

    success(page, "You proposed $62.50 an hour.")
    expect(page.locator("#rate-change")).to_contain_text("You proposed a new rate of $62.50 an hour (now $50.00).")
    expect(page.locator("#rate-change").get_by_role("button", name="Accept $62.50 an hour")).to_have_count(0)

    sign_in(page, live_server, "clara")
    page.goto(contract_url)
    proposal = page.locator("#rate-change")
    expect(proposal).to_contain_text("Felix Freelancer proposed a new rate of $62.50 an hour (now $50.00).")
    expect(proposal).to_contain_text("The scope grew to three data sources.")
    proposal.get_by_role("button", name="Accept $62.50 an hour").click()

    change = RateChange.objects.get(contract=contract)
    success(
        page, f"The new rate of $62.50 an hour applies from the billing week of {describe_week(change.effective_from)}"
    )
    terms = page.locator("#terms")
    expect(terms.locator("dd").nth(1)).to_contain_text("$50.00 an hour")
    expect(terms).to_contain_text(
        f"From the week of {change.effective_from:%b} {change.effective_from.day}: $62.50 an hour"
    )
    expect(page.locator("#rate-change")).to_have_count(0)
    assert RateChangeProposal.objects.get(contract=contract).state == "accepted"
    assert change.rate_cents == 62_50


def test_the_client_lowers_the_weekly_limit_for_the_weeks_to_come(page, live_server, parties):
    contract = HourlyContractFactory(title="Data pipeline", weekly_hour_limit=40, **parties)

    sign_in(page, live_server, "clara")
    page.goto(f"{live_server.url}/contracts/{contract.pk}/")
    page.locator("#change-weekly-limit > summary").click()
    page.get_by_label("Hours a week", exact=True).fill("15")
    page.get_by_role("button", name="Change the weekly limit").click()

    success(page, "the weekly limit is 15 hours; this week keeps its limit.")
    change = WeeklyLimitChange.objects.get(contract=contract)
    expect(page.locator("#terms dd").nth(2)).to_contain_text("40 hours")
    expect(page.locator("#terms")).to_contain_text(
        f"From the week of {change.effective_from:%b} {change.effective_from.day}: 15 hours"
    )


def test_the_client_adds_a_milestone_and_funds_it(page, live_server, parties):
    contract = FixedContractFactory(title="Brand identity", **parties)

    sign_in(page, live_server, "clara")
    page.goto(f"{live_server.url}/contracts/{contract.pk}/")
    page.locator("#add-milestone > summary").click()
    page.get_by_label("Milestone", exact=True).fill("Icon set")
    page.get_by_label("Amount").fill("4.99")
    page.get_by_role("button", name="Add milestone").click()

    expect(page.get_by_text("A milestone must be at least $5.00.")).to_be_visible()
    expect(page.get_by_label("Milestone", exact=True)).to_have_value("Icon set")
    page.get_by_label("Amount").fill("180")
    page.get_by_role("button", name="Add milestone").click()

    success(page, "The milestone “Icon set” ($180.00) is added")
    page.get_by_role("button", name="Fund $180.00").click()
    success(page, "“Icon set” is funded: $180.00 is in escrow.")
    assert Milestone.objects.get(contract=contract).state == MilestoneState.FUNDED

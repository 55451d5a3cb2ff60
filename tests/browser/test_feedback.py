"""Double-blind feedback in the browser: the client leaves feedback and sees it marked
hidden; the freelancer learns only that it exists until leaving theirs, then both
are visible to both; the client responds; the profiles show the public part."""

import pytest
from playwright.sync_api import expect

from contracts.models import Feedback, FeedbackResponse
from tests.fixtures.browser import sign_in
from tests.fixtures.feedback import ended_contract
from tests.fixtures.people import person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLIENT_COMMENT = "Felix shipped the parser early and explained every choice."
FREELANCER_COMMENT = "Clara gave clear specs and paid the same day."
RESPONSE = "Thank you, Felix: a pleasure to work with you."
CLIENT_RATINGS = {
    "Skills": "5",
    "Quality of work": "5",
    "Availability": "4",
    "Adherence to deadlines": "5",
    "Communication": "5",
    "Cooperation": "5",
}
FREELANCER_RATINGS = {
    "Clarity of requirements": "5",
    "Communication": "4",
    "Payment promptness": "5",
    "Cooperation": "5",
    "Availability": "4",
}


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def open_contract(page, live_server, contract):
    page.goto(f"{live_server.url}/contracts/{contract.pk}/")
    expect(page.get_by_role("heading", level=1, name=contract.title)).to_be_visible()


def leave_feedback(page, ratings: dict, comment: str, reason: str, recommend: str):
    page.locator("#feedback").get_by_role("link", name="Leave feedback").click()
    for criterion, value in ratings.items():
        page.get_by_role("radiogroup", name=criterion, exact=True).get_by_role("radio", name=value, exact=True).click()
    page.get_by_label("Public comment").fill(comment)
    page.get_by_label(reason).check()
    page.get_by_label("How likely are you to recommend them").select_option(recommend)
    page.get_by_role("button", name="Submit feedback").click()


def test_double_blind_feedback_from_both_sides_then_a_response_and_the_public_profiles(page, live_server):
    clara = person("clara", first_name="Clara", last_name="Client")
    felix = person("felix", first_name="Felix", last_name="Freelancer")
    contract = ended_contract(client=clara, freelancer=felix, paid_cents=250_00, title="Parser rewrite")

    # The client leaves feedback and sees it marked hidden, with the private part.
    sign_in(page, live_server, "clara")
    open_contract(page, live_server, contract)
    leave_feedback(page, CLIENT_RATINGS, CLIENT_COMMENT, "The other party was not responsive", "7")
    expect(page.get_by_role("status").filter(has_text="Your feedback stays hidden")).to_be_visible()
    mine = page.locator("#my-feedback")
    expect(mine).to_contain_text("Hidden until Felix Freelancer leaves theirs")
    expect(mine).to_contain_text(CLIENT_COMMENT)
    expect(mine).to_contain_text("likelihood to recommend 7/10")
    expect(page.get_by_role("link", name="Leave feedback")).to_have_count(0)
    sign_out(page)

    # The freelancer learns that it exists, and nothing of what it says.
    sign_in(page, live_server, "felix")
    open_contract(page, live_server, contract)
    expect(page.locator("#their-feedback-hidden")).to_contain_text("Clara Client has left feedback.")
    expect(page.locator("#feedback")).not_to_contain_text(CLIENT_COMMENT)
    expect(page.locator("body")).not_to_contain_text("7/10")
    expect(page.locator("body")).not_to_contain_text("not responsive")
    leave_feedback(page, FREELANCER_RATINGS, FREELANCER_COMMENT, "Job completed successfully", "10")

    # Both are revealed at once.
    expect(page.get_by_role("status").filter(has_text="both are now visible")).to_be_visible()
    expect(page.locator("#their-feedback")).to_contain_text(CLIENT_COMMENT)
    expect(page.locator("#their-feedback")).to_contain_text("4.83")
    expect(page.locator("#my-feedback")).to_contain_text(FREELANCER_COMMENT)
    expect(page.locator("#my-feedback")).not_to_contain_text("Hidden until")
    expect(page.locator("body")).not_to_contain_text("7/10")
    expect(page.locator("body")).not_to_contain_text("not responsive")
    sign_out(page)

    # The client sees both and responds to the freelancer's feedback.
    sign_in(page, live_server, "clara")
    open_contract(page, live_server, contract)
    expect(page.locator("#my-feedback")).to_contain_text(CLIENT_COMMENT)
    expect(page.locator("#their-feedback")).to_contain_text(FREELANCER_COMMENT)
    expect(page.locator("body")).not_to_contain_text("10/10")
    page.locator("#their-feedback").get_by_label("Your public response").fill(RESPONSE)
    page.get_by_role("button", name="Post response").click()
    expect(page.get_by_role("status").filter(has_text="Your response is posted.")).to_be_visible()
    expect(page.locator("#their-feedback")).to_contain_text(f"Your response: “{RESPONSE}”")
    expect(page.get_by_role("button", name="Post response")).to_have_count(0)

    revealed = set(Feedback.objects.filter(contract=contract).values_list("revealed_at", flat=True))
    assert len(revealed) == 1 and None not in revealed
    assert FeedbackResponse.objects.get().feedback.author == felix

    # The freelancer's profile shows the client's comment; the client's shows the
    # freelancer's comment with the client's response beside it.
    page.goto(f"{live_server.url}/people/felix/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Felix Freelancer")
    expect(page.locator("#score")).to_contain_text("4.83")
    expect(page.locator(".feedback-list")).to_contain_text(CLIENT_COMMENT)
    expect(page.locator("body")).not_to_contain_text("7/10")
    page.goto(f"{live_server.url}/people/clara/")
    expect(page.locator(".feedback-list")).to_contain_text(FREELANCER_COMMENT)
    expect(page.locator(".feedback-list")).to_contain_text(f"Response: “{RESPONSE}”")
    expect(page.locator("body")).not_to_contain_text("10/10")

"""A reviewer works the queue in the browser: opens a flag raised by the detectors,
suspends the freelancer, and the freelancer's open fixed-price contract ends with
its escrow back with the client (issue 6, "Done when")."""

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from billing.selectors import balance_of, escrow_held_cents
from contracts import services
from contracts.models import AccountSuspension, ContractState, Flag, FlagDecision, FlagRule, MilestoneState
from tests.factories import FixedContractFactory, MilestoneFactory, UserFactory
from tests.fixtures.browser import sign_in
from tests.fixtures.feedback import ended_contract, freelancer_feedback

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reviewer_suspends_a_freelancer_and_the_open_contract_ends_with_escrow_returned(page, live_server):
    reviewer = UserFactory(username="rita", first_name="Rita", is_staff=True)
    reviewer.user_permissions.add(Permission.objects.get(codename="review_flags"))
    freelancer = UserFactory(username="felix", first_name="Felix")
    client = UserFactory(username="clara", first_name="Clara")
    # The freelancer asks to be paid on PayPal in a feedback comment: the detector flags it.
    done = ended_contract(freelancer=freelancer, title="Landing page")
    freelancer_feedback(done, public_comment="Thanks! Next time pay me on PayPal, it is cheaper for both of us.")
    flag = Flag.objects.get(rule=FlagRule.OFF_PLATFORM_CONTACT, subject=freelancer)
    # An open fixed-price contract with $250.00 in escrow.
    contract = FixedContractFactory(client=client, freelancer=freelancer, title="Mobile app redesign")
    milestone = MilestoneFactory(contract=contract, amount_cents=250_00, title="Wireframes", position=1)
    services.milestone_fund(milestone=milestone, by=client)
    assert escrow_held_cents(milestone) == 250_00

    sign_in(page, live_server, "rita")
    page.get_by_role("link", name="Review").click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    page.locator("table.flags").get_by_role("link", name=FlagRule.OFF_PLATFORM_CONTACT.label).click()
    expect(page.get_by_role("heading", name="Evidence")).to_be_visible()
    expect(page.locator("dl.evidence mark").first).to_contain_text("PayPal")
    expect(page.locator("table.subject-contracts")).to_contain_text("Mobile app redesign")
    page.get_by_label("Suspend the account").check()
    page.get_by_label("Note").fill("Asked a client to pay outside the portal.")
    page.get_by_role("button", name="Record decision").click()

    expect(page.get_by_role("status").filter(has_text="account is closed")).to_contain_text("1 open contract ended")
    expect(page.locator("table.decisions")).to_contain_text("Asked a client to pay outside the portal.")
    expect(page.locator("table.subject-contracts")).to_contain_text("Ended")

    decision = FlagDecision.objects.get(flag=flag)
    assert (decision.decision, decision.decided_by_id) == ("suspend", reviewer.pk)
    assert AccountSuspension.objects.get(user=freelancer).created_by_id == reviewer.pk
    contract.refresh_from_db()
    milestone.refresh_from_db()
    assert contract.state == ContractState.ENDED
    assert milestone.state == MilestoneState.REFUNDED
    assert escrow_held_cents(milestone) == 0
    assert balance_of(f"escrow:{contract.pk}") == 0
    assert balance_of(f"client-funds:{client.pk}") == 0

    sign_in(page, live_server, "clara")
    page.goto(f"{live_server.url}/contracts/{contract.pk}/")
    expect(page.locator("p.banner.ended")).to_contain_text("This contract ended")
    row = page.locator(f"#milestone-{milestone.pk}")
    expect(row).to_contain_text("Escrow returned")
    expect(row).to_contain_text("$0.00")
    expect(page.get_by_role("link", name="Review")).to_have_count(0)

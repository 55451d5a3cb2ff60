"""In the browser: the other party declines a proposal to end with a message the
proposer reads; while notice runs, the other party ends at once from the dialog,
which says the notice is cut short."""

import pytest
from playwright.sync_api import expect

from billing.models import Invoice
from contracts import services
from contracts.models import ContractState, Notification
from tests.factories import DiaryEntryFactory, HourlyContractFactory, UserFactory
from tests.fixtures.browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_freelancer_declines_a_proposal_with_a_message_the_client_reads(page, live_server):
    contract = HourlyContractFactory(
        title="Data pipeline",
        client=UserFactory(username="clara", first_name="Clara"),
        freelancer=UserFactory(username="felix", first_name="Felix"),
    )
    services.contract_propose_end(contract=contract, by=contract.client)

    sign_in(page, live_server, "felix")
    page.goto(f"{live_server.url}/contracts/{contract.pk}/")
    proposal = page.locator("#end-proposal")
    expect(proposal).to_contain_text("Clara proposed ending this contract by mutual agreement")
    proposal.get_by_label("Message to Clara (optional)").fill("Let's finish the API first.")
    proposal.get_by_role("button", name="Decline the proposal").click()

    expect(page.get_by_text("You declined the proposal to end the contract; it continues as before.")).to_be_visible()
    expect(page.locator("#end-proposal")).to_have_count(0)
    contract.refresh_from_db()
    assert (contract.state, contract.end_proposed_by) == (ContractState.ACTIVE, None)
    told = Notification.objects.get(user=contract.client, message__contains="declined")
    assert "Their message: “Let's finish the API first.”" in told.message


def test_the_client_ends_at_once_while_the_freelancers_notice_runs(page, live_server):
    contract = HourlyContractFactory(
        title="Data pipeline",
        notice_days=14,
        client=UserFactory(username="clara", first_name="Clara"),
        freelancer=UserFactory(username="felix", first_name="Felix"),
    )
    DiaryEntryFactory(contract=contract, minutes=60)
    services.contract_give_notice(contract=contract, by=contract.freelancer, reason="completed")

    sign_in(page, live_server, "clara")
    page.goto(f"{live_server.url}/contracts/{contract.pk}/")
    page.locator("summary[aria-label='Contract options']").click()
    page.get_by_role("link", name="End now (cut the notice short)").click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_contain_text("Notice cut short")
    expect(dialog).to_contain_text("the notice Felix gave would have ended the contract on")
    expect(dialog).to_contain_text("1:00 h at $50.00/h = $50.00")
    dialog.get_by_label("Job completed successfully").check()
    dialog.get_by_role("button", name="End contract").click()

    expect(page.get_by_text("The contract has ended.")).to_be_visible()
    contract.refresh_from_db()
    assert contract.state == ContractState.ENDED
    assert contract.ended_at < contract.notice_effective_at
    assert Invoice.objects.get(contract=contract).amount_cents == 50_00

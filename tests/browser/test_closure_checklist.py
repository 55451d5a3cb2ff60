import pytest
from django.core import mail
from playwright.sync_api import expect

from contracts import services
from contracts.models import ChecklistItem
from tests.factories import DiaryEntryFactory, HourlyContractFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ending_in_the_browser_sends_each_party_a_checklist_they_tick_off_while_the_other_sees_progress(
    page, live_server, signed_in
):
    client = UserFactory(username="clara", first_name="Clara", last_name="Client")
    freelancer = UserFactory(username="felix", first_name="Felix", last_name="Freelancer")
    contract = HourlyContractFactory(client=client, freelancer=freelancer, title="API work")
    DiaryEntryFactory(contract=contract, minutes=60)

    signed_in("felix")
    page.goto(f"{live_server.url}/contracts/{contract.pk}/")
    page.get_by_label("Contract options").click()
    page.get_by_role("link", name="End contract").click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_label("Job completed successfully").check()
    dialog.get_by_role("button", name="End contract").click()

    checklist = page.locator("#checklist")
    expect(checklist).to_contain_text("Turn in all work")
    expect(checklist).to_contain_text("Clara Client has done 0 of 2 steps")
    subjects = sorted(message.subject for message in mail.outbox)
    assert subjects == [
        "Closing “API work”: your checklist",
        "Closing “API work”: your checklist",
        "How did “API work” go? Leave feedback",
        "How did “API work” go? Leave feedback",
    ]
    freelancer_checklist = next(m for m in mail.outbox if m.to == [freelancer.email] and "checklist" in m.subject)
    assert "refunded" in freelancer_checklist.body

    checklist.get_by_role("button", name="Mark as done: Turn in all work").click()
    expect(page.locator("#messages")).to_contain_text("“Turn in all work” done")
    assert ChecklistItem.objects.get(user=freelancer, code="turn_in_work").done_at is not None

    page.get_by_role("button", name="Sign out").click()
    signed_in("clara")
    page.goto(f"{live_server.url}/contracts/{contract.pk}/")
    expect(page.locator("#their-checklist")).to_contain_text("Felix Freelancer has done 1 of 3 steps")
    expect(page.locator("#checklist")).to_contain_text("Revoke passwords given to the freelancer")


def test_a_party_cannot_tick_the_other_partys_checklist(client):
    contract = HourlyContractFactory()
    services.contract_end(contract=contract, by=contract.client, reason="completed")
    item = ChecklistItem.objects.filter(user=contract.freelancer).first()
    client.force_login(contract.client)
    response = client.post(f"/contracts/{contract.pk}/checklist/{item.pk}/", {"done": "1"})
    assert response.status_code == 404
    item.refresh_from_db()
    assert item.done_at is None

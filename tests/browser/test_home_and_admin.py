import re

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from billing.selectors import escrow_held_cents
from contracts import services
from contracts.demo import DEMO_PASSWORD
from contracts.models import ContractState, MilestoneState, StateChange
from tests.factories import (
    DiaryEntryFactory,
    FixedContractFactory,
    HourlyContractFactory,
    MilestoneFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_page_lists_every_demo_login_with_its_password_in_demo_mode(page, live_server, settings):
    settings.PORTAL_DEMO_MODE = True
    page.goto(live_server.url)
    expect(page.get_by_role("heading", name="Demo accounts")).to_be_visible()
    for username in ("clara", "felix", "fiona", "admin"):
        expect(page.locator("table.demo-logins")).to_contain_text(username)
    expect(page.locator("#demo-password")).to_have_text(DEMO_PASSWORD)


def test_signed_in_freelancer_sees_own_contracts_and_not_others(signed_in, live_server):
    freelancer = UserFactory(username="felix")
    mine = HourlyContractFactory(freelancer=freelancer, title="Backend API development")
    HourlyContractFactory(title="Someone else's contract")
    page = signed_in("felix")
    page.get_by_role("link", name="My Jobs").first.click()
    table = page.locator("table.jobs")
    expect(table).to_contain_text("Backend API development")
    expect(table).to_contain_text("Freelancer")
    expect(table).not_to_contain_text("Someone else's contract")
    expect(table).to_contain_text(mine.get_state_display())


def test_wrong_password_is_refused_with_a_message(signed_in):
    UserFactory(username="felix")
    page = signed_in("felix", "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("correct username or e-mail address and password")


def test_admin_with_permission_force_ends_a_contract_and_escrow_returns_to_the_client(page, live_server):
    admin = UserFactory(username="ada", is_staff=True)
    admin.user_permissions.add(
        Permission.objects.get(codename="force_end_contract"),
        Permission.objects.get(codename="view_contract"),
        Permission.objects.get(codename="change_contract"),
    )
    contract = FixedContractFactory(title="Suspicious contract")
    milestone = MilestoneFactory(contract=contract, amount_cents=250_00)
    services.milestone_fund(milestone=milestone, by=contract.client)

    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/admin/contracts/contract/")
    page.locator(f"input[name='_selected_action'][value='{contract.pk}']").check()
    page.locator("select[name='action']").select_option("force_end")
    page.locator("input[name='reason']").fill("Account suspended: payment outside the platform")
    page.get_by_role("button", name="Go").click()

    expect(page.get_by_role("heading", name="Force end contracts?")).to_be_visible()
    plan = page.locator(f"#force-end-plan-{contract.pk}")
    expect(plan).to_contain_text(f"“{milestone.title}” ($250.00 in escrow): $250.00 returned to the client.")
    expect(plan).to_contain_text("Escrow returned to the client: $250.00.")
    expect(page.locator("blockquote.force-end-reason")).to_have_text("Account suspended: payment outside the platform")
    assert not StateChange.objects.filter(contract=contract, transition="force_end").exists()
    page.get_by_role("button", name="Yes, force end 1 contract").click()

    expect(page.locator("ul.messagelist")).to_contain_text("1 contract ended.")
    contract.refresh_from_db()
    milestone.refresh_from_db()
    assert contract.state == ContractState.ENDED
    assert contract.ended_by == admin
    assert milestone.state == MilestoneState.REFUNDED
    assert escrow_held_cents(milestone) == 0
    assert StateChange.objects.filter(contract=contract, transition="force_end", actor=admin).count() == 1


def test_cancelling_the_force_end_confirmation_goes_back_to_the_list_and_ends_nothing(page, live_server):
    admin = UserFactory(username="ada", is_staff=True)
    admin.user_permissions.add(
        Permission.objects.get(codename="force_end_contract"), Permission.objects.get(codename="view_contract")
    )
    contract = HourlyContractFactory(title="Contract under review")
    DiaryEntryFactory(contract=contract, minutes=90)

    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/admin/contracts/contract/?kind__exact=hourly")
    page.locator(f"input[name='_selected_action'][value='{contract.pk}']").check()
    page.locator("select[name='action']").select_option("force_end")
    page.locator("input[name='reason']").fill("Suspected payment outside the platform")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(f"#force-end-plan-{contract.pk}")).to_contain_text("Hours billed: 1:30 h at $50.00/h = $75.00")
    page.get_by_role("link", name="No, take me back").click()

    expect(page).to_have_url(f"{live_server.url}/admin/contracts/contract/?kind__exact=hourly")
    expect(page.get_by_text("Contract under review")).to_be_visible()
    contract.refresh_from_db()
    assert contract.state == ContractState.ACTIVE
    assert not contract.invoices.exists()
    assert not StateChange.objects.filter(contract=contract, transition="force_end").exists()


def test_staff_without_force_end_permission_is_not_offered_the_action(page, live_server):
    staff = UserFactory(username="sam", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_contract"))
    HourlyContractFactory(title="Ordinary contract")
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/admin/contracts/contract/")
    expect(page.get_by_text("Ordinary contract")).to_be_visible()
    options = page.locator("select[name='action'] option").all_text_contents()
    assert not any(re.search("force end", option, re.I) for option in options)

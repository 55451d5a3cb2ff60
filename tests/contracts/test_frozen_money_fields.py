"""Fields that decide where money is or who the parties are never change once written:
read-only in every admin form, and refused by PostgreSQL for any other path."""

import re

import pytest
from django.contrib import admin
from django.db import IntegrityError
from django.urls import reverse

from billing.models import (
    EscrowMovement,
    Invoice,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Payment,
    Refund,
)
from billing.selectors import escrow_held_cents
from billing.services.refunds import refund_create
from contracts import services
from contracts.models import (
    Contract,
    DiaryEntry,
    EscrowRefundRequest,
    Milestone,
    MilestoneState,
    RateChange,
    RateChangeProposal,
    WeeklyLimitChange,
)
from contracts.services import MilestoneChoice, MilestoneDecision
from tests.factories import (
    DiaryEntryFactory,
    FixedContractFactory,
    HourlyContractFactory,
    MilestoneFactory,
    UserFactory,
)
from tests.fixtures.database import execute, refused

# Per model, the fields an admin form must never let anyone change on an existing row
# ("__all__": the model is not editable in the admin at all).
MONEY_FIELDS = {
    Contract: {"client", "freelancer", "kind", "hourly_rate_cents", "notice_days", "started_at", "state"}
    | {"description", "manual_time_allowed", "weekly_hour_limit"},
    Milestone: {"contract", "state"},  # and "amount_cents" once funded, checked below
    DiaryEntry: {"contract"},
    EscrowRefundRequest: "__all__",
    Payment: "__all__",
    Invoice: "__all__",
    Refund: "__all__",
    EscrowMovement: "__all__",
    LedgerAccount: "__all__",
    LedgerTransaction: "__all__",
    LedgerEntry: "__all__",
    WeeklyLimitChange: "__all__",
    RateChangeProposal: "__all__",
    RateChange: "__all__",
}


@pytest.fixture
def world(db):
    """One row of each model that holds or decides money, made by the services."""
    hourly = HourlyContractFactory()
    entry = DiaryEntryFactory(contract=hourly, minutes=60)
    services.contract_end(contract=hourly, by=hourly.client, reason="completed")
    payment = Payment.objects.get(contract=hourly)
    refund = refund_create(payment=payment, by=hourly.freelancer, amount_cents=5_00, idempotency_key="frozen-1")

    fixed = FixedContractFactory()
    funded = MilestoneFactory(contract=fixed, amount_cents=300_00)
    services.milestone_fund(milestone=funded, by=fixed.client)
    pending = MilestoneFactory(contract=fixed, amount_cents=50_00)
    open_entry = DiaryEntryFactory(contract=HourlyContractFactory(), minutes=30)

    ended_fixed = FixedContractFactory(client=fixed.client)
    asked_back = MilestoneFactory(contract=ended_fixed, amount_cents=100_00)
    services.milestone_fund(milestone=asked_back, by=ended_fixed.client)
    services.contract_end(
        contract=ended_fixed,
        by=ended_fixed.client,
        reason="unsuccessful",
        milestone_decisions={asked_back.pk: MilestoneDecision(MilestoneChoice.PAY_NOTHING)},
    )
    return {
        "hourly": hourly,
        "fixed": fixed,
        "funded": funded,
        "pending": pending,
        "entry": entry,
        "open_entry": open_entry,
        "payment": payment,
        "refund": refund,
        "refund_request": EscrowRefundRequest.objects.get(milestone=asked_back),
    }


# The admin.


@pytest.fixture
def superuser_client(client, db):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def editable_fields(response) -> set[str]:
    """Names of the inputs, selects and textareas a change form lets its user edit."""
    html = response.content.decode()
    names = set(re.findall(r'<(?:input|select|textarea)[^>]*\sname="([^"]+)"', html))
    hidden = set(re.findall(r'<input[^>]*type="hidden"[^>]*\sname="([^"]+)"', html))
    hidden |= set(re.findall(r'<input[^>]*\sname="([^"]+)"[^>]*type="hidden"', html))
    return names - hidden


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def test_every_admin_of_a_model_holding_money_is_reviewed_here():
    """A model with a contract, milestone, payment or amount registered in the admin
    must be listed in MONEY_FIELDS, so a new admin cannot escape these checks."""
    money_like = {"contract", "milestone", "payment", "amount_cents", "client", "freelancer", "ledger_transaction"}
    missing = [
        model.__name__
        for model in admin.site._registry
        if model._meta.app_label in ("contracts", "billing")
        and money_like & {field.name for field in model._meta.fields}
        and model not in MONEY_FIELDS
        and model._meta.model_name not in REVIEWED_ELSEWHERE
    ]
    assert missing == []


# Admins whose rows name a contract but decide no money: records and workers' rows,
# shown read-only (checked below).
REVIEWED_ELSEWHERE = {
    *("statechange", "flag", "flagdecision", "feedback", "feedbackresponse", "scheduledjob", "checklistitem")
}


@pytest.mark.django_db
@pytest.mark.parametrize("model_name", sorted(REVIEWED_ELSEWHERE))
def test_admins_of_records_that_name_a_contract_edit_no_contract(rf, model_name):
    request = rf.get("/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    [model_admin] = [a for m, a in admin.site._registry.items() if m._meta.model_name == model_name]
    assert not model_admin.has_change_permission(request) or "contract" in model_admin.get_readonly_fields(request)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["hourly", "fixed", "funded", "entry", "open_entry", "payment", "refund", "refund_request"]
)
def test_no_admin_change_form_lets_anyone_edit_a_field_that_decides_money_or_parties(superuser_client, world, name):
    obj = world[name]
    response = superuser_client.get(change_url(obj))
    assert response.status_code == 200
    frozen = MONEY_FIELDS[type(obj)]
    editable = editable_fields(response) - {"csrfmiddlewaretoken", "_save", "_continue", "_addanother"}
    if frozen == "__all__":
        assert not {field.name for field in type(obj)._meta.fields} & editable
    else:
        assert not frozen & editable
    if isinstance(obj, Milestone) and obj.state != MilestoneState.PENDING:
        assert "amount_cents" not in editable


@pytest.mark.django_db
def test_admin_never_moves_a_funded_milestone_to_another_contract(superuser_client, world):
    funded, other = world["funded"], FixedContractFactory()
    response = superuser_client.post(
        change_url(funded),
        {"contract": other.pk, "title": "Moved", "amount_cents": 1_00, "due_date": "", "_save": "Save"},
    )
    assert response.status_code == 302
    funded.refresh_from_db()
    assert (funded.contract_id, funded.amount_cents, funded.title) == (world["fixed"].pk, 300_00, "Moved")
    assert escrow_held_cents(funded) == 300_00


@pytest.mark.django_db
def test_admin_may_change_the_amount_of_a_milestone_not_yet_funded(superuser_client, world):
    pending = world["pending"]
    response = superuser_client.post(
        change_url(pending), {"title": pending.title, "amount_cents": 75_00, "due_date": "", "_save": "Save"}
    )
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.amount_cents == 75_00


@pytest.mark.django_db
def test_admin_never_moves_a_diary_entry_to_another_contract(superuser_client, world):
    entry = world["open_entry"]
    other = HourlyContractFactory()
    superuser_client.post(
        change_url(entry),
        {"contract": other.pk, "work_date": entry.work_date.isoformat(), "minutes": 45, "memo": "x", "_save": "Save"},
    )
    entry.refresh_from_db()
    assert entry.contract_id != other.pk


@pytest.mark.django_db
def test_admin_adds_a_contract_through_the_service_with_its_checks(superuser_client):
    person = UserFactory()
    form = {
        "title": "Logo",
        "description": "",
        "client": person.pk,
        "freelancer": person.pk,
        "kind": "fixed",
        "hourly_rate_cents": "",
        "weekly_hour_limit": "",
        "notice_days": 0,
        "started_at_0": "2026-12-01",
        "started_at_1": "10:00:00",
        # The read-only inlines of the add page.
        "milestones-TOTAL_FORMS": 0,
        "milestones-INITIAL_FORMS": 0,
        "state_changes-TOTAL_FORMS": 0,
        "state_changes-INITIAL_FORMS": 0,
    }
    response = superuser_client.post(reverse("admin:contracts_contract_add"), form)
    assert response.status_code == 200
    assert "A contract needs two different people" in response.content.decode()
    assert not Contract.objects.exists()

    response = superuser_client.post(reverse("admin:contracts_contract_add"), {**form, "freelancer": UserFactory().pk})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Contract.objects.get().title == "Logo"


@pytest.mark.django_db
def test_admin_adds_a_milestone_through_the_service_with_its_minimum(superuser_client, world):
    fixed = world["fixed"]
    url = reverse("admin:contracts_milestone_add")
    response = superuser_client.post(url, {"contract": fixed.pk, "title": "Extra", "amount_cents": 4_99})
    assert response.status_code == 200
    assert "A milestone must be at least $5.00." in response.content.decode()
    response = superuser_client.post(url, {"contract": fixed.pk, "title": "Extra", "amount_cents": 5_00})
    assert response.status_code == 302
    added = Milestone.objects.get(title="Extra")
    assert (added.contract_id, added.position, added.state) == (fixed.pk, 3, MilestoneState.PENDING)
    response = superuser_client.post(url, {"contract": world["hourly"].pk, "title": "Hourly", "amount_cents": 5_00})
    assert "Hourly contracts have no milestones." in response.content.decode()


# PostgreSQL refuses the same for every other path.


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("column", "value"),
    [("client_id", "other"), ("freelancer_id", "other"), ("kind", "'fixed'"), ("hourly_rate_cents", "1")]
    + [("notice_days", "30"), ("started_at", "now() - interval '1 year'"), ("weekly_hour_limit", "10")],
)
def test_database_refuses_to_change_a_contracts_parties_or_terms(world, column, value):
    hourly = world["hourly"]
    if value == "other":
        value = str(UserFactory().pk)
    error = refused(f"UPDATE contracts_contract SET {column} = {value} WHERE id = %s", [hourly.pk])  # noqa: S608
    assert isinstance(error, IntegrityError)
    assert f"contract {hourly.pk}: its parties and agreed terms cannot change" in str(error)


@pytest.mark.postgres
@pytest.mark.django_db
def test_database_lets_the_title_change(world):
    """A weekly limit decided later is a row of its own (WeeklyLimitChange), never an
    edit of the limit agreed at the start."""
    execute("UPDATE contracts_contract SET title = 'Renamed' WHERE id = %s", [world["hourly"].pk])
    assert Contract.objects.filter(title="Renamed").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db
def test_database_refuses_to_move_a_milestone_or_change_a_funded_amount(world):
    funded, other = world["funded"], FixedContractFactory()
    error = refused("UPDATE contracts_milestone SET contract_id = %s WHERE id = %s", [other.pk, funded.pk])
    assert f"milestone {funded.pk}: its contract cannot change" in str(error)
    error = refused("UPDATE contracts_milestone SET amount_cents = 1000 WHERE id = %s", [funded.pk])
    assert f"milestone {funded.pk}: its amount cannot change once it has been funded" in str(error)
    execute("UPDATE contracts_milestone SET amount_cents = 1000 WHERE id = %s", [world["pending"].pk])
    assert Milestone.objects.get(pk=world["pending"].pk).amount_cents == 1000


@pytest.mark.postgres
@pytest.mark.django_db
def test_database_refuses_to_move_a_diary_entry_to_another_contract(world):
    entry, other = world["open_entry"], HourlyContractFactory()
    error = refused("UPDATE contracts_diaryentry SET contract_id = %s WHERE id = %s", [other.pk, entry.pk])
    assert f"diary entry {entry.pk}: its contract cannot change" in str(error)


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("column", "value"), [("amount_cents", "1"), ("contract_id", "contract"), ("milestone_id", "m")]
)
def test_database_refuses_to_change_what_a_refund_request_asks_for(world, column, value):
    request = world["refund_request"]
    value = {"contract": world["fixed"].pk, "m": world["pending"].pk}.get(value, value)
    error = refused(f"UPDATE contracts_escrowrefundrequest SET {column} = %s WHERE id = %s", [value, request.pk])  # noqa: S608
    assert f"refund request {request.pk}: its contract, milestone and amount cannot change" in str(error)


@pytest.mark.postgres
@pytest.mark.django_db
def test_database_refuses_to_change_or_delete_a_ledger_account(world):
    account = LedgerAccount.objects.filter(contract=world["fixed"]).first()
    other = FixedContractFactory()
    error = refused("UPDATE billing_ledgeraccount SET contract_id = %s WHERE id = %s", [other.pk, account.pk])
    assert f"ledger account {account.pk}: whose money it holds cannot change" in str(error)
    refused("DELETE FROM billing_ledgeraccount WHERE id = %s", [account.pk])
    assert LedgerAccount.objects.filter(pk=account.pk, contract=world["fixed"]).exists()

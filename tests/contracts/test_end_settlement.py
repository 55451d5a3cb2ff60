"""How each way of ending settles money: notice periods running out (client's or
freelancer's notice), mutual ends, platform force ends, and the preview of giving
notice. The parties' own immediate ends are in tests/billing/test_escrow_and_fixed_end.py."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission

from billing.selectors import escrow_held_cents
from contracts import services
from contracts.models import (
    ContractState,
    EndKind,
    EscrowRefundRequest,
    Milestone,
    MilestoneState,
    RefundRequestState,
)
from contracts_portal.errors import DomainError
from tests.factories import (
    DiaryEntryFactory,
    FixedContractFactory,
    HourlyContractFactory,
    MilestoneFactory,
    UserFactory,
)
from tests.fixtures.contracts import funded
from tests.fixtures.money import assert_ledger_balanced, balances

T0 = datetime(2025, 5, 7, 10, 0, tzinfo=UTC)


def fixed_with_notice(days: int = 7):
    with time_machine.travel(T0 - timedelta(days=30), tick=False):
        return FixedContractFactory(notice_days=days, started_at=T0 - timedelta(days=30))


@pytest.mark.django_db
def test_client_notice_running_out_turns_escrow_into_refund_requests_the_freelancer_can_dispute():
    contract = fixed_with_notice()
    with time_machine.travel(T0, tick=False):
        first, second = funded(contract, 300_00), funded(contract, 200_00)
        services.contract_give_notice(contract=contract, by=contract.client, reason="unsuccessful", note="Off brief")
    with time_machine.travel(T0 + timedelta(days=7, hours=2), tick=False):
        plan = services.contract_elapse_notice(contract_id=contract.pk)

    contract.refresh_from_db()
    assert contract.state == ContractState.ENDED
    assert contract.end_kind == EndKind.NOTICE
    assert contract.ended_by == contract.client
    assert contract.ended_at == T0 + timedelta(days=7)
    assert plan.refund_requested_cents == 500_00
    requests = {r.milestone_id: r for r in EscrowRefundRequest.objects.filter(contract=contract)}
    assert {pk: r.amount_cents for pk, r in requests.items()} == {first.pk: 300_00, second.pk: 200_00}
    assert {r.state for r in requests.values()} == {RefundRequestState.OPEN}
    assert requests[first.pk].client_statement == "The client's notice period ended with this escrow not released."
    assert "Off brief" not in {r.client_statement for r in requests.values()}
    assert escrow_held_cents(first) == 300_00
    assert Milestone.objects.get(pk=first.pk).state == MilestoneState.REFUND_REQUESTED
    assert_ledger_balanced()


@pytest.mark.django_db
def test_freelancer_notice_running_out_returns_escrow_and_its_fee_to_the_client():
    contract = fixed_with_notice()
    with time_machine.travel(T0, tick=False):
        milestone = funded(contract, 400_00)
        charged = balances(contract)
        services.contract_give_notice(contract=contract, by=contract.freelancer, reason="completed")
    with time_machine.travel(T0 + timedelta(days=7), tick=False):
        services.contract_elapse_notice(contract_id=contract.pk)

    after = balances(contract)
    assert charged["client"] == -420_00
    assert after["client"] == 0
    assert after["escrow"] == 0
    assert after["earnings"] == 0
    assert Milestone.objects.get(pk=milestone.pk).state == MilestoneState.REFUNDED
    assert not EscrowRefundRequest.objects.filter(contract=contract).exists()
    assert_ledger_balanced()


@pytest.mark.django_db
def test_mutual_end_returns_unreleased_escrow_and_cancels_unfunded_milestones():
    contract = FixedContractFactory()
    held = funded(contract, 250_00)
    unfunded = MilestoneFactory(contract=contract, amount_cents=100_00)
    services.contract_propose_end(contract=contract, by=contract.freelancer)
    plan = services.contract_accept_end(contract=contract, by=contract.client, reason="completed")

    contract.refresh_from_db()
    assert contract.is_no_fault
    assert plan.escrow_returned_cents == 250_00
    assert Milestone.objects.get(pk=held.pk).state == MilestoneState.REFUNDED
    assert Milestone.objects.get(pk=unfunded.pk).state == MilestoneState.CANCELLED
    assert escrow_held_cents(held) == 0
    assert_ledger_balanced()


@pytest.mark.django_db
def test_force_end_bills_recorded_hourly_time_and_locks_the_diary():
    admin = UserFactory(is_staff=True)
    admin.user_permissions.add(Permission.objects.get(codename="force_end_contract"))
    admin = type(admin).objects.get(pk=admin.pk)
    contract = HourlyContractFactory(hourly_rate_cents=6000)
    DiaryEntryFactory(contract=contract, minutes=150)

    plan = services.contract_force_end(contract=contract, by=admin, reason="Account suspended")

    contract.refresh_from_db()
    assert contract.end_kind == EndKind.FORCED
    assert contract.end_reason_note == "Account suspended"
    assert plan.unbilled_cents == 150_00
    assert contract.invoices.get().amount_cents == 150_00
    with pytest.raises(DomainError, match="work diary is locked"):
        services.diary_entry_add(
            contract=contract, by=contract.freelancer, work_date=contract.started_at.date(), minutes=30, memo="More"
        )


@pytest.mark.django_db
def test_force_end_needs_a_reason():
    admin = UserFactory(is_superuser=True, is_staff=True)
    contract = HourlyContractFactory()
    with pytest.raises(DomainError, match="Say why"):
        services.contract_force_end(contract=contract, by=admin, reason="  ")
    contract.refresh_from_db()
    assert contract.state == ContractState.ACTIVE


@pytest.mark.django_db
def test_preview_of_ending_with_notice_shows_when_the_end_takes_effect_and_writes_nothing():
    with time_machine.travel(T0, tick=False):
        contract = HourlyContractFactory(notice_days=14, hourly_rate_cents=4000)
        DiaryEntryFactory(contract=contract, minutes=90, work_date=T0.date())
        plan = services.contract_end_preview(contract=contract, by=contract.freelancer)

    assert plan.transition == "give_notice"
    assert not plan.ends_now
    assert plan.takes_effect_at == T0 + timedelta(days=14)
    assert plan.feedback_closes_at == T0 + timedelta(days=28)
    assert plan.unbilled_minutes == 90
    assert plan.unbilled_cents == 60_00
    assert plan.locks_diary
    assert "breaks the terms" in plan.circumvention_warning
    contract.refresh_from_db()
    assert contract.state == ContractState.ACTIVE
    assert contract.invoices.count() == 0


@pytest.mark.django_db
def test_preview_for_the_other_party_of_a_proposal_is_the_mutual_end():
    contract = HourlyContractFactory()
    contract = services.contract_propose_end(contract=contract, by=contract.client)
    assert services.contract_end_preview(contract=contract, by=contract.freelancer).transition == "accept_end"
    assert services.contract_end_preview(contract=contract, by=contract.client).transition == "end"


@pytest.mark.django_db
def test_no_new_time_after_the_notice_takes_effect_even_before_the_sweep_ends_the_contract():
    with time_machine.travel(T0, tick=False):
        contract = HourlyContractFactory(notice_days=7, started_at=T0 - timedelta(days=20))
        services.contract_give_notice(contract=contract, by=contract.client, reason="completed")
    day_before = T0 + timedelta(days=6, hours=23)
    with time_machine.travel(day_before, tick=False):
        services.diary_entry_add(
            contract=contract, by=contract.freelancer, work_date=day_before.date(), minutes=60, memo="Handover"
        )
    with (
        time_machine.travel(T0 + timedelta(days=7, minutes=1), tick=False),
        pytest.raises(DomainError, match="no new time"),
    ):
        services.diary_entry_add(
            contract=contract,
            by=contract.freelancer,
            work_date=T0.date() + timedelta(days=7),
            minutes=60,
            memo="Too late",
        )
    assert contract.diary_entries.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_transition_outside_a_transaction_is_refused_so_its_log_cannot_be_orphaned():
    contract = HourlyContractFactory()
    with pytest.raises(RuntimeError, match="inside transaction.atomic"):
        contract.pause(by=contract.client, at=T0)
    contract.refresh_from_db()
    assert contract.state == ContractState.ACTIVE
    assert not contract.state_changes.exists()

"""The contract state machine, transition by transition, as docs/state-machine.md (generated
from the transitions' declarations) sets it out.

Each test takes the transition through its service (as the portal does), then reads
the contract back from the database. Refusals must carry the rule's sentence and
leave the database as it was.
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.template import Context, Template

from billing.models import Invoice, LedgerTransaction, Payment
from contracts import services
from contracts.models import Contract, ContractState, EndKind, EndReason, StateChange
from contracts_portal.errors import DomainError
from tests.factories import DiaryEntryFactory, FixedContractFactory, HourlyContractFactory, UserFactory
from tests.fixtures.contracts import fresh
from tests.fixtures.people import force_end_admin

# A fixed instant (a Wednesday) so that messages with dates are exact.
T0 = datetime(2025, 3, 12, 9, 30, tzinfo=UTC)


class HourlyWithNoticeFactory(HourlyContractFactory):
    """An active hourly contract whose terms set a 14-day notice period."""

    notice_days = 14


class FixedWithNoticeFactory(FixedContractFactory):
    notice_days = 14


def staff_user(**kwargs):
    return UserFactory(is_staff=True, **kwargs)


def snapshot(contract: Contract) -> tuple:
    """What a refused action must not change."""
    row = fresh(contract)
    return (
        row.state,
        row.ended_at,
        row.end_kind,
        row.notice_effective_at,
        row.end_proposed_by_id,
        StateChange.objects.count(),
        Invoice.objects.count(),
        LedgerTransaction.objects.count(),
    )


def only_log_row(contract: Contract) -> StateChange:
    rows = list(StateChange.objects.filter(contract=contract, subject="contract"))
    assert len(rows) == 1
    return rows[0]


def last_log(contract: Contract) -> StateChange:
    return StateChange.objects.filter(contract=contract).order_by("id").last()


# Pause / resume.


@pytest.mark.django_db
def test_client_pauses_and_resumes_hourly_contract_each_logged_once():
    contract = HourlyContractFactory()
    with time_machine.travel(T0, tick=False):
        services.contract_pause(contract=contract, by=contract.client, reason="Holiday")
    assert fresh(contract).state == ContractState.PAUSED
    pause_row = only_log_row(contract)
    assert (pause_row.transition, pause_row.source, pause_row.target) == ("pause", "active", "paused")
    assert pause_row.actor == contract.client
    assert pause_row.reason == "Holiday"
    assert pause_row.created_at == T0

    services.contract_resume(contract=contract, by=contract.client)
    assert fresh(contract).state == ContractState.ACTIVE
    rows = list(
        StateChange.objects.filter(contract=contract)
        .order_by("id")
        .values_list("transition", "source", "target", "actor")
    )
    assert rows == [
        ("pause", "active", "paused", contract.client_id),
        ("resume", "paused", "active", contract.client_id),
    ]


@pytest.mark.django_db
def test_freelancer_cannot_pause_contract():
    contract = HourlyContractFactory()
    before = snapshot(contract)
    with pytest.raises(DomainError) as refused:
        services.contract_pause(contract=contract, by=contract.freelancer)
    assert refused.value.message == "Only the client of this contract can do this."
    assert snapshot(contract) == before
    assert fresh(contract).state == ContractState.ACTIVE


@pytest.mark.django_db
def test_fixed_price_contract_cannot_be_paused():
    contract = FixedContractFactory()
    before = snapshot(contract)
    with pytest.raises(DomainError) as refused:
        services.contract_pause(contract=contract, by=contract.client)
    assert refused.value.message == "Only hourly contracts can be paused."
    assert snapshot(contract) == before


@pytest.mark.django_db
def test_freelancer_cannot_resume_paused_contract():
    contract = HourlyContractFactory()
    services.contract_pause(contract=contract, by=contract.client)
    before = snapshot(contract)
    with pytest.raises(DomainError) as refused:
        services.contract_resume(contract=contract, by=contract.freelancer)
    assert refused.value.message == "Only the client of this contract can do this."
    assert snapshot(contract) == before
    assert fresh(contract).state == ContractState.PAUSED


@pytest.mark.django_db
def test_paused_contract_cannot_be_paused_again():
    contract = HourlyContractFactory()
    services.contract_pause(contract=contract, by=contract.client)
    before = snapshot(contract)
    with pytest.raises(DomainError) as refused:
        services.contract_pause(contract=contract, by=contract.client)
    assert refused.value.message == "You cannot pause this contract while it is paused."
    assert snapshot(contract) == before


# Give notice / withdraw notice.


@pytest.mark.django_db
@pytest.mark.parametrize("giver", ["client", "freelancer"])
def test_either_party_gives_notice_ending_at_now_plus_notice_period(giver):
    contract = HourlyWithNoticeFactory()
    by = getattr(contract, giver)
    with time_machine.travel(T0, tick=False):
        services.contract_give_notice(contract=contract, by=by, reason=EndReason.COMPLETED, note="Project done")
    row = fresh(contract)
    assert row.state == ContractState.ENDING
    assert row.notice_given_by_id == by.pk
    assert row.notice_given_at == T0
    assert row.notice_effective_at == datetime(2025, 3, 26, 9, 30, tzinfo=UTC)
    assert row.ended_at is None
    log = only_log_row(contract)
    assert (log.transition, log.source, log.target, log.actor_id, log.reason) == (
        "give_notice",
        "active",
        "ending",
        by.pk,
        "completed",
    )


@pytest.mark.django_db
def test_notice_can_be_given_on_a_paused_contract():
    contract = HourlyWithNoticeFactory()
    services.contract_pause(contract=contract, by=contract.client)
    services.contract_give_notice(contract=contract, by=contract.freelancer, reason=EndReason.OTHER)
    assert fresh(contract).state == ContractState.ENDING
    last = last_log(contract)
    assert (last.source, last.target) == ("paused", "ending")


@pytest.mark.django_db
def test_notice_cannot_be_given_without_notice_period():
    contract = HourlyContractFactory(notice_days=0)
    before = snapshot(contract)
    with pytest.raises(DomainError) as refused:
        services.contract_give_notice(contract=contract, by=contract.client, reason=EndReason.COMPLETED)
    assert refused.value.message == "This contract has no notice period: end it at once instead."
    assert snapshot(contract) == before


@pytest.mark.django_db
def test_stranger_cannot_give_notice():
    contract = HourlyWithNoticeFactory()
    before = snapshot(contract)
    with pytest.raises(DomainError) as refused:
        services.contract_give_notice(contract=contract, by=UserFactory(), reason=EndReason.COMPLETED)
    assert refused.value.message == "Only the client and the freelancer of this contract can do this."
    assert snapshot(contract) == before


@pytest.mark.django_db
def test_giver_withdraws_notice_before_effective_time():
    contract = HourlyWithNoticeFactory()
    with time_machine.travel(T0, tick=False):
        services.contract_give_notice(contract=contract, by=contract.client, reason=EndReason.COMPLETED)
    with time_machine.travel(T0 + timedelta(days=13, hours=23), tick=False):
        services.contract_withdraw_notice(contract=contract, by=contract.client)
    row = fresh(contract)
    assert row.state == ContractState.ACTIVE
    assert (row.notice_given_by_id, row.notice_given_at, row.notice_effective_at) == (None, None, None)
    assert row.end_reason == ""
    last = last_log(contract)
    assert (last.transition, last.source, last.target, last.actor_id, last.reason) == (
        "withdraw_notice",
        "ending",
        "active",
        contract.client_id,
        "Notice withdrawn",
    )
    assert StateChange.objects.filter(contract=contract).count() == 2


@pytest.mark.django_db
def test_other_party_cannot_withdraw_notice():
    contract = HourlyWithNoticeFactory()
    services.contract_give_notice(contract=contract, by=contract.client, reason=EndReason.COMPLETED)
    before = snapshot(contract)
    with pytest.raises(DomainError) as refused:
        services.contract_withdraw_notice(contract=contract, by=contract.freelancer)
    assert refused.value.message == "Only the party who gave notice can withdraw it."
    assert snapshot(contract) == before
    assert fresh(contract).state == ContractState.ENDING


@pytest.mark.django_db
def test_notice_cannot_be_withdrawn_at_effective_time():
    contract = HourlyWithNoticeFactory()
    with time_machine.travel(T0, tick=False):
        services.contract_give_notice(contract=contract, by=contract.freelancer, reason=EndReason.OTHER)
    with time_machine.travel(T0 + timedelta(days=14), tick=False):
        before = snapshot(contract)
        with pytest.raises(DomainError) as refused:
            services.contract_withdraw_notice(contract=contract, by=contract.freelancer)
        assert refused.value.message == (
            "The notice period is over: the contract is ending now and notice cannot be withdrawn."
        )
        assert snapshot(contract) == before


# Propose / accept a mutual end.


@pytest.mark.django_db
def test_accepted_end_proposal_ends_contract_at_once_as_no_fault():
    contract = HourlyContractFactory()
    with time_machine.travel(T0, tick=False):
        services.contract_propose_end(contract=contract, by=contract.client, note="Let's wrap up")
    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        services.contract_accept_end(contract=contract, by=contract.freelancer, reason=EndReason.COMPLETED)
    row = fresh(contract)
    assert row.state == ContractState.ENDED
    assert row.ended_at == T0 + timedelta(days=2)
    assert row.ended_by_id == contract.freelancer_id
    assert row.end_kind == EndKind.MUTUAL
    assert row.is_no_fault is True
    assert (row.end_proposed_by_id, row.end_proposed_at) == (None, None)
    rows = list(
        StateChange.objects.filter(contract=contract)
        .order_by("id")
        .values_list("transition", "source", "target", "actor", "reason")
    )
    assert rows == [
        ("propose_end", "active", "active", contract.client_id, "Let's wrap up"),
        ("accept_end", "active", "ended", contract.freelancer_id, "completed"),
    ]


@pytest.mark.django_db
def test_proposer_cannot_accept_own_end_proposal():
    contract = HourlyContractFactory()
    services.contract_propose_end(contract=contract, by=contract.client)
    before = snapshot(contract)
    with pytest.raises(DomainError) as refused:
        services.contract_accept_end(contract=contract, by=contract.client, reason=EndReason.COMPLETED)
    assert refused.value.message == "Only the other party can accept or decline a proposal to end this contract."
    assert snapshot(contract) == before
    assert fresh(contract).state == ContractState.ACTIVE


@pytest.mark.django_db
def test_second_end_proposal_refused_while_one_is_open():
    contract = HourlyContractFactory()
    services.contract_propose_end(contract=contract, by=contract.client)
    before = snapshot(contract)
    with pytest.raises(DomainError) as refused:
        services.contract_propose_end(contract=contract, by=contract.freelancer)
    assert refused.value.message == "An end of this contract has already been proposed and is waiting for an answer."
    assert snapshot(contract) == before


@pytest.mark.django_db
def test_accepting_end_during_notice_period_ends_at_once_waiving_notice():
    contract = HourlyWithNoticeFactory()
    with time_machine.travel(T0, tick=False):
        services.contract_give_notice(contract=contract, by=contract.client, reason=EndReason.COMPLETED)
        services.contract_propose_end(contract=contract, by=contract.client)
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        services.contract_accept_end(contract=contract, by=contract.freelancer, reason=EndReason.COMPLETED)
    row = fresh(contract)
    assert row.state == ContractState.ENDED
    assert row.ended_at == T0 + timedelta(days=1)
    assert row.end_kind == EndKind.MUTUAL
    assert row.is_no_fault is True
    last = last_log(contract)
    assert (last.transition, last.source, last.target) == ("accept_end", "ending", "ended")


@pytest.mark.django_db
def test_end_proposal_can_be_accepted_on_day_six():
    contract = HourlyContractFactory()
    with time_machine.travel(T0, tick=False):
        services.contract_propose_end(contract=contract, by=contract.freelancer)
    with time_machine.travel(T0 + timedelta(days=6, hours=23, minutes=59), tick=False):
        services.contract_accept_end(contract=contract, by=contract.client, reason=EndReason.COMPLETED)
    assert fresh(contract).state == ContractState.ENDED


@pytest.mark.django_db
def test_end_proposal_expires_after_seven_days():
    contract = HourlyContractFactory()
    with time_machine.travel(T0, tick=False):
        services.contract_propose_end(contract=contract, by=contract.freelancer)
    with time_machine.travel(T0 + timedelta(days=7), tick=False):
        before = snapshot(contract)
        with pytest.raises(DomainError) as refused:
            services.contract_accept_end(contract=contract, by=contract.client, reason=EndReason.COMPLETED)
        assert refused.value.message == (
            "There is no open proposal to end this contract (it may have expired after 7 days)."
        )
        assert snapshot(contract) == before
        # An expired proposal no longer blocks a new one.
        services.contract_propose_end(contract=contract, by=contract.client)
    assert fresh(contract).end_proposed_by_id == contract.client_id


# End.


@pytest.mark.django_db
@pytest.mark.parametrize("ender", ["client", "freelancer"])
def test_either_party_ends_contract_without_notice_at_once(ender):
    contract = HourlyContractFactory(notice_days=0)
    by = getattr(contract, ender)
    with time_machine.travel(T0, tick=False):
        services.contract_end(contract=contract, by=by, reason=EndReason.NOT_RESPONSIVE, note="No reply")
    row = fresh(contract)
    assert row.state == ContractState.ENDED
    assert row.ended_at == T0
    assert row.ended_by_id == by.pk
    assert row.end_kind == EndKind.PARTY
    assert row.is_no_fault is False
    assert (row.end_reason, row.end_reason_note) == ("not_responsive", "No reply")
    log = only_log_row(contract)
    assert (log.transition, log.source, log.target, log.actor_id, log.reason, log.created_at) == (
        "end",
        "active",
        "ended",
        by.pk,
        "not_responsive",
        T0,
    )


@pytest.mark.django_db
def test_paused_contract_can_be_ended():
    contract = HourlyContractFactory()
    services.contract_pause(contract=contract, by=contract.client)
    services.contract_end(contract=contract, by=contract.freelancer, reason=EndReason.OTHER)
    assert fresh(contract).state == ContractState.ENDED
    last = last_log(contract)
    assert (last.transition, last.source, last.target) == ("end", "paused", "ended")


@pytest.mark.django_db
def test_end_refused_with_notice_period_message_when_terms_set_notice():
    contract = HourlyWithNoticeFactory()
    before = snapshot(contract)
    with pytest.raises(DomainError) as refused:
        services.contract_end(contract=contract, by=contract.client, reason=EndReason.COMPLETED)
    assert refused.value.message == (
        "This contract has a 14-day notice period: give notice instead, and it ends when the notice period is over."
    )
    assert snapshot(contract) == before
    assert fresh(contract).state == ContractState.ACTIVE


@pytest.mark.django_db
def test_end_refused_once_the_notice_period_is_over_before_the_sweep_records_it():
    contract = HourlyWithNoticeFactory()
    services.contract_give_notice(contract=contract, by=contract.client, reason=EndReason.COMPLETED)
    before = snapshot(contract)
    after = fresh(contract).notice_effective_at + timedelta(minutes=1)
    with time_machine.travel(after, tick=False), pytest.raises(DomainError) as refused:
        services.contract_end(contract=contract, by=contract.freelancer, reason=EndReason.COMPLETED)
    assert refused.value.message == "The notice period is over: the contract is ending now."
    assert snapshot(contract) == before


@pytest.mark.django_db
def test_stranger_cannot_end_contract():
    contract = HourlyContractFactory()
    DiaryEntryFactory(contract=contract, minutes=60)
    before = snapshot(contract)
    with pytest.raises(DomainError) as refused:
        services.contract_end(contract=contract, by=UserFactory(), reason=EndReason.COMPLETED)
    assert refused.value.message == "Only the client and the freelancer of this contract can do this."
    assert snapshot(contract) == before
    assert Payment.objects.count() == 0


@pytest.mark.django_db
def test_ending_an_ended_contract_is_refused_and_never_bills_twice():
    contract = HourlyContractFactory()
    DiaryEntryFactory(contract=contract, minutes=90)
    services.contract_end(contract=contract, by=contract.client, reason=EndReason.COMPLETED)
    assert Invoice.objects.get(contract=contract).amount_cents == 7500
    before = snapshot(contract)
    payments_before = Payment.objects.count()
    for by in (contract.client, contract.freelancer):
        with pytest.raises(DomainError) as refused:
            services.contract_end(contract=contract, by=by, reason=EndReason.COMPLETED)
        assert refused.value.message == "This contract has already ended; ending is final."
    assert snapshot(contract) == before
    assert Payment.objects.count() == payments_before == 1
    assert Invoice.objects.filter(contract=contract).count() == 1
    assert StateChange.objects.filter(contract=contract).count() == 1


@pytest.mark.django_db
def test_end_requires_a_known_reason():
    contract = HourlyContractFactory()
    before = snapshot(contract)
    with pytest.raises(DomainError) as refused:
        services.contract_end(contract=contract, by=contract.client, reason="because")
    assert refused.value.message == "Choose a reason for ending the contract."
    assert snapshot(contract) == before


# Notice elapsed.


@pytest.mark.django_db
def test_notice_elapse_refused_before_effective_time():
    contract = HourlyWithNoticeFactory()
    with time_machine.travel(T0, tick=False):
        services.contract_give_notice(contract=contract, by=contract.client, reason=EndReason.COMPLETED)
    with time_machine.travel(T0 + timedelta(days=14) - timedelta(seconds=1), tick=False):
        before = snapshot(contract)
        with pytest.raises(DomainError) as refused:
            services.contract_elapse_notice(contract_id=contract.pk)
        assert refused.value.message == (
            "The notice period is still running: the contract ends on 2025-03-26 09:30 UTC."
        )
        assert snapshot(contract) == before
    assert fresh(contract).state == ContractState.ENDING


@pytest.mark.django_db
def test_notice_elapse_ends_contract_at_effective_time_as_the_giver():
    contract = HourlyWithNoticeFactory()
    with time_machine.travel(T0, tick=False):
        services.contract_give_notice(contract=contract, by=contract.freelancer, reason=EndReason.UNSUCCESSFUL)
    effective = T0 + timedelta(days=14)
    with time_machine.travel(effective, tick=False):
        services.contract_elapse_notice(contract_id=contract.pk)
    row = fresh(contract)
    assert row.state == ContractState.ENDED
    assert row.ended_at == effective
    assert row.end_kind == EndKind.NOTICE
    assert row.ended_by_id == contract.freelancer_id
    assert row.end_reason == "unsuccessful"
    last = last_log(contract)
    assert (last.transition, last.source, last.target, last.actor_id) == ("elapse_notice", "ending", "ended", None)
    assert StateChange.objects.filter(contract=contract).count() == 2


@pytest.mark.django_db
def test_late_notice_sweep_records_end_at_effective_time():
    """The end takes effect at now + notice; a sweep running an hour late must not
    move the end instant (the diary lock and the feedback window hang on it)."""
    contract = HourlyWithNoticeFactory()
    with time_machine.travel(T0, tick=False):
        services.contract_give_notice(contract=contract, by=contract.client, reason=EndReason.COMPLETED)
    with time_machine.travel(T0 + timedelta(days=14, hours=1), tick=False):
        services.contract_elapse_notice(contract_id=contract.pk)
    row = fresh(contract)
    assert row.state == ContractState.ENDED
    assert row.ended_at == row.notice_effective_at == T0 + timedelta(days=14)


@pytest.mark.django_db
def test_notice_elapse_refused_for_contract_not_in_notice():
    contract = HourlyContractFactory()
    before = snapshot(contract)
    with pytest.raises(DomainError) as refused:
        services.contract_elapse_notice(contract_id=contract.pk)
    assert "notice period" in refused.value.message
    assert "active" in refused.value.message
    assert snapshot(contract) == before


# Force end.


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["active", "paused", "ending"])
def test_holder_of_force_end_permission_ends_any_open_contract(state):
    contract = HourlyWithNoticeFactory()
    if state == "paused":
        services.contract_pause(contract=contract, by=contract.client)
    elif state == "ending":
        services.contract_give_notice(contract=contract, by=contract.client, reason=EndReason.COMPLETED)
    admin = force_end_admin()
    logged_before = StateChange.objects.filter(contract=contract).count()
    with time_machine.travel(T0, tick=False):
        services.contract_force_end(contract=contract, by=admin, reason="Account suspended for circumvention")
    row = fresh(contract)
    assert row.state == ContractState.ENDED
    assert row.ended_at == T0
    assert row.ended_by_id == admin.pk
    assert row.end_kind == EndKind.FORCED
    assert (row.end_reason, row.end_reason_note) == ("other", "Account suspended for circumvention")
    assert StateChange.objects.filter(contract=contract).count() == logged_before + 1
    last = last_log(contract)
    assert (last.transition, last.source, last.target, last.actor_id, last.reason) == (
        "force_end",
        state,
        "ended",
        admin.pk,
        "Account suspended for circumvention",
    )


@pytest.mark.django_db
def test_staff_without_force_end_permission_cannot_force_end():
    contract = HourlyContractFactory()
    before = snapshot(contract)
    with pytest.raises(DomainError) as refused:
        services.contract_force_end(contract=contract, by=staff_user(), reason="Suspended")
    assert refused.value.message == "Only platform administrators can force a contract to end."
    assert snapshot(contract) == before


@pytest.mark.django_db
def test_party_cannot_force_end_contract():
    contract = HourlyWithNoticeFactory()
    before = snapshot(contract)
    with pytest.raises(DomainError) as refused:
        services.contract_force_end(contract=contract, by=contract.client, reason="Skip the notice")
    assert refused.value.message == "Only platform administrators can force a contract to end."
    assert snapshot(contract) == before


@pytest.mark.django_db
def test_force_end_of_ended_contract_is_refused_as_final():
    contract = HourlyContractFactory()
    services.contract_end(contract=contract, by=contract.client, reason=EndReason.COMPLETED)
    before = snapshot(contract)
    with pytest.raises(DomainError) as refused:
        services.contract_force_end(contract=contract, by=force_end_admin(), reason="Suspended")
    assert refused.value.message == "This contract has already ended; ending is final."
    assert snapshot(contract) == before


# The protected state field.


@pytest.mark.django_db
def test_state_field_cannot_be_assigned_directly():
    contract = fresh(HourlyContractFactory())
    with pytest.raises(AttributeError, match="Direct state modification is not allowed"):
        contract.state = "ended"
    assert contract.state == ContractState.ACTIVE
    assert fresh(contract).state == ContractState.ACTIVE


# Template tags: the menu of actions and the refusal sentence, per user.


def render(source: str, **context) -> str:
    return Template("{% load contract_rules %}" + source).render(Context(context)).strip()


ACTIONS = '{% actions_for contract user as actions %}{{ actions|join:"," }}'


@pytest.mark.django_db
def test_actions_for_lists_what_each_user_may_do_on_active_hourly_contract():
    contract = HourlyContractFactory(notice_days=0)
    assert set(render(ACTIONS, contract=contract, user=contract.client).split(",")) == {"end", "pause", "propose_end"}
    assert set(render(ACTIONS, contract=contract, user=contract.freelancer).split(",")) == {"end", "propose_end"}
    assert render(ACTIONS, contract=contract, user=UserFactory()) == ""
    superuser = UserFactory(is_staff=True, is_superuser=True)
    assert render(ACTIONS, contract=contract, user=superuser) == "force_end"


@pytest.mark.django_db
def test_actions_for_offers_notice_not_end_when_terms_set_notice():
    contract = HourlyWithNoticeFactory()
    assert set(render(ACTIONS, contract=contract, user=contract.freelancer).split(",")) == {
        "give_notice",
        "propose_end",
    }
    services.contract_give_notice(contract=contract, by=contract.freelancer, reason=EndReason.COMPLETED)
    contract = fresh(contract)
    assert set(render(ACTIONS, contract=contract, user=contract.freelancer).split(",")) == {
        "end",
        "propose_end",
        "withdraw_notice",
    }
    assert set(render(ACTIONS, contract=contract, user=contract.client).split(",")) == {"end", "propose_end"}


@pytest.mark.django_db
def test_actions_for_offers_accept_only_to_the_other_party():
    contract = HourlyContractFactory()
    services.contract_propose_end(contract=contract, by=contract.client)
    contract = fresh(contract)
    assert "accept_end" in render(ACTIONS, contract=contract, user=contract.freelancer).split(",")
    assert "accept_end" not in render(ACTIONS, contract=contract, user=contract.client).split(",")
    assert "propose_end" not in render(ACTIONS, contract=contract, user=contract.freelancer).split(",")


@pytest.mark.django_db
def test_refusal_tag_gives_each_user_the_rule_that_applies():
    contract = HourlyWithNoticeFactory()
    tag = "{% refusal contract transition user %}"
    assert render(tag, contract=contract, transition="pause", user=contract.client) == ""
    assert render(tag, contract=contract, transition="pause", user=contract.freelancer) == (
        "Only the client of this contract can do this."
    )
    assert render(tag, contract=contract, transition="end", user=UserFactory()) == (
        "Only the client and the freelancer of this contract can do this."
    )
    assert render(tag, contract=contract, transition="end", user=contract.client) == (
        "This contract has a 14-day notice period: give notice instead, and it ends when the notice period is over."
    )
    fixed = FixedWithNoticeFactory()
    assert render(tag, contract=fixed, transition="pause", user=fixed.client) == "Only hourly contracts can be paused."


@pytest.mark.django_db
def test_ended_contract_offers_no_actions_and_says_ending_is_final():
    contract = HourlyContractFactory()
    services.contract_end(contract=contract, by=contract.client, reason=EndReason.COMPLETED)
    contract = fresh(contract)
    assert render(ACTIONS, contract=contract, user=contract.client) == ""
    assert render(ACTIONS, contract=contract, user=contract.freelancer) == ""
    assert render("{% refusal contract 'end' user %}", contract=contract, user=contract.freelancer) == (
        "This contract has already ended; ending is final."
    )

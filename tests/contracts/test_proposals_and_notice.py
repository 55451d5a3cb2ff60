"""A proposal to end by mutual agreement can be withdrawn by its proposer and declined
by the other party; and anyone can end a contract at any time: while notice runs,
either party may end it at once, cutting the notice short."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from billing.models import Invoice
from billing.selectors import escrow_held_cents
from contracts import services
from contracts.models import (
    Contract,
    ContractState,
    DiaryEntry,
    EndKind,
    EndReason,
    Flag,
    FlagRule,
    JobKind,
    JobState,
    Milestone,
    MilestoneState,
    Notification,
    ScheduledJob,
    StateChange,
)
from contracts.services import MilestoneChoice, MilestoneDecision
from contracts.services.jobs import job_execute
from contracts_portal.errors import DomainError
from tests.factories import DiaryEntryFactory, FixedContractFactory, HourlyContractFactory, MilestoneFactory
from tests.fixtures.contracts import fresh
from tests.fixtures.pages import options_menu

NOW = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)  # a Wednesday


def notifications_of(user) -> list[str]:
    return list(Notification.objects.filter(user=user).order_by("created_at", "id").values_list("message", flat=True))


def menu(client, contract) -> str:
    return options_menu(client.get(reverse("contract_detail", args=[contract.pk])))


@pytest.fixture
def proposed(db):
    """An hourly contract whose client has just proposed a mutual end."""
    contract = HourlyContractFactory(title="Data pipeline")
    services.contract_propose_end(contract=contract, by=contract.client)
    return fresh(contract)


# Withdrawing and declining a proposal to end.


@pytest.mark.django_db
def test_the_proposer_withdraws_an_open_proposal_and_the_other_party_is_told(proposed):
    with time_machine.travel(proposed.end_proposed_at + timedelta(days=1), tick=False):
        services.contract_withdraw_end_proposal(contract=proposed, by=proposed.client)

    contract = fresh(proposed)
    assert (contract.state, contract.end_proposed_by, contract.end_proposed_at) == (ContractState.ACTIVE, None, None)
    assert not contract.has_open_end_proposal()
    change = StateChange.objects.filter(contract=contract).latest("id")
    assert (change.transition, change.actor) == ("withdraw_end_proposal", proposed.client)
    assert notifications_of(proposed.freelancer)[-1] == (
        f"{proposed.client.first_name} withdrew the proposal to end the contract “Data pipeline”; "
        "it continues as before."
    )


@pytest.mark.django_db
def test_the_other_party_declines_with_a_message_that_the_proposer_reads(proposed):
    services.contract_decline_end(contract=proposed, by=proposed.freelancer, message="Let's finish the API first.")

    contract = fresh(proposed)
    assert (contract.state, contract.end_proposed_by) == (ContractState.ACTIVE, None)
    assert notifications_of(proposed.client)[-1] == (
        f"{proposed.freelancer.first_name} declined ending the contract “Data pipeline” by mutual agreement; "
        "it continues as before. Their message: “Let's finish the API first.”."
    )
    change = StateChange.objects.filter(contract=contract).latest("id")
    assert (change.transition, change.reason) == ("decline_end", "Let's finish the API first.")


@pytest.mark.django_db
def test_declining_without_a_message_is_fine(proposed):
    services.contract_decline_end(contract=proposed, by=proposed.freelancer)
    assert notifications_of(proposed.client)[-1].endswith("it continues as before.")


@pytest.mark.django_db
def test_only_the_proposer_withdraws_and_only_the_other_party_declines(proposed):
    with pytest.raises(DomainError, match="Only the party who proposed ending this contract can withdraw"):
        services.contract_withdraw_end_proposal(contract=proposed, by=proposed.freelancer)
    with pytest.raises(DomainError, match="Only the other party can accept or decline"):
        services.contract_decline_end(contract=proposed, by=proposed.client)
    assert fresh(proposed).end_proposed_by == proposed.client


@pytest.mark.django_db
def test_nothing_to_withdraw_or_decline_once_the_proposal_expired(proposed):
    with time_machine.travel(proposed.end_proposed_at + timedelta(days=7, minutes=1), tick=False):
        with pytest.raises(DomainError, match="There is no open proposal"):
            services.contract_withdraw_end_proposal(contract=proposed, by=proposed.client)
        with pytest.raises(DomainError, match="There is no open proposal"):
            services.contract_decline_end(contract=proposed, by=proposed.freelancer)


@pytest.mark.django_db
def test_after_a_decline_the_expiry_job_does_nothing_and_a_new_proposal_can_be_made(proposed):
    services.contract_decline_end(contract=proposed, by=proposed.freelancer)
    (job,) = ScheduledJob.objects.filter(contract=proposed, kind=JobKind.END_PROPOSAL_EXPIRY)

    with time_machine.travel(proposed.end_proposed_at + timedelta(days=7, minutes=1), tick=False):
        job_execute(job_id=job.pk)
        services.contract_propose_end(contract=proposed, by=proposed.freelancer)

    assert fresh(job).state == JobState.SKIPPED
    assert fresh(proposed).end_proposed_by == proposed.freelancer


@pytest.mark.django_db
def test_a_decline_message_with_contact_details_is_flagged(proposed):
    services.contract_decline_end(contract=proposed, by=proposed.freelancer, message="Text me on WhatsApp instead")
    (flag,) = Flag.objects.filter(rule=FlagRule.OFF_PLATFORM_CONTACT)
    assert (flag.subject, flag.evidence["source"]) == (proposed.freelancer, "A message declining a proposed end")


@pytest.mark.django_db
def test_the_menu_and_the_banner_show_each_party_what_they_can_do_with_a_proposal(client, proposed):
    client.force_login(proposed.client)
    own = client.get(reverse("contract_detail", args=[proposed.pk])).content.decode()
    assert "Withdraw your proposal" in own
    assert "Decline the proposal" not in own and "Accept the proposed end" not in own

    client.force_login(proposed.freelancer)
    theirs = client.get(reverse("contract_detail", args=[proposed.pk])).content.decode()
    assert "Decline the proposed end" in menu(client, proposed)
    assert "Accept the proposed end" in menu(client, proposed)
    assert "Decline the proposal" in theirs and "Review and accept" in theirs
    assert "Withdraw your proposal" not in theirs


@pytest.mark.django_db
def test_declining_through_the_page_keeps_the_message_and_tells_the_decliner(client, proposed):
    client.force_login(proposed.freelancer)
    url = reverse("contract_action", args=[proposed.pk, "decline_end"])

    too_long = client.post(url, {"message": "x" * 2001}, follow=True)
    assert fresh(proposed).end_proposed_by == proposed.client
    assert "at most 2000 characters" in too_long.content.decode()

    response = client.post(url, {"message": "Not yet, please."}, follow=True)
    assert "You declined the proposal to end the contract; it continues as before." in response.content.decode()
    assert fresh(proposed).end_proposed_by is None
    assert "Not yet, please." in response.content.decode()  # in the history


@pytest.mark.django_db
def test_withdrawing_through_the_menu(client, proposed):
    client.force_login(proposed.client)
    response = client.post(reverse("contract_action", args=[proposed.pk, "withdraw_end_proposal"]), follow=True)
    assert "Your proposal to end the contract is withdrawn" in response.content.decode()
    assert fresh(proposed).end_proposed_by is None


# Ending while notice runs.


def hourly_with_14_days_notice(**kwargs) -> Contract:
    return HourlyContractFactory(notice_days=14, started_at=NOW - timedelta(days=60), **kwargs)


@pytest.mark.django_db
def test_the_other_party_ends_at_once_while_notice_runs_billing_the_time_and_locking_the_diary():
    contract = hourly_with_14_days_notice()
    DiaryEntryFactory(contract=contract, minutes=90, work_date=NOW.date())
    with time_machine.travel(NOW, tick=False):
        services.contract_give_notice(contract=contract, by=contract.client, reason=EndReason.COMPLETED)
    noticed = fresh(contract)
    assert noticed.notice_effective_at == NOW + timedelta(days=14)

    with time_machine.travel(NOW + timedelta(days=2), tick=False):
        services.contract_end(contract=noticed, by=contract.freelancer, reason=EndReason.NOT_RESPONSIVE)

    ended = fresh(contract)
    assert (ended.state, ended.end_kind, ended.ended_by) == (ContractState.ENDED, EndKind.PARTY, contract.freelancer)
    assert ended.ended_at == NOW + timedelta(days=2)
    assert ended.diary_locked
    invoice = Invoice.objects.get(contract=contract)
    assert (invoice.minutes, invoice.amount_cents) == (90, 75_00)
    with pytest.raises(DomainError):
        services.diary_entry_add(
            contract=ended, by=contract.freelancer, work_date=NOW.date(), minutes=30, memo="After the end"
        )
    assert DiaryEntry.objects.filter(contract=contract).count() == 1
    assert notifications_of(contract.client)[-1] == (
        f"{contract.freelancer.first_name} ended the contract “{contract.title}” at once, "
        "cutting the notice period short."
    )


@pytest.mark.django_db
def test_the_party_who_gave_notice_may_also_end_at_once_and_the_notice_job_then_does_nothing():
    contract = hourly_with_14_days_notice()
    with time_machine.travel(NOW, tick=False):
        services.contract_give_notice(contract=contract, by=contract.freelancer, reason=EndReason.COMPLETED)
    (job,) = ScheduledJob.objects.filter(contract=contract, kind=JobKind.NOTICE_ELAPSE)
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        services.contract_end(contract=contract, by=contract.freelancer, reason=EndReason.COMPLETED)

    with time_machine.travel(NOW + timedelta(days=14, minutes=1), tick=False):
        job_execute(job_id=job.pk)

    assert fresh(job).state == JobState.SKIPPED
    ended = fresh(contract)
    assert (ended.ended_at, ended.end_kind) == (NOW + timedelta(days=1), EndKind.PARTY)
    assert StateChange.objects.filter(contract=contract, target=ContractState.ENDED).count() == 1


@pytest.mark.django_db
def test_a_client_ending_during_the_freelancers_notice_settles_each_milestone_now():
    contract = FixedContractFactory(notice_days=10, started_at=NOW - timedelta(days=30))
    milestone = MilestoneFactory(contract=contract, amount_cents=200_00)
    with time_machine.travel(NOW - timedelta(days=5), tick=False):
        services.milestone_fund(milestone=milestone, by=contract.client)
    with time_machine.travel(NOW, tick=False):
        services.contract_give_notice(contract=contract, by=contract.freelancer, reason=EndReason.COMPLETED)
        services.contract_end(
            contract=contract,
            by=contract.client,
            reason=EndReason.COMPLETED,
            milestone_decisions={milestone.pk: MilestoneDecision(MilestoneChoice.PAY_IN_FULL)},
        )

    assert fresh(contract).state == ContractState.ENDED
    assert fresh(milestone).state == MilestoneState.RELEASED
    assert escrow_held_cents(Milestone.objects.get(pk=milestone.pk)) == 0


@pytest.mark.django_db
def test_a_mutual_end_stays_available_while_notice_runs():
    contract = hourly_with_14_days_notice()
    with time_machine.travel(NOW, tick=False):
        services.contract_give_notice(contract=contract, by=contract.client, reason=EndReason.COMPLETED)
        services.contract_propose_end(contract=contract, by=contract.freelancer)
        services.contract_accept_end(contract=contract, by=contract.client, reason=EndReason.COMPLETED)
    assert fresh(contract).end_kind == EndKind.MUTUAL


@pytest.mark.django_db
def test_the_end_dialog_during_notice_says_the_notice_is_cut_short_and_what_ending_bills(client):
    contract = hourly_with_14_days_notice()
    DiaryEntryFactory(contract=contract, minutes=120, work_date=NOW.date())
    with time_machine.travel(NOW, tick=False):
        services.contract_give_notice(contract=contract, by=contract.client, reason=EndReason.COMPLETED)
        client.force_login(contract.freelancer)
        assert "End now (cut the notice short)" in menu(client, contract)
        page = client.get(reverse("contract_end", args=[contract.pk])).content.decode()

    assert "Notice cut short:" in page
    assert "would have ended the contract on" in page
    assert "2:00 h at $50.00/h = $100.00" in page
    assert 'value="end"' in page  # the plan confirmed is an end, not a second notice

"""Terms during a contract (issue 14): the terms as accepted never change; the client
adds milestones and sets the weekly limit for the billing weeks to come; a new hourly
rate is proposed by either party and applies, from the next billing week, only once
the other accepts. Each change is a history row, told to the other party; each
refusal stores nothing. What must never happen is refused by PostgreSQL too."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.urls import reverse

from contracts import services
from contracts.models import (
    ContractState,
    Flag,
    FlagRule,
    JobKind,
    JobState,
    Milestone,
    Notification,
    OutgoingEmail,
    RateChange,
    RateChangeProposal,
    RateChangeState,
    ScheduledJob,
    StateChange,
    WeeklyLimitChange,
    weekly_limits,
)
from contracts.selectors import hourly_terms
from contracts_portal.errors import DomainError
from tests.factories import FixedContractFactory, HourlyContractFactory, UserFactory
from tests.fixtures.clock import stopped_at, sweep
from tests.fixtures.contracts import fresh
from tests.fixtures.database import execute, refused
from tests.fixtures.people import person, staff_reviewer

# The billing week of Monday 2026-03-09 to Sunday 2026-03-15 (UTC); "now" is its Wednesday.
MONDAY = date(2026, 3, 9)
NEXT_MONDAY = date(2026, 3, 16)
NOW = datetime(2026, 3, 11, 10, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def hourly(clara, felix, now):
    """$50.00 an hour, 40 hours a week, since February."""
    return HourlyContractFactory(
        client=clara, freelancer=felix, title="Data pipeline", started_at=NOW - timedelta(days=30)
    )


def notifications_of(user) -> list[str]:
    return list(Notification.objects.filter(user=user).order_by("created_at", "id").values_list("message", flat=True))


def history(contract) -> list[tuple]:
    return list(
        StateChange.objects.filter(contract=contract)
        .order_by("id")
        .values_list("subject", "transition", "source", "target", "actor__username", "reason")
    )


def refusal(call) -> str:
    with pytest.raises(DomainError) as refused_with:
        call()
    return refused_with.value.message


def stored_terms(contract) -> tuple:
    return (
        list(WeeklyLimitChange.objects.filter(contract=contract).values_list("id", flat=True)),
        list(RateChangeProposal.objects.filter(contract=contract).values_list("id", "state")),
        list(RateChange.objects.filter(contract=contract).values_list("id", flat=True)),
        history(contract),
        Notification.objects.filter(contract=contract).count(),
    )


# The weekly limit.


@pytest.mark.django_db
def test_the_client_sets_a_weekly_limit_from_the_next_billing_week_and_the_freelancer_is_told(hourly, clara, felix):
    change = services.contract_weekly_limit_change(contract=hourly, by=clara, hours=20)

    assert (change.hours, change.effective_from, change.changed_by, change.created_at) == (20, NEXT_MONDAY, clara, NOW)
    assert history(hourly) == [
        ("weekly limit", "change", "", "", "clara", "20 hours a week from the week of 2026-03-16 (was 40 hours a week)")
    ]
    assert notifications_of(felix) == [
        "Clara Client changed the weekly limit of “Data pipeline” to 20 hours a week from the billing week of "
        "Mon Mar 16, 2026 (Monday 00:00 UTC)."
    ]
    assert notifications_of(clara) == []
    assert fresh(hourly).weekly_hour_limit == 40  # the limit as agreed stays as it was
    limits = weekly_limits(hourly)
    assert (limits.for_week(MONDAY), limits.for_week(NEXT_MONDAY), limits.for_week(NEXT_MONDAY + 7 * DAY)) == (
        40,
        20,
        20,
    )


@pytest.mark.django_db
def test_the_client_lifts_the_weekly_limit_and_the_last_change_of_a_week_wins(hourly, clara):
    services.contract_weekly_limit_change(contract=hourly, by=clara, hours=10)
    services.contract_weekly_limit_change(contract=hourly, by=clara, hours=None)

    limits = weekly_limits(hourly)
    assert (limits.for_week(MONDAY), limits.for_week(NEXT_MONDAY)) == (40, None)
    assert hourly_terms(hourly).upcoming_limit == (NEXT_MONDAY, None)


@pytest.mark.django_db
def test_the_weekly_limit_switches_at_monday_midnight_utc_in_the_diary_and_on_the_contract(hourly, clara, felix):
    """Changed to 10 hours on Wednesday: time of this week (to Sunday 23:59 UTC) is
    checked against 40 hours, time of next week against 10; the contract shows 40 as
    this week's limit until Monday 00:00 UTC, then 10."""
    services.contract_weekly_limit_change(contract=hourly, by=clara, hours=10)
    sunday_night = datetime(2026, 3, 15, 23, 59, 59, tzinfo=UTC)
    monday_midnight = datetime(2026, 3, 16, 0, 0, tzinfo=UTC)

    with time_machine.travel(sunday_night, tick=False):
        services.diary_entry_add(contract=hourly, by=felix, work_date=date(2026, 3, 15), minutes=12 * 60, memo="Sun")
        terms = hourly_terms(hourly)
        assert (terms.limit, terms.upcoming_limit) == (40, (NEXT_MONDAY, 10))
    with time_machine.travel(monday_midnight, tick=False):
        terms = hourly_terms(hourly)
        assert (terms.limit, terms.upcoming_limit) == (10, None)
        services.diary_entry_add(contract=hourly, by=felix, work_date=NEXT_MONDAY, minutes=10 * 60, memo="Mon")
        message = refusal(
            lambda: services.diary_entry_add(contract=hourly, by=felix, work_date=NEXT_MONDAY, minutes=1, memo="+1")
        )
    assert message == "This contract allows 10 hours a week; 0:00 hours are left in the week of 2026-03-16."


@pytest.mark.django_db
def test_only_the_client_changes_the_weekly_limit_of_an_open_hourly_contract_within_the_policy(
    hourly, clara, felix, settings
):
    fixed = FixedContractFactory(client=clara, freelancer=felix)
    cases = [
        (hourly, felix, 20, "Only the client of this contract can change its weekly limit."),
        (hourly, UserFactory(), 20, "Only the client of this contract can change its weekly limit."),
        (fixed, clara, 20, "Only hourly contracts have a weekly limit."),
        (hourly, clara, 0, "The weekly limit must be between 1 and 168 hours, or no limit."),
        (hourly, clara, 169, "The weekly limit must be between 1 and 168 hours, or no limit."),
        (hourly, clara, 40, "The weekly limit from the week of Mon Mar 16, 2026 is already 40 hours a week."),
    ]
    before = stored_terms(hourly)
    for contract, by, hours, message in cases:
        assert (
            refusal(lambda c=contract, b=by, h=hours: services.contract_weekly_limit_change(contract=c, by=b, hours=h))
            == message
        )
    assert stored_terms(hourly) == before


@pytest.mark.django_db
def test_the_weekly_limit_of_an_ended_contract_cannot_change(hourly, clara):
    services.contract_end(contract=hourly, by=clara, reason="completed")
    before = stored_terms(hourly)

    message = refusal(lambda: services.contract_weekly_limit_change(contract=hourly, by=clara, hours=20))

    assert message == "This contract has ended, so its weekly limit can no longer change."
    assert stored_terms(hourly) == before


# A new hourly rate: proposed by one party, accepted by the other.


@pytest.mark.django_db
def test_the_freelancer_proposes_a_rate_and_the_client_accepts_it_from_the_next_billing_week(
    hourly, clara, felix, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        proposal = services.rate_change_propose(contract=hourly, by=felix, rate_cents=60_00, message="New skills")

    assert (proposal.state, proposal.rate_cents, proposal.expires_at) == ("proposed", 60_00, NOW + 7 * DAY)
    assert notifications_of(clara) == [
        "Felix Freelancer proposed a new rate of $60.00 an hour for “Data pipeline”, from the billing week after it "
        "is accepted; accept or decline it within 7 days."
    ]
    (email,) = OutgoingEmail.objects.filter(key__startswith="email:rate-change-proposed:")
    assert (email.to, email.subject) == (
        clara.email,
        "Felix Freelancer proposes $60.00 an hour on “Data pipeline”: answer by Mar 18",
    )
    job = ScheduledJob.objects.get(kind=JobKind.RATE_CHANGE_EXPIRY)
    assert (job.subject_id, job.due_at) == (proposal.pk, NOW + 7 * DAY)

    with time_machine.travel(NOW + timedelta(days=1, hours=3), tick=False):
        change = services.rate_change_accept(proposal=proposal, by=clara)

    assert (change.rate_cents, change.effective_from, change.proposal_id) == (60_00, NEXT_MONDAY, proposal.pk)
    assert fresh(proposal).state == RateChangeState.ACCEPTED
    assert fresh(hourly).hourly_rate_cents == 50_00  # the rate as agreed stays as it was
    assert [row[:5] for row in history(hourly)] == [
        ("rate change", "propose", "", "proposed", "felix"),
        ("rate change", "accept", "proposed", "accepted", "clara"),
    ]
    assert notifications_of(felix)[-1] == (
        "Clara Client accepted the new rate of $60.00 an hour for “Data pipeline”: it applies from the billing week "
        "of Mon Mar 16, 2026 (Monday 00:00 UTC); earlier weeks are billed at the rate before."
    )
    terms = hourly_terms(hourly)
    assert (terms.rate_cents, terms.upcoming_rate, terms.proposal) == (50_00, (NEXT_MONDAY, 60_00), None)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accepted_at", "applies_from"),
    [
        (datetime(2026, 3, 15, 23, 59, 59, tzinfo=UTC), date(2026, 3, 16)),
        (datetime(2026, 3, 16, 0, 0, tzinfo=UTC), date(2026, 3, 23)),
    ],
)
def test_an_accepted_rate_applies_from_the_billing_week_after_the_acceptance(
    hourly, clara, felix, accepted_at, applies_from
):
    proposal = services.rate_change_propose(contract=hourly, by=clara, rate_cents=45_00)

    with time_machine.travel(accepted_at, tick=False):
        change = services.rate_change_accept(proposal=proposal, by=felix)

    assert change.effective_from == applies_from


@pytest.mark.django_db
def test_a_rate_is_proposed_only_by_a_party_of_an_open_hourly_contract_and_never_twice_at_once(hourly, clara, felix):
    fixed = FixedContractFactory(client=clara, freelancer=felix)
    services.rate_change_propose(contract=hourly, by=clara, rate_cents=55_00)
    before = stored_terms(hourly)

    def propose(contract=hourly, by=felix, rate_cents=70_00):
        return lambda: services.rate_change_propose(contract=contract, by=by, rate_cents=rate_cents)

    assert refusal(propose(by=UserFactory())) == (
        "Only the client and the freelancer of this contract can propose a new rate."
    )
    assert refusal(propose(contract=fixed)) == "Only hourly contracts have an hourly rate."
    assert refusal(propose()) == (
        "The other party's proposal of $55.00 an hour is still waiting for an answer: it must be answered, "
        "withdrawn or lapse before another rate is proposed."
    )
    assert refusal(propose(by=clara)).startswith("Your proposal of $55.00 an hour is still waiting for an answer")
    assert refusal(propose(rate_cents=0)) == "Enter a rate above $0.00 and at most $10,000.00 an hour."
    assert refusal(propose(rate_cents=10_000_01)) == "Enter a rate above $0.00 and at most $10,000.00 an hour."
    assert stored_terms(hourly) == before


@pytest.mark.django_db
def test_proposing_the_rate_already_in_force_next_week_is_refused(hourly, felix):
    assert refusal(lambda: services.rate_change_propose(contract=hourly, by=felix, rate_cents=50_00)) == (
        "The rate is already $50.00 an hour."
    )
    assert not RateChangeProposal.objects.exists()


@pytest.mark.django_db
def test_the_proposer_cannot_accept_or_decline_their_own_proposal_and_nobody_else_can_withdraw_it(hourly, clara, felix):
    proposal = services.rate_change_propose(contract=hourly, by=felix, rate_cents=60_00)
    stranger = UserFactory()
    before = stored_terms(hourly)
    other_party = "Only the other party of this contract can accept or decline this proposed rate."
    proposer = "Only the party who proposed this rate can withdraw the proposal."

    assert refusal(lambda: services.rate_change_accept(proposal=proposal, by=felix)) == other_party
    assert refusal(lambda: services.rate_change_decline(proposal=proposal, by=felix)) == other_party
    assert refusal(lambda: services.rate_change_accept(proposal=proposal, by=stranger)) == other_party
    assert refusal(lambda: services.rate_change_withdraw(proposal=proposal, by=clara)) == proposer
    assert refusal(lambda: services.rate_change_withdraw(proposal=proposal, by=stranger)) == proposer
    assert stored_terms(hourly) == before


@pytest.mark.django_db
def test_the_other_party_declines_with_a_message_and_the_proposer_is_told_it(hourly, clara, felix):
    proposal = services.rate_change_propose(contract=hourly, by=felix, rate_cents=60_00)

    services.rate_change_decline(proposal=proposal, by=clara, message="  Not this quarter.  ")

    assert fresh(proposal).state == RateChangeState.DECLINED
    assert history(hourly)[-1] == ("rate change", "decline", "proposed", "declined", "clara", "Not this quarter.")
    assert notifications_of(felix)[-1] == (
        "Clara Client declined the new rate of $60.00 an hour for “Data pipeline”; the rate stays as it was. "
        "Their message: “Not this quarter.”."
    )
    assert not RateChange.objects.exists()
    assert refusal(lambda: services.rate_change_accept(proposal=proposal, by=clara)) == "This rate change was declined."


@pytest.mark.django_db
def test_the_proposer_withdraws_and_may_then_propose_again(hourly, clara, felix):
    first = services.rate_change_propose(contract=hourly, by=felix, rate_cents=60_00)

    services.rate_change_withdraw(proposal=first, by=felix)
    second = services.rate_change_propose(contract=hourly, by=felix, rate_cents=58_00)

    assert (fresh(first).state, second.state) == (RateChangeState.WITHDRAWN, RateChangeState.PROPOSED)
    assert "Felix Freelancer withdrew the proposed rate of $60.00 an hour for “Data pipeline”." in notifications_of(
        clara
    )
    assert refusal(lambda: services.rate_change_accept(proposal=first, by=clara)) == "This rate change was withdrawn."


@pytest.mark.django_db
def test_a_rate_cannot_change_after_the_end(hourly, clara, felix):
    proposal = services.rate_change_propose(contract=hourly, by=felix, rate_cents=60_00)
    services.contract_end(contract=hourly, by=clara, reason="completed")
    before = stored_terms(hourly)

    assert refusal(lambda: services.rate_change_accept(proposal=proposal, by=clara)) == (
        "This contract has ended, so its rate can no longer change."
    )
    assert refusal(lambda: services.rate_change_propose(contract=hourly, by=clara, rate_cents=70_00)) == (
        "This contract has ended, so its rate can no longer change."
    )
    assert stored_terms(hourly) == before


@pytest.mark.django_db
def test_an_unanswered_proposal_lapses_at_its_expiry_once_and_can_no_longer_be_accepted(hourly, clara, felix):
    proposal = services.rate_change_propose(contract=hourly, by=felix, rate_cents=60_00)
    expiry = NOW + 7 * DAY

    assert sweep(expiry - timedelta(seconds=1)) == 0
    with time_machine.travel(expiry - timedelta(seconds=1), tick=False):
        assert refusal(lambda: services.rate_change_expire(proposal_id=proposal.pk)) == (
            "This proposal has not lapsed yet: the other party can still answer it."
        )
    assert sweep(expiry) == 1
    assert sweep(expiry + DAY) == 0

    assert fresh(proposal).state == RateChangeState.EXPIRED
    assert ScheduledJob.objects.get(kind=JobKind.RATE_CHANGE_EXPIRY).state == JobState.DONE
    lapsed = (
        "The proposed rate of $60.00 an hour for “Data pipeline” was not answered within 7 days and has lapsed; "
        "the rate stays as it was."
    )
    assert notifications_of(felix).count(lapsed) == notifications_of(clara).count(lapsed) == 1
    with time_machine.travel(expiry + DAY, tick=False):
        assert refusal(lambda: services.rate_change_accept(proposal=proposal, by=clara)) == (
            "This proposal lapsed without an answer."
        )
    assert not RateChange.objects.exists()


@pytest.mark.django_db
def test_a_proposal_past_its_expiry_is_refused_before_the_sweep_and_a_new_one_lapses_it(hourly, clara, felix):
    proposal = services.rate_change_propose(contract=hourly, by=felix, rate_cents=60_00)
    later = NOW + 7 * DAY + timedelta(minutes=5)

    with time_machine.travel(later, tick=False):
        assert refusal(lambda: services.rate_change_accept(proposal=proposal, by=clara)) == (
            "This proposal lapsed on 2026-03-18 10:00 UTC without an answer."
        )
        again = services.rate_change_propose(contract=hourly, by=felix, rate_cents=58_00)
    assert fresh(proposal).state == RateChangeState.EXPIRED
    assert again.state == RateChangeState.PROPOSED

    sweep(later)  # the first proposal's job finds it lapsed already: skipped, nothing twice
    job = ScheduledJob.objects.get(kind=JobKind.RATE_CHANGE_EXPIRY, subject_id=proposal.pk)
    assert (job.state, job.outcome) == (JobState.SKIPPED, "This proposal lapsed without an answer.")
    assert StateChange.objects.filter(subject="rate change", transition="expire").count() == 1


@pytest.mark.django_db
def test_a_rate_change_message_asking_for_payment_outside_the_platform_raises_a_flag(hourly, felix):
    services.rate_change_propose(contract=hourly, by=felix, rate_cents=60_00, message="Or pay me on PayPal instead")

    flag = Flag.objects.get(rule=FlagRule.OFF_PLATFORM_CONTACT)
    assert (flag.subject, flag.contract_id) == (felix, hourly.pk)
    assert flag.evidence["source"] == "A rate change message"


# Milestones added during a fixed-price contract.


@pytest.mark.django_db
def test_the_client_adds_a_milestone_that_goes_into_the_history_and_the_freelancer_is_told(clara, felix, now):
    fixed = FixedContractFactory(client=clara, freelancer=felix, title="Brand identity")
    services.milestone_add(contract=fixed, by=clara, title="Logo", amount_cents=300_00)

    added = services.milestone_add(
        contract=fixed, by=clara, title=" Extra icons ", amount_cents=120_00, due_date=date(2026, 4, 1)
    )

    assert (added.title, added.position, added.amount_cents, added.due_date, added.state) == (
        "Extra icons",
        2,
        120_00,
        date(2026, 4, 1),
        "pending",
    )
    assert history(fixed)[-1] == ("milestone", "add", "", "pending", "clara", "“Extra icons”, $120.00, due 2026-04-01")
    assert notifications_of(felix)[-1] == (
        "Clara Client added the milestone “Extra icons” ($120.00) to “Brand identity”; it is not funded yet."
    )
    services.milestone_fund(milestone=added, by=clara)
    assert fresh(added).state == "funded"


@pytest.mark.django_db
def test_only_the_client_adds_milestones_to_an_open_fixed_price_contract_within_the_policy(clara, felix, now):
    fixed = FixedContractFactory(client=clara, freelancer=felix)
    ended = FixedContractFactory(client=clara, freelancer=felix)
    services.contract_end(contract=ended, by=clara, reason="completed")
    hourly = HourlyContractFactory(client=clara, freelancer=felix)
    cases = [
        ({"contract": fixed, "by": felix}, "Only the client of this contract can add milestones."),
        ({"contract": hourly}, "Hourly contracts have no milestones."),
        ({"contract": ended}, "This contract has ended; no milestones can be added."),
        ({"title": "  "}, "Give the milestone a title."),
        ({"amount_cents": 4_99}, "A milestone must be at least $5.00."),
        ({"amount_cents": 1_000_000_01}, "A milestone can be at most $1,000,000.00: split larger work into several."),
        ({"due_date": date(2026, 3, 10)}, "The due date has passed: choose today or a later day."),
        ({"due_date": date(2026, 3, 11) + timedelta(days=731)}, "Choose a due date at most 730 days ahead."),
    ]
    for overrides, message in cases:
        arguments = {"contract": fixed, "by": clara, "title": "Extra", "amount_cents": 50_00, **overrides}
        assert refusal(lambda a=arguments: services.milestone_add(**a)) == message
    assert not Milestone.objects.exists()
    assert not StateChange.objects.filter(subject="milestone").exists()


@pytest.mark.django_db
def test_a_due_date_is_the_clients_day_in_their_time_zone(felix):
    """11:00 UTC on Mar 11 is already Mar 12 in Auckland: Mar 11 has passed there."""
    kiri = person("kiri", time_zone="Pacific/Auckland")
    fixed = FixedContractFactory(client=kiri, freelancer=felix)

    with time_machine.travel(datetime(2026, 3, 11, 11, 0, tzinfo=UTC), tick=False):
        with pytest.raises(DomainError, match="The due date has passed"):
            services.milestone_add(
                contract=fixed, by=kiri, title="Extra", amount_cents=50_00, due_date=date(2026, 3, 11)
            )
        services.milestone_add(contract=fixed, by=kiri, title="Extra", amount_cents=50_00, due_date=date(2026, 3, 12))


# What PostgreSQL refuses, whatever the path.


@pytest.mark.postgres
@pytest.mark.django_db
def test_database_keeps_one_open_proposal_per_contract(hourly, clara, felix):
    services.rate_change_propose(contract=hourly, by=felix, rate_cents=60_00)

    error = refused(
        "INSERT INTO contracts_ratechangeproposal (contract_id, proposed_by_id, rate_cents, message, state, "
        "proposed_at) VALUES (%s, %s, 7000, '', 'proposed', now())",
        [hourly.pk, clara.pk],
    )

    assert isinstance(error, IntegrityError)
    assert "one_open_rate_proposal" in str(error)


@pytest.mark.postgres
@pytest.mark.django_db
def test_database_keeps_rates_and_weekly_limits_append_only_and_a_proposal_as_proposed(hourly, clara, felix):
    services.contract_weekly_limit_change(contract=hourly, by=clara, hours=20)
    proposal = services.rate_change_propose(contract=hourly, by=felix, rate_cents=60_00)
    services.rate_change_accept(proposal=proposal, by=clara)

    for sql in (
        "UPDATE contracts_weeklylimitchange SET hours = 30",
        "DELETE FROM contracts_weeklylimitchange",
        "UPDATE contracts_ratechange SET rate_cents = 99999",
        "DELETE FROM contracts_ratechange",
    ):
        refused(sql)
    error = refused("UPDATE contracts_ratechangeproposal SET rate_cents = 99999 WHERE id = %s", [proposal.pk])
    assert f"rate change {proposal.pk}: what was proposed cannot change" in str(error)
    error = refused(
        "INSERT INTO contracts_weeklylimitchange (contract_id, hours, effective_from, changed_by_id, "
        "created_at) VALUES (%s, 10, '2026-03-17', %s, now())",
        [hourly.pk, clara.pk],
    )
    assert "weekly_limit_from_a_monday" in str(error)
    assert execute("SELECT hours FROM contracts_weeklylimitchange") == [(20,)]
    assert execute("SELECT rate_cents FROM contracts_ratechange") == [(60_00,)]


@pytest.mark.django_db
def test_a_change_rolled_back_leaves_no_history_or_notification(hourly, clara, felix):
    """The history row and the notification are written in the change's transaction."""
    with stopped_at(NOW), pytest.raises(RuntimeError), transaction.atomic():
        services.contract_weekly_limit_change(contract=hourly, by=clara, hours=20)
        raise RuntimeError("the request failed after the change")

    assert stored_terms(hourly) == ([], [], [], [], 0)
    assert fresh(hourly).state == ContractState.ACTIVE


@pytest.mark.django_db
def test_reviewers_read_the_term_changes_in_the_admin_and_nobody_changes_them_there(client, hourly, clara, felix):
    services.contract_weekly_limit_change(contract=hourly, by=clara, hours=20)
    proposal = services.rate_change_propose(contract=hourly, by=felix, rate_cents=60_00)
    change = services.rate_change_accept(proposal=proposal, by=clara)
    client.force_login(staff_reviewer())

    for row in (WeeklyLimitChange.objects.get(), proposal, change):
        name = f"admin:contracts_{row._meta.model_name}"
        assert client.get(reverse(f"{name}_changelist")).status_code == 200
        page = client.get(reverse(f"{name}_change", args=[row.pk]))
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()

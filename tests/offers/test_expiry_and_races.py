"""An offer nobody answers expires at its due time, by the beat sweep, exactly once,
like every other deadline; an offer answered first is left alone (its job skipped with
the reason). Accepting, withdrawing and the expiry of one offer at the same moment
have exactly one outcome, and money moves once."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from billing.models import EscrowMovement, LedgerTransaction
from contracts.models import Contract, JobKind, JobState, Notification, ScheduledJob, StateChange
from contracts.services.jobs import job_execute
from contracts_portal.errors import DomainError
from offers import services
from offers.models import Offer, OfferState
from tests.factories import UserFactory
from tests.fixtures import clock
from tests.fixtures.money import assert_ledger_balanced
from tests.fixtures.offers import fixed_offer
from tests.reliability.invariants import offer_violations

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
EXPIRED = "The offer “Brand identity” from Clara Client to Felix Freelancer expired without an answer."


def sent_at_t0(client, freelancer) -> Offer:
    with clock.stopped_at(T0):
        return fixed_offer(client, freelancer)


def job_of(offer) -> ScheduledJob:
    return ScheduledJob.objects.get(kind=JobKind.OFFER_EXPIRY, subject_id=offer.pk)


@pytest.mark.django_db
def test_the_sweep_expires_an_unanswered_offer_at_its_due_time_exactly_once(clara, felix):
    offer = sent_at_t0(clara, felix)

    assert clock.sweep(T0 + WEEK - timedelta(seconds=1)) == 0
    assert Offer.objects.get(pk=offer.pk).state == OfferState.SENT
    assert clock.sweep(T0 + WEEK) == 1
    clock.sweep(T0 + WEEK + timedelta(minutes=5))

    offer.refresh_from_db()
    assert (offer.state, offer.answered_at) == (OfferState.EXPIRED, T0 + WEEK)
    job = job_of(offer)
    assert (job.state, job.outcome, job.attempts) == (JobState.DONE, f"offer #{offer.pk} expired", 1)
    assert StateChange.objects.filter(subject="offer", subject_id=offer.pk, transition="expire").count() == 1
    assert Notification.objects.filter(message=EXPIRED).count() == 2  # the client and the freelancer, once each


@pytest.mark.django_db
def test_the_expiry_is_recorded_at_the_due_time_even_when_the_sweep_runs_late(clara, felix):
    offer = sent_at_t0(clara, felix)

    clock.sweep(T0 + WEEK + timedelta(hours=3))

    change = StateChange.objects.get(subject="offer", subject_id=offer.pk, transition="expire")
    assert (change.created_at, change.actor) == (T0 + WEEK, None)


@pytest.mark.django_db
@pytest.mark.parametrize("answer", ["accept", "decline", "withdraw"])
def test_the_expiry_job_of_an_offer_answered_in_time_is_skipped_with_the_reason(clara, felix, answer):
    offer = sent_at_t0(clara, felix)
    with clock.stopped_at(T0 + timedelta(days=2)):
        {
            "accept": lambda: services.offer_accept(offer=offer, by=felix),
            "decline": lambda: services.offer_decline(offer=offer, by=felix, reason="Too busy"),
            "withdraw": lambda: services.offer_withdraw(offer=offer, by=clara),
        }[answer]()

    clock.sweep(T0 + WEEK)

    job = job_of(offer)
    assert job.state == JobState.SKIPPED
    assert job.outcome == Offer.objects.get(pk=offer.pk).closed_state_refusal
    assert not Notification.objects.filter(message=EXPIRED).exists()


@pytest.mark.django_db
def test_the_storm_checks_that_each_offer_was_answered_once_and_started_one_funded_contract(clara, felix):
    offer = fixed_offer(clara, felix)
    services.offer_accept(offer=offer, by=felix)
    assert offer_violations() == []

    StateChange.objects.create(
        subject="offer", subject_id=offer.pk, transition="withdraw", source="sent", target="withdrawn"
    )

    assert offer_violations() == [
        f"offer #{offer.pk} was answered 2 times: ['accepted', 'withdrawn']",
        f"offer #{offer.pk} is accepted but its history says ['accepted', 'withdrawn']",
    ]


# Races between real threads, each with its own PostgreSQL connection.


def race(**actions) -> dict[str, object]:
    """Run each action in its own thread, released together: name -> result or error."""
    barrier = threading.Barrier(len(actions), timeout=30)
    outcomes = {}

    def run(name, action):
        try:
            barrier.wait()
            outcomes[name] = action()
        except BaseException as error:  # noqa: BLE001 - reported to the test
            outcomes[name] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item, name=item[0]) for item in actions.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [thread.name for thread in threads if thread.is_alive()] == []
    return outcomes


def assert_one_outcome(offer, outcomes) -> str:
    """Exactly one action went through, every other was refused with what happened;
    the money of an acceptance moved once. Returns the winner's name."""
    winners = [name for name, result in outcomes.items() if not isinstance(result, BaseException)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(result, DomainError) for result in outcomes.values() if isinstance(result, BaseException))
    offer.refresh_from_db()
    answers = StateChange.objects.filter(subject="offer", subject_id=offer.pk).exclude(transition="send")
    assert answers.count() == 1
    contracts = Contract.objects.filter(client=offer.client, freelancer=offer.freelancer)
    if offer.state == OfferState.ACCEPTED:
        assert contracts.count() == 1 and offer.contract == contracts.get()
        assert EscrowMovement.objects.filter(milestone__contract=offer.contract).count() == 1
        assert LedgerTransaction.objects.count() == 1
    else:
        assert contracts.count() == 0 and LedgerTransaction.objects.count() == 0
    assert_ledger_balanced()
    return winners[0]


ROUNDS = 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(ROUNDS))
def test_accepting_while_the_client_withdraws_has_exactly_one_outcome(round_):
    clara = UserFactory(username="clara", first_name="Clara", last_name="Client")
    felix = UserFactory(username="felix", first_name="Felix", last_name="Freelancer")
    offer = fixed_offer(clara, felix)

    outcomes = race(
        accept=lambda: services.offer_accept(offer=offer, by=felix),
        withdraw=lambda: services.offer_withdraw(offer=offer, by=clara),
        decline=lambda: services.offer_decline(offer=offer, by=felix, reason="Changed my mind"),
    )

    winner = assert_one_outcome(offer, outcomes)
    assert offer.state == {"accept": "accepted", "withdraw": "withdrawn", "decline": "declined"}[winner]


# When the freelancer clicks Accept, in seconds from the expiry: before it, at it, after it.
ACCEPT_AROUND_EXPIRY = (-0.05, -0.005, 0.0, 0.03)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(ROUNDS))
def test_accepting_at_the_moment_the_offer_expires_has_exactly_one_outcome(round_):
    """The expiry job runs once it is due, while the freelancer accepts in the same
    instant; a job that found its offer not due yet runs at the next sweep."""
    clara = UserFactory(username="clara", first_name="Clara", last_name="Client")
    felix = UserFactory(username="felix", first_name="Felix", last_name="Freelancer")
    offer = fixed_offer(clara, felix, expires_at=datetime.now(UTC) + timedelta(seconds=1))
    job = job_of(offer)
    due_in = (offer.expires_at - datetime.now(UTC)).total_seconds()

    outcomes = race(
        accept=lambda: (
            time.sleep(due_in + ACCEPT_AROUND_EXPIRY[round_]),
            services.offer_accept(offer=offer, by=felix),
        )[1],
        expiry=lambda: (time.sleep(due_in), job_execute(job_id=job.pk))[1],
    )
    clock.sweep(offer.expires_at + timedelta(seconds=1))

    offer.refresh_from_db()
    job.refresh_from_db()
    if isinstance(outcomes["accept"], DomainError):
        assert offer.state == OfferState.EXPIRED
        assert (
            str(outcomes["accept"]) == f"This offer expired on {offer.expires_at:%Y-%m-%d %H:%M} UTC without an answer."
        )
        assert job.state == JobState.DONE
    else:
        assert offer.state == OfferState.ACCEPTED
        assert (job.state, job.outcome) == (JobState.SKIPPED, offer.closed_state_refusal)
    assert StateChange.objects.filter(subject="offer", subject_id=offer.pk).exclude(transition="send").count() == 1
    contracts = Contract.objects.filter(client=clara, freelancer=felix)
    assert contracts.count() == (1 if offer.state == OfferState.ACCEPTED else 0)
    assert EscrowMovement.objects.count() == LedgerTransaction.objects.count() == contracts.count()
    assert_ledger_balanced()

"""Accepting an offer starts the contract in one transaction: exactly the contract on
the offer's terms, its milestones, the first one funded into escrow through the
ledger with the client's marketplace fee, the history, and both parties told and
e-mailed. Nothing of it is left behind when any part fails."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from accounts.profiles import profile_time_zone_set
from billing.models import EscrowMovement, LedgerTransaction
from contracts.models import Contract, ContractKind, ContractState, MilestoneState, Notification, OutgoingEmail
from contracts.selectors import contract_history
from offers import services
from offers.models import Offer, OfferState
from tests.fixtures.money import assert_ledger_balanced, balances
from tests.fixtures.offers import fixed_offer, hourly_offer

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def at_t0():
    with time_machine.travel(T0, tick=False):
        yield


def test_accepting_a_fixed_price_offer_starts_exactly_its_contract_and_funds_the_first_milestone(clara, felix):
    offer = fixed_offer(clara, felix, description="Logo, colours and a style guide.")

    contract = services.offer_accept(offer=offer, by=felix)

    assert Contract.objects.count() == 1
    assert (
        contract.client,
        contract.freelancer,
        contract.kind,
        contract.title,
        contract.description,
        contract.notice_days,
        contract.state,
        contract.started_at,
    ) == (clara, felix, ContractKind.FIXED, "Brand identity", "Logo, colours and a style guide.", 14, "active", T0)
    milestones = list(contract.milestones.order_by("position"))
    assert [(m.title, m.amount_cents, m.state) for m in milestones] == [
        ("Drafts", 300_00, MilestoneState.FUNDED),
        ("Final files", 200_00, MilestoneState.PENDING),
    ]
    offer.refresh_from_db()
    assert (offer.state, offer.contract, offer.answered_at) == (OfferState.ACCEPTED, contract, T0)


def test_the_first_milestone_is_funded_once_through_the_ledger_with_the_clients_marketplace_fee(clara, felix):
    contract = services.offer_accept(offer=fixed_offer(clara, felix), by=felix)

    [funding] = EscrowMovement.objects.all()
    assert (funding.milestone.title, funding.amount_cents, funding.client_fee_cents) == ("Drafts", 300_00, 15_00)
    assert LedgerTransaction.objects.count() == 1
    assert balances(contract) == {"client": -315_00, "escrow": 300_00, "earnings": 0, "fees": 15_00}
    assert_ledger_balanced()


def test_accepting_an_hourly_offer_starts_the_contract_with_its_rate_limit_and_manual_time_and_moves_no_money(
    clara, felix
):
    offer = hourly_offer(clara, felix, rate_cents=65_00, weekly_hour_limit=10, manual_time_allowed=False, notice_days=7)

    contract = services.offer_accept(offer=offer, by=felix)

    assert (
        contract.kind,
        contract.hourly_rate_cents,
        contract.weekly_hour_limit,
        contract.manual_time_allowed,
        contract.notice_days,
    ) == (ContractKind.HOURLY, 65_00, 10, False, 7)
    assert contract.milestones.count() == 0
    assert LedgerTransaction.objects.count() == 0


def test_a_later_start_date_starts_the_contract_at_midnight_of_that_day_where_the_freelancer_is(clara, felix):
    profile_time_zone_set(user=felix, time_zone="Pacific/Auckland")
    offer = hourly_offer(clara, felix, start_date=T0.date() + timedelta(days=10))

    contract = services.offer_accept(offer=offer, by=felix)

    assert contract.started_at == datetime(2026, 6, 10, 12, 0, tzinfo=UTC)  # Jun 11 00:00 in Auckland (NZST)


def test_acceptance_is_in_the_history_of_the_offer_and_of_the_contract(clara, felix):
    offer = fixed_offer(clara, felix)

    contract = services.offer_accept(offer=offer, by=felix)

    history = [(c.subject, c.transition, c.source, c.target) for c in contract_history(contract, clara)]
    assert ("offer", "accept", "sent", "accepted") in history
    assert ("milestone", "fund", "pending", "funded") in history


def test_both_parties_are_told_and_emailed_that_the_contract_started(clara, felix):
    offer = fixed_offer(clara, felix)
    Notification.objects.all().delete()

    contract = services.offer_accept(offer=offer, by=felix)

    started = (
        "Felix Freelancer accepted the offer “Brand identity” from Clara Client: the contract has started, and its "
        "first milestone, “Drafts”, is funded: $300.00 in escrow."
    )
    for party in (clara, felix):
        assert Notification.objects.get(user=party, message=started).contract == contract
    to_client = OutgoingEmail.objects.get(
        to=clara.email, subject="“Brand identity” is accepted: the contract has started"
    )
    to_freelancer = OutgoingEmail.objects.get(
        to=felix.email, subject="“Brand identity” is accepted: the contract has started"
    )
    assert "you were charged $315.00, with the 5% marketplace fee" in to_client.body_text
    assert "charged" not in to_freelancer.body_text
    assert f"/contracts/{contract.pk}/" in to_client.body_text


def test_nothing_is_left_behind_when_funding_the_first_milestone_fails(clara, felix, monkeypatch):
    offer = fixed_offer(clara, felix)
    emails = OutgoingEmail.objects.count()

    def failing(**kwargs):
        raise RuntimeError("the payment provider is down")

    monkeypatch.setattr("contracts.services.milestones.escrow_fund", failing)
    with pytest.raises(RuntimeError):
        services.offer_accept(offer=offer, by=felix)

    assert Contract.objects.count() == 0
    assert LedgerTransaction.objects.count() == 0
    assert OutgoingEmail.objects.count() == emails
    offer = Offer.objects.get(pk=offer.pk)
    assert (offer.state, offer.contract) == (OfferState.SENT, None)


def test_the_contract_started_by_an_offer_is_a_contract_like_any_other(clara, felix):
    """Its first milestone's work can be submitted and paid; it can be ended."""
    from contracts import services as contract_services

    contract = services.offer_accept(offer=fixed_offer(clara, felix, notice_days=0), by=felix)
    first = contract.milestones.get(position=1)

    contract_services.milestone_submit(milestone=first, by=felix, note="Drafts attached")
    payment = contract_services.milestone_release(milestone=first, by=clara)
    contract_services.contract_end(contract=contract, by=clara, reason="completed")

    assert payment.amount_cents == 300_00
    assert Contract.objects.get(pk=contract.pk).state == ContractState.ENDED
    assert_ledger_balanced()

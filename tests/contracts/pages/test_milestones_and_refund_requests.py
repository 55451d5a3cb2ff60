"""The milestone buttons of a fixed-price contract's page (fund, submit work, release
in full or in part) and the answers to a refund request (approve, dispute): each for
the party whose turn it is, the others told the rule."""

import pytest
from django.urls import reverse

from billing.models import Payment
from billing.selectors import escrow_held_cents
from contracts import services
from contracts.models import EscrowRefundRequest, Milestone, MilestoneState, RefundRequestState
from contracts.services import MilestoneChoice, MilestoneDecision
from tests.factories import MilestoneFactory
from tests.fixtures.contracts import funded
from tests.fixtures.pages import messages_of, release_data, signed_in, text


def milestone_post(client, milestone, action: str, data=None):
    return client.post(reverse("milestone_action", args=[milestone.pk, action]), data or {}, follow=True)


# Someone not party to the contract.


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["fund", "submit", "release"])
def test_someone_not_party_gets_404_for_milestone_actions_and_the_milestone_is_unchanged(
    client, fixed, stranger, action
):
    pending = MilestoneFactory(contract=fixed, title="Pending")
    in_escrow = funded(fixed, 100_00, "Funded")
    milestone = pending if action == "fund" else in_escrow
    signed_in(client, stranger)

    response = client.post(
        reverse("milestone_action", args=[milestone.pk, action]), {"idempotency_key": "k", "note": "Done"}
    )

    assert response.status_code == 404
    assert Milestone.objects.get(pk=pending.pk).state == MilestoneState.PENDING
    assert Milestone.objects.get(pk=in_escrow.pk).state == MilestoneState.FUNDED
    assert escrow_held_cents(in_escrow) == 100_00
    assert Payment.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["approve", "dispute"])
def test_someone_not_party_gets_404_for_refund_request_actions_and_the_request_stays_open(
    client, fixed, stranger, action
):
    milestone = funded(fixed, 100_00)
    services.contract_end(
        contract=fixed,
        by=fixed.client,
        reason="unsuccessful",
        milestone_decisions={milestone.pk: MilestoneDecision(MilestoneChoice.PAY_NOTHING)},
    )
    refund_request = EscrowRefundRequest.objects.get()
    signed_in(client, stranger)

    response = client.post(reverse("refund_request_action", args=[refund_request.pk, action]), {"statement": "No"})

    assert response.status_code == 404
    refund_request.refresh_from_db()
    assert refund_request.state == RefundRequestState.OPEN
    assert refund_request.freelancer_statement == ""
    assert escrow_held_cents(milestone) == 100_00


# Milestone buttons.


@pytest.mark.django_db
def test_client_funds_a_milestone(client, fixed):
    milestone = MilestoneFactory(contract=fixed, title="Sketches", amount_cents=1_234_56)
    signed_in(client, fixed.client)

    response = milestone_post(client, milestone, "fund")

    assert response.redirect_chain == [(reverse("contract_detail", args=[fixed.pk]), 302)]
    assert messages_of(response) == ["“Sketches” is funded: $1,234.56 is in escrow."]
    assert Milestone.objects.get(pk=milestone.pk).state == MilestoneState.FUNDED
    assert escrow_held_cents(milestone) == 1_234_56


@pytest.mark.django_db
def test_freelancer_submits_work_for_a_funded_milestone(client, fixed):
    milestone = funded(fixed, 100_00, "Sketches")
    signed_in(client, fixed.freelancer)

    response = milestone_post(client, milestone, "submit", {"note": "Three options attached"})

    assert messages_of(response) == ["Work for “Sketches” is submitted; the client has 14 days to review it."]
    milestone.refresh_from_db()
    assert (milestone.state, milestone.submission_note) == (MilestoneState.SUBMITTED, "Three options attached")
    assert "Three options attached" in text(response)


@pytest.mark.django_db
def test_client_releases_the_full_escrow_of_a_milestone(client, fixed):
    milestone = funded(fixed, 100_00, "Sketches")
    signed_in(client, fixed.client)

    response = milestone_post(client, milestone, "release", release_data(milestone, "100.00"))

    assert messages_of(response) == ["$100.00 paid to the freelancer for “Sketches”."]
    assert Milestone.objects.get(pk=milestone.pk).state == MilestoneState.RELEASED
    assert escrow_held_cents(milestone) == 0
    assert Payment.objects.get().amount_cents == 100_00


@pytest.mark.django_db
def test_client_releases_part_of_a_milestone_and_the_rest_stays_in_escrow(client, fixed):
    milestone = funded(fixed, 100_00, "Sketches")
    signed_in(client, fixed.client)

    confirmation = release_data(milestone, "40.00")
    response = milestone_post(client, milestone, "release", confirmation)
    again = milestone_post(client, milestone, "release", confirmation)

    assert messages_of(response) == ["$40.00 paid to the freelancer for “Sketches”."]
    assert messages_of(again) == ["$40.00 paid to the freelancer for “Sketches”."]
    assert Milestone.objects.get(pk=milestone.pk).state == MilestoneState.FUNDED
    assert escrow_held_cents(milestone) == 60_00
    assert list(Payment.objects.values_list("amount_cents", flat=True)) == [40_00]


@pytest.mark.django_db
def test_release_of_more_than_the_escrow_is_refused_with_the_amount_held(client, fixed):
    milestone = funded(fixed, 100_00, "Sketches")
    signed_in(client, fixed.client)

    response = milestone_post(client, milestone, "release", release_data(milestone, "100.01"))

    assert messages_of(response) == ["Enter an amount above $0.00 and at most $100.00, the amount in escrow."]
    assert Payment.objects.count() == 0


@pytest.mark.django_db
def test_freelancer_cannot_fund_and_gets_the_rules_message(client, fixed):
    milestone = MilestoneFactory(contract=fixed)
    signed_in(client, fixed.freelancer)

    response = milestone_post(client, milestone, "fund")

    assert messages_of(response) == ["Only the client of this contract can do this."]
    assert Milestone.objects.get(pk=milestone.pk).state == MilestoneState.PENDING
    assert escrow_held_cents(milestone) == 0


@pytest.mark.django_db
def test_client_cannot_submit_work_and_gets_the_rules_message(client, fixed):
    milestone = funded(fixed, 100_00)
    signed_in(client, fixed.client)

    response = milestone_post(client, milestone, "submit", {"note": "Done?"})

    assert messages_of(response) == ["Only the freelancer of this contract can do this."]
    assert Milestone.objects.get(pk=milestone.pk).state == MilestoneState.FUNDED


@pytest.mark.django_db
@pytest.mark.parametrize("amount", ["", "40.00"])
def test_freelancer_cannot_release_and_gets_the_rules_message(client, fixed, amount):
    milestone = funded(fixed, 100_00)
    signed_in(client, fixed.freelancer)

    response = milestone_post(client, milestone, "release", release_data(milestone, amount))

    assert messages_of(response) == ["Only the client of this contract can do this."]
    assert escrow_held_cents(milestone) == 100_00
    assert Payment.objects.count() == 0


@pytest.mark.django_db
def test_milestone_of_an_ended_contract_cannot_be_funded(client, fixed):
    milestone = MilestoneFactory(contract=fixed)
    funded_one = funded(fixed, 100_00)
    services.contract_end(contract=fixed, by=fixed.freelancer, reason="completed")
    other = MilestoneFactory(contract=fixed)
    signed_in(client, fixed.client)

    response = milestone_post(client, other, "fund")

    assert messages_of(response) == ["This contract has ended, so its milestones can no longer change this way."]
    assert Milestone.objects.get(pk=milestone.pk).state == MilestoneState.CANCELLED
    assert Milestone.objects.get(pk=funded_one.pk).state == MilestoneState.REFUNDED
    assert Milestone.objects.get(pk=other.pk).state == MilestoneState.PENDING


# Refund requests.


@pytest.mark.django_db
def test_freelancer_approves_a_refund_request_and_the_escrow_goes_back(client, fixed):
    milestone = funded(fixed, 100_00, "Sketches")
    services.contract_end(
        contract=fixed,
        by=fixed.client,
        reason="unsuccessful",
        milestone_decisions={milestone.pk: MilestoneDecision(MilestoneChoice.PAY_PART, 30_00)},
    )
    refund_request = EscrowRefundRequest.objects.get()
    signed_in(client, fixed.freelancer)

    response = client.post(reverse("refund_request_action", args=[refund_request.pk, "approve"]), follow=True)

    assert messages_of(response) == ["Refund approved: $70.00 goes back to the client."]
    refund_request.refresh_from_db()
    assert refund_request.state == RefundRequestState.APPROVED
    assert escrow_held_cents(milestone) == 0


@pytest.mark.django_db
def test_client_cannot_answer_their_own_refund_request(client, fixed):
    milestone = funded(fixed, 100_00, "Sketches")
    services.contract_end(
        contract=fixed,
        by=fixed.client,
        reason="unsuccessful",
        milestone_decisions={milestone.pk: MilestoneDecision(MilestoneChoice.PAY_NOTHING)},
    )
    refund_request = EscrowRefundRequest.objects.get()
    signed_in(client, fixed.client)

    response = client.post(reverse("refund_request_action", args=[refund_request.pk, "approve"]), follow=True)

    assert messages_of(response) == ["Only the freelancer of this contract can answer a refund request."]
    refund_request.refresh_from_db()
    assert refund_request.state == RefundRequestState.OPEN
    assert escrow_held_cents(milestone) == 100_00

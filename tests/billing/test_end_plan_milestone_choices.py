"""Who chooses how each milestone in escrow is paid when a contract ends is said once,
by the end plan (``EndPlan.milestones_to_decide``): a client ending a fixed-price
contract at once chooses for every milestone in escrow; a freelancer ending, a client
giving notice and an hourly contract choose for none. The End form asks exactly that."""

import pytest
from django.urls import reverse

from contracts import services
from tests.factories import FixedContractFactory, HourlyContractFactory, MilestoneFactory
from tests.fixtures.contracts import funded


@pytest.mark.django_db
def test_a_client_ending_at_once_chooses_for_every_milestone_in_escrow():
    contract = FixedContractFactory()
    first, second = funded(contract, 100_00), funded(contract, 40_00)
    MilestoneFactory(contract=contract)  # never funded: cancelled, nothing to choose

    plan = services.contract_end_preview(contract=contract, by=contract.client)

    assert [(o.milestone.pk, o.held_cents) for o in plan.milestones_to_decide] == [
        (first.pk, 100_00),
        (second.pk, 40_00),
    ]


@pytest.mark.django_db
def test_a_freelancer_ending_a_client_giving_notice_and_an_hourly_contract_choose_for_none():
    ended_by_freelancer = FixedContractFactory()
    funded(ended_by_freelancer, 100_00)
    with_notice = FixedContractFactory(notice_days=14)
    funded(with_notice, 100_00)
    hourly = HourlyContractFactory()

    by_freelancer = services.contract_end_preview(contract=ended_by_freelancer, by=ended_by_freelancer.freelancer)
    notice = services.contract_end_preview(contract=with_notice, by=with_notice.client)
    hourly_end = services.contract_end_preview(contract=hourly, by=hourly.client)

    assert len(by_freelancer.milestones) == len(notice.milestones) == 1
    assert notice.transition == "give_notice"
    assert by_freelancer.milestones_to_decide == notice.milestones_to_decide == hourly_end.milestones_to_decide == ()


@pytest.mark.django_db
@pytest.mark.parametrize("party", ["client", "freelancer"])
def test_the_end_form_asks_a_choice_for_exactly_the_milestones_the_plan_lists(client, party):
    contract = FixedContractFactory()
    funded(contract, 100_00)
    funded(contract, 40_00)
    client.force_login(getattr(contract, party))

    page = client.get(reverse("contract_end", args=[contract.pk]))

    asked = [milestone.pk for milestone, *_ in page.context["form"].milestone_fields]
    assert asked == [outcome.milestone.pk for outcome in page.context["plan"].milestones_to_decide]
    assert len(asked) == (2 if party == "client" else 0)

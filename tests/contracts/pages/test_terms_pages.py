"""The contract page's terms (issue 14): the terms and the description as accepted, this
week's rate and weekly limit and the next week's where a change was decided, the
changes since the start, and the forms to change them: the client's weekly limit and
milestones, either party's new rate, and the other party's answer to it."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from contracts import services
from contracts.models import Milestone, RateChange, RateChangeProposal, WeeklyLimitChange
from tests.factories import HourlyContractFactory
from tests.fixtures.pages import html, messages_of, section, signed_in, text, text_of

NOW = datetime(2026, 3, 11, 10, 0, tzinfo=UTC)  # Wednesday of the week of Mon Mar 9


@pytest.fixture(autouse=True)
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def page(client, contract):
    return client.get(reverse("contract_detail", args=[contract.pk]))


def terms_card(response) -> str:
    return text_of(section(response, 'id="terms"', "</article>"))


@pytest.mark.django_db
def test_the_contract_page_shows_the_terms_and_the_description_as_accepted(client, client_user, freelancer):
    contract = HourlyContractFactory(
        client=client_user,
        freelancer=freelancer,
        description="Build the ingestion API.\n\nPostgreSQL only.",
        manual_time_allowed=False,
        weekly_hour_limit=None,
        started_at=datetime(2026, 2, 2, 9, 0, tzinfo=UTC),
    )

    response = page(signed_in(client, freelancer), contract)

    card = terms_card(response)
    assert "Rate $50.00 an hour Weekly limit No limit" in card
    assert "Manual time Not allowed: time is recorded for the freelancer's today only" in card
    assert "Accepted on Feb 2, 2026 at $50.00 an hour, no weekly limit. The terms as accepted never change" in card
    assert text_of(section(response, 'id="description"', "</section>")) == (
        "Description Build the ingestion API. PostgreSQL only. As accepted with the terms."
    )


@pytest.mark.django_db
def test_the_client_changes_the_weekly_limit_and_both_see_this_weeks_and_next_weeks(client, hourly, freelancer):
    signed_in(client, hourly.client)
    assert 'id="change-weekly-limit"' in html(page(client, hourly))

    response = client.post(
        reverse("weekly_limit_change", args=[hourly.pk]), {"limit": "hours", "hours": "25"}, follow=True
    )

    assert messages_of(response) == [
        "From the billing week of Mon Mar 16, 2026 the weekly limit is 25 hours; this week keeps its limit."
    ]
    card = terms_card(page(signed_in(client, freelancer), hourly))
    assert "Weekly limit 40 hours From the week of Mar 16: 25 hours" in card
    assert "Mon Mar 16, 2026 Weekly limit 25 hours by Ada Lovelace" in card
    assert 'id="change-weekly-limit"' not in html(page(client, hourly))
    history = text_of(section(page(client, hourly), 'id="history"', "</section>"))
    assert "Ada Lovelace: weekly limit change: 25 hours a week from the week of 2026-03-16 (was 40 hours a week)" in (
        history
    )


@pytest.mark.django_db
def test_a_refused_weekly_limit_is_shown_at_its_field_with_what_was_typed(client, hourly):
    signed_in(client, hourly.client)

    response = client.post(reverse("weekly_limit_change", args=[hourly.pk]), {"limit": "hours", "hours": "40"})

    assert response.status_code == 400
    assert "The weekly limit from the week of Mon Mar 16, 2026 is already 40 hours a week." in text(response)
    assert 'value="40"' in html(response)
    assert not WeeklyLimitChange.objects.exists()


@pytest.mark.django_db
def test_the_client_lifts_the_weekly_limit_whatever_hours_were_left_in_the_field(client, hourly):
    signed_in(client, hourly.client)

    response = client.post(
        reverse("weekly_limit_change", args=[hourly.pk]), {"limit": "none", "hours": "12"}, follow=True
    )

    assert messages_of(response) == [
        "From the billing week of Mon Mar 16, 2026 there is no weekly limit; this week keeps its limit."
    ]
    assert WeeklyLimitChange.objects.get().hours is None


@pytest.mark.django_db
def test_the_freelancer_is_sent_back_from_the_weekly_limit_with_the_rule(client, hourly, freelancer):
    signed_in(client, freelancer)

    for response in (
        client.get(reverse("weekly_limit_change", args=[hourly.pk]), follow=True),
        client.post(reverse("weekly_limit_change", args=[hourly.pk]), {"limit": "hours", "hours": "10"}, follow=True),
    ):
        assert messages_of(response) == ["Only the client of this contract can change its weekly limit."]
    assert not WeeklyLimitChange.objects.exists()


@pytest.mark.django_db
def test_the_freelancer_proposes_a_rate_and_the_client_accepts_it_on_the_contract_page(
    client, hourly, client_user, freelancer
):
    signed_in(client, freelancer)
    response = client.post(
        reverse("rate_change", args=[hourly.pk]), {"rate": "62.50", "message": "More scope"}, follow=True
    )
    assert messages_of(response) == [
        "You proposed $62.50 an hour. Ada Lovelace can accept it until Mar 18, 2026 10:00 UTC; it applies from the "
        "billing week after they do."
    ]
    banner = text_of(section(page(client, hourly), 'id="rate-change"', "</div>"))
    assert banner.startswith("You proposed a new rate of $62.50 an hour (now $50.00).")
    assert "Withdraw your proposal" in banner and "Accept" not in banner

    signed_in(client, client_user)
    banner = text_of(section(page(client, hourly), 'id="rate-change"', "</div>"))
    assert "Grace Hopper proposed a new rate of $62.50 an hour (now $50.00)" in banner
    assert "Grace Hopper: “More scope”" in banner
    assert "Accept $62.50 an hour" in banner and "Decline the new rate" in banner

    proposal = RateChangeProposal.objects.get()
    response = client.post(reverse("rate_change_action", args=[proposal.pk, "accept"]), follow=True)

    assert messages_of(response) == [
        "The new rate of $62.50 an hour applies from the billing week of Mon Mar 16, 2026; the time of earlier "
        "weeks is billed at the rate before."
    ]
    card = terms_card(response)
    assert "Rate $50.00 an hour From the week of Mar 16: $62.50 an hour" in card
    assert 'id="rate-change"' not in html(response)
    assert RateChange.objects.get().rate_cents == 62_50


@pytest.mark.django_db
def test_the_other_party_declines_with_a_message_and_the_proposer_withdraws_their_own(
    client, hourly, client_user, freelancer
):
    first = services.rate_change_propose(contract=hourly, by=freelancer, rate_cents=70_00)
    signed_in(client, client_user)
    response = client.post(
        reverse("rate_change_action", args=[first.pk, "decline"]), {"message": "Too much for now"}, follow=True
    )
    assert messages_of(response) == ["You declined the proposed rate; the rate stays as it was."]

    second = services.rate_change_propose(contract=hourly, by=client_user, rate_cents=45_00)
    response = client.post(reverse("rate_change_action", args=[second.pk, "withdraw"]), follow=True)
    assert messages_of(response) == ["Your proposal is withdrawn; the rate stays as it was."]
    assert [p.state for p in RateChangeProposal.objects.order_by("id")] == ["declined", "withdrawn"]


@pytest.mark.django_db
def test_the_proposer_cannot_accept_their_own_rate_through_the_page(client, hourly, freelancer):
    proposal = services.rate_change_propose(contract=hourly, by=freelancer, rate_cents=70_00)
    signed_in(client, freelancer)

    response = client.post(reverse("rate_change_action", args=[proposal.pk, "accept"]), follow=True)

    assert messages_of(response) == ["Only the other party of this contract can accept or decline this proposed rate."]
    assert RateChangeProposal.objects.get().state == "proposed"


@pytest.mark.django_db
def test_a_refused_rate_is_shown_at_its_field_and_stores_nothing(client, hourly, freelancer):
    signed_in(client, freelancer)

    response = client.post(reverse("rate_change", args=[hourly.pk]), {"rate": "50.00"})

    assert response.status_code == 400
    assert "The rate is already $50.00 an hour." in text(response)
    assert not RateChangeProposal.objects.exists()


@pytest.mark.django_db
def test_the_client_adds_a_milestone_on_the_contract_page_then_funds_it(client, fixed, freelancer):
    signed_in(client, fixed.client)
    assert 'id="add-milestone"' in html(page(client, fixed))

    response = client.post(
        reverse("milestone_add", args=[fixed.pk]),
        {"title": "Icons", "amount": "150", "due_date": "2026-04-01"},
        follow=True,
    )

    milestone = Milestone.objects.get()
    assert response.redirect_chain[-1][0].endswith(f"#milestone-{milestone.pk}")
    assert messages_of(response) == ["The milestone “Icons” ($150.00) is added; fund it to put the money in escrow."]
    assert "Icons $150.00 $0.00 Not funded Fund $150.00" in text(response)
    client.post(reverse("milestone_action", args=[milestone.pk, "fund"]))
    assert Milestone.objects.get().state == "funded"
    assert 'id="add-milestone"' not in html(page(signed_in(client, freelancer), fixed))


@pytest.mark.django_db
def test_a_milestone_below_the_minimum_is_shown_at_its_field_with_what_was_typed(client, fixed):
    signed_in(client, fixed.client)

    response = client.post(
        reverse("milestone_add", args=[fixed.pk]), {"title": "Tiny", "amount": "4.99", "due_date": ""}
    )

    assert response.status_code == 400
    assert "A milestone must be at least $5.00." in text(response)
    assert 'value="Tiny"' in html(response) and 'value="4.99"' in html(response)
    assert not Milestone.objects.exists()


@pytest.mark.django_db
def test_the_freelancer_cannot_add_milestones_and_is_told_why(client, fixed, freelancer):
    signed_in(client, freelancer)

    response = client.post(reverse("milestone_add", args=[fixed.pk]), {"title": "Mine", "amount": "100"}, follow=True)

    assert messages_of(response) == ["Only the client of this contract can add milestones."]
    assert not Milestone.objects.exists()


@pytest.mark.django_db
def test_the_diary_page_shows_this_weeks_rate_and_limit_and_next_weeks(client, hourly, freelancer):
    proposal = services.rate_change_propose(contract=hourly, by=freelancer, rate_cents=60_00)
    services.rate_change_accept(proposal=proposal, by=hourly.client)
    services.contract_weekly_limit_change(contract=hourly, by=hourly.client, hours=None)

    response = signed_in(client, freelancer).get(reverse("diary", args=[hourly.pk]))
    assert "$50.00 an hour · up to 40 hours a week" in text(response)
    assert "From the billing week of Mon Mar 16: $60.00 an hour, no weekly limit." in text(response)

    with time_machine.travel(NOW + timedelta(days=5), tick=False):
        response = client.get(reverse("diary", args=[hourly.pk]))
    assert "$60.00 an hour · this week" in text(response)
    assert date(2026, 3, 16) == RateChange.objects.get().effective_from

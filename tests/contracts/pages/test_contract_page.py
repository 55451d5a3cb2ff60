"""The contract page: terms with money as dollars and cents, milestones and escrow,
the (…) options menu with what the person may do now, the history without the other
party's private reasons, and the payments 20 at a time."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from contracts import services
from contracts.models import ContractState, Milestone
from contracts.services import MilestoneChoice, MilestoneDecision
from tests.factories import DiaryEntryFactory, HourlyContractFactory, MilestoneFactory
from tests.fixtures.contracts import funded
from tests.fixtures.money import hourly_payment
from tests.fixtures.pages import end_form_data, html, messages_of, options_menu, section, signed_in, text, text_of

# Someone not party to the contract.


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["pause", "resume", "withdraw_notice", "propose_end"])
def test_someone_not_party_gets_404_for_contract_actions_and_the_contract_is_unchanged(
    client, hourly, stranger, action
):
    signed_in(client, stranger)

    response = client.post(reverse("contract_action", args=[hourly.pk, action]))

    assert response.status_code == 404
    hourly.refresh_from_db()
    assert hourly.state == ContractState.ACTIVE
    assert hourly.end_proposed_by_id is None
    assert hourly.state_changes.count() == 0


# Terms, milestones and the options menu.


@pytest.mark.django_db
def test_contract_page_shows_terms_with_money_as_dollars_and_cents(client, client_user, freelancer):
    contract = HourlyContractFactory(
        client=client_user, freelancer=freelancer, hourly_rate_cents=1_234_56, weekly_hour_limit=30, notice_days=0
    )
    DiaryEntryFactory(contract=contract, minutes=90, work_date=timezone.now().date())
    signed_in(client, client_user)

    response = client.get(reverse("contract_detail", args=[contract.pk]))

    terms = text_of(section(response, "<h2>Terms</h2>", "</dl>"))
    assert terms == (
        "Terms Kind Hourly Rate $1,234.56 an hour Weekly limit 30 hours Manual time Allowed "
        "Notice period None: ends at once"
    )
    diary = text_of(section(response, 'id="diary-summary"', "</dl>"))
    # 1:30 h at $1,234.56/h = $1,851.84
    assert "This week 1:30 h Not yet invoiced 1:30 h · $1,851.84 All time 1:30 h" in diary
    assert "you are the client; freelancer Grace Hopper" in text(response)


@pytest.mark.django_db
def test_fixed_contract_page_shows_milestone_amounts_and_escrow_in_dollars(client, fixed):
    MilestoneFactory(contract=fixed, title="Sketches", amount_cents=1_234_56, position=1)
    final = funded(fixed, 250_00, "Final files")
    Milestone.objects.filter(pk=final.pk).update(position=2)
    signed_in(client, fixed.client)

    response = client.get(reverse("contract_detail", args=[fixed.pk]))

    rows = [text_of(row) for row in re.findall(r'<tr id="milestone-\d+">.*?</tr>', html(response), re.S)]
    assert rows[0].startswith("1 Sketches $1,234.56 $0.00 Not funded Fund $1,234.56")
    assert rows[1].startswith("2 Final files $250.00 $250.00 Funded (in escrow)")
    assert "Release payment" in rows[1]
    assert "Notice period None: ends at once" in text(response)


@pytest.mark.django_db
def test_client_of_an_hourly_contract_sees_pause_in_the_menu_and_the_freelancer_does_not(client, hourly):
    signed_in(client, hourly.client)
    client_menu = text_of(options_menu(client.get(reverse("contract_detail", args=[hourly.pk]))))
    signed_in(client, hourly.freelancer)
    freelancer_menu = text_of(options_menu(client.get(reverse("contract_detail", args=[hourly.pk]))))

    assert client_menu == "… Pause contract Propose ending by mutual agreement End contract"
    assert freelancer_menu == "… Propose ending by mutual agreement End contract"


@pytest.mark.django_db
def test_fixed_price_contract_menu_has_no_pause(client, fixed):
    signed_in(client, fixed.client)

    menu = text_of(options_menu(client.get(reverse("contract_detail", args=[fixed.pk]))))

    assert menu == "… Propose ending by mutual agreement End contract"


@pytest.mark.django_db
def test_paused_contract_menu_offers_resume_to_the_client(client, hourly):
    services.contract_pause(contract=hourly, by=hourly.client)
    signed_in(client, hourly.client)

    menu = text_of(options_menu(client.get(reverse("contract_detail", args=[hourly.pk]))))

    assert menu == "… Resume contract Propose ending by mutual agreement End contract"


@pytest.mark.django_db
@pytest.mark.parametrize("party", ["client", "freelancer"])
def test_nobody_sees_end_contract_on_an_ended_contract(client, hourly, party):
    services.contract_end(contract=hourly, by=hourly.freelancer, reason="completed")
    signed_in(client, getattr(hourly, party))

    response = client.get(reverse("contract_detail", args=[hourly.pk]))

    assert options_menu(response) == ""
    assert "End contract" not in html(response)
    assert reverse("contract_end", args=[hourly.pk]) not in html(response)


@pytest.mark.django_db
def test_with_a_notice_period_the_menu_end_contract_leads_to_giving_notice(client, client_user, freelancer):
    contract = HourlyContractFactory(client=client_user, freelancer=freelancer, notice_days=7)
    signed_in(client, freelancer)

    menu = options_menu(client.get(reverse("contract_detail", args=[contract.pk])))
    end_page = client.get(reverse("contract_end", args=[contract.pk]))

    assert f'href="{reverse("contract_end", args=[contract.pk])}"' in menu
    assert "End contract" in text_of(menu)
    assert end_page.status_code == 200
    assert "End contract: give notice" in text(end_page)
    assert "Notice period: 7 days." in text(end_page)
    assert re.search(
        r'<button type="submit" name="confirm" value="1" class="danger">Give notice</button>', html(end_page)
    )
    assert end_page.context["form"]["plan_transition"].value() == "give_notice"


@pytest.mark.django_db
def test_giving_notice_through_the_end_page_starts_the_notice_period(client, client_user, freelancer):
    contract = HourlyContractFactory(client=client_user, freelancer=freelancer, notice_days=7)
    signed_in(client, freelancer)

    response = client.post(
        reverse("contract_end", args=[contract.pk]), end_form_data(transition="give_notice"), follow=True
    )

    contract.refresh_from_db()
    assert contract.state == ContractState.ENDING
    assert contract.notice_given_by == freelancer
    assert messages_of(response) == [
        f"Notice given: the contract ends on {contract.notice_effective_at:%Y-%m-%d %H:%M} UTC."
    ]
    assert "Withdraw notice" in text_of(options_menu(response))


# Private reasons stay with the party who gave them.


@pytest.mark.django_db
def test_private_end_reason_is_shown_only_to_the_party_who_gave_it(client, hourly):
    services.contract_end(contract=hourly, by=hourly.freelancer, reason="not_responsive", note="Gone for weeks")
    signed_in(client, hourly.freelancer)
    own = client.get(reverse("contract_detail", args=[hourly.pk]))
    signed_in(client, hourly.client)
    other = client.get(reverse("contract_detail", args=[hourly.pk]))

    assert "Your private reason: The other party was not responsive." in text(own)
    history = text_of(section(own, 'id="history"', "</section>"))
    assert "Grace Hopper: contract end (active → ended): private reason: The other party was not responsive" in history

    assert "The other party was not responsive" not in html(other)
    assert "private reason" not in html(other).lower()
    assert "Gone for weeks" not in html(other)
    other_history = text_of(section(other, 'id="history"', "</section>"))
    assert "Grace Hopper: contract end (active → ended)" in other_history
    assert "not_responsive" not in other_history


@pytest.mark.django_db
def test_private_reason_for_giving_notice_is_hidden_from_the_other_party(client, client_user, freelancer):
    contract = HourlyContractFactory(client=client_user, freelancer=freelancer, notice_days=7)
    services.contract_give_notice(contract=contract, by=client_user, reason="unsuccessful", note="Poor quality")
    signed_in(client, freelancer)

    response = client.get(reverse("contract_detail", args=[contract.pk]))

    history = text_of(section(response, 'id="history"', "</section>"))
    assert "Ada Lovelace: contract give notice (active → ending)" in history
    assert "Job completed unsuccessfully" not in html(response)
    assert "unsuccessful" not in history
    assert "Poor quality" not in html(response)


@pytest.mark.django_db
def test_private_end_note_of_a_client_ending_a_fixed_contract_is_not_shown_to_the_freelancer(client, fixed):
    milestone = funded(fixed, 100_00)
    services.contract_end(
        contract=fixed,
        by=fixed.client,
        reason="unsuccessful",
        note="Private: I found someone cheaper",
        milestone_decisions={milestone.pk: MilestoneDecision(MilestoneChoice.PAY_NOTHING)},
    )
    signed_in(client, fixed.freelancer)

    response = client.get(reverse("contract_detail", args=[fixed.pk]))

    assert "Job completed unsuccessfully" not in html(response)
    assert "I found someone cheaper" not in html(response)


# Payments.


@pytest.mark.django_db
def test_contract_page_lists_payments_20_at_a_time_newest_first_with_links_to_older(client, hourly):
    now = timezone.now()
    for day in range(25):
        hourly_payment(hourly, 10_00 + day, paid_at=now - timedelta(days=day, hours=1), key=f"page-{day}")
    signed_in(client, hourly.freelancer)
    url = reverse("contract_detail", args=[hourly.pk])

    first = html(client.get(url))
    second = html(client.get(url, {"payments_page": 2}))

    assert "Payments 1–20 of 25" in first and "?payments_page=2#payments" in first
    assert "$10.00" in first and "$10.19" in first and "$10.20" not in first
    assert "Payments 21–25 of 25" in second and "?payments_page=1#payments" in second
    assert "$10.20" in second and "$10.24" in second and "$10.19" not in second

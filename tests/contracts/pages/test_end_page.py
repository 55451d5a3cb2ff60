"""The End-contract form, a page without JavaScript and a dialog with htmx: the
preview of what ending bills, returns and locks, the reason it needs, a stale page
refused (409) with the new preview, ending once, and a client ending a fixed-price
contract choosing for each funded milestone."""

import pytest
from django.test import Client
from django.urls import reverse

from billing.models import Invoice, Payment
from billing.selectors import escrow_held_cents
from contracts import services
from contracts.models import ContractState, EscrowRefundRequest, Milestone, MilestoneState, RefundRequestState
from contracts.views.ending import STALE_PAGE
from tests.factories import DiaryEntryFactory, HourlyContractFactory, MilestoneFactory
from tests.fixtures.contracts import funded
from tests.fixtures.pages import end_form_data, html, messages_of, section, signed_in, text, text_of

ALREADY_ENDED = "This contract has already ended; ending is final."


# Who may end.


@pytest.mark.django_db
def test_anonymous_post_to_the_end_page_ends_nothing(client, hourly):
    response = client.post(reverse("contract_end", args=[hourly.pk]), end_form_data())

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    hourly.refresh_from_db()
    assert hourly.state == ContractState.ACTIVE


@pytest.mark.django_db
def test_someone_not_party_cannot_end_a_contract_and_it_stays_open(client, hourly, stranger):
    DiaryEntryFactory(contract=hourly, minutes=60)
    signed_in(client, stranger)

    response = client.post(reverse("contract_end", args=[hourly.pk]), end_form_data())

    assert response.status_code == 404
    hourly.refresh_from_db()
    assert hourly.state == ContractState.ACTIVE
    assert Invoice.objects.count() == 0


@pytest.mark.django_db
def test_end_post_without_csrf_token_is_403_and_ends_nothing(hourly):
    DiaryEntryFactory(contract=hourly, minutes=60)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(hourly.freelancer)

    response = browser.post(reverse("contract_end", args=[hourly.pk]), end_form_data())

    assert response.status_code == 403
    hourly.refresh_from_db()
    assert hourly.state == ContractState.ACTIVE
    assert Invoice.objects.count() == 0


# The page and the dialog.


@pytest.mark.django_db
def test_end_page_previews_the_hours_and_amount_to_be_billed(client, hourly):
    DiaryEntryFactory(contract=hourly, minutes=90)
    DiaryEntryFactory(contract=hourly, minutes=45)
    signed_in(client, hourly.freelancer)

    response = client.get(reverse("contract_end", args=[hourly.pk]))

    assert response.status_code == 200
    preview = text_of(section(response, 'id="preview-hours"', "</li>"))
    # 2:15 h at $50.00/h = $112.50; the client's 5% fee is $5.63.
    assert preview == ("Hours billed: 2:15 h at $50.00/h = $112.50 (the client also pays a $5.63 marketplace fee).")
    assert "Ending is final." in text(response)
    assert response.context["form"]["state"].value() == "active"
    assert response.context["form"]["plan_transition"].value() == "end"


@pytest.mark.django_db
def test_end_without_a_reason_is_refused_with_the_error_and_keeps_the_typed_note(client, hourly):
    signed_in(client, hourly.freelancer)

    response = client.post(reverse("contract_end", args=[hourly.pk]), end_form_data(reason="", note="Thanks, all done"))

    assert response.status_code == 400
    assert "Choose a reason for ending the contract." in text(response)
    assert "Thanks, all done</textarea>" in html(response)
    hourly.refresh_from_db()
    assert hourly.state == ContractState.ACTIVE


@pytest.mark.django_db
def test_end_with_a_reason_ends_the_contract_and_redirects_with_a_success_message(client, hourly):
    DiaryEntryFactory(contract=hourly, minutes=90)
    signed_in(client, hourly.freelancer)

    response = client.post(reverse("contract_end", args=[hourly.pk]), end_form_data(note="Bye"))

    assert response.status_code == 302
    assert response.url == reverse("contract_detail", args=[hourly.pk])
    hourly.refresh_from_db()
    assert hourly.state == ContractState.ENDED
    assert (hourly.ended_by, hourly.end_reason, hourly.end_reason_note) == (hourly.freelancer, "completed", "Bye")
    assert Invoice.objects.get(contract=hourly).amount_cents == 75_00
    page = client.get(response.url)
    assert messages_of(page) == ["The contract has ended."]


@pytest.mark.django_db
def test_posting_the_end_form_twice_says_ending_is_final_and_bills_once(client, hourly):
    DiaryEntryFactory(contract=hourly, minutes=90)
    signed_in(client, hourly.freelancer)
    url = reverse("contract_end", args=[hourly.pk])

    first = client.post(url, end_form_data(), follow=True)
    response = client.post(url, end_form_data(), follow=True)

    assert messages_of(first) == ["The contract has ended."]
    assert messages_of(response) == [ALREADY_ENDED]
    assert Invoice.objects.filter(contract=hourly).count() == 1
    assert Payment.objects.filter(contract=hourly).count() == 1
    assert hourly.state_changes.filter(transition="end").count() == 1


@pytest.mark.django_db
def test_the_other_party_posting_an_end_form_after_the_end_is_told_ending_is_final(client, hourly):
    DiaryEntryFactory(contract=hourly, minutes=90)
    services.contract_end(contract=hourly, by=hourly.freelancer, reason="completed")
    signed_in(client, hourly.client)

    response = client.post(reverse("contract_end", args=[hourly.pk]), end_form_data(), follow=True)

    assert messages_of(response) == [ALREADY_ENDED]
    assert Invoice.objects.filter(contract=hourly).count() == 1
    hourly.refresh_from_db()
    assert hourly.ended_by == hourly.freelancer


@pytest.mark.django_db
def test_stale_end_page_after_the_client_paused_is_409_and_ends_nothing(client, hourly):
    signed_in(client, hourly.freelancer)
    opened = client.get(reverse("contract_end", args=[hourly.pk]))
    services.contract_pause(contract=hourly, by=hourly.client)

    response = client.post(
        reverse("contract_end", args=[hourly.pk]),
        end_form_data(transition=opened.context["form"]["plan_transition"].value(), state="active"),
    )

    assert response.status_code == 409
    assert STALE_PAGE in text(response)
    assert response.context["form"]["state"].value() == "paused"
    hourly.refresh_from_db()
    assert hourly.state == ContractState.PAUSED


@pytest.mark.django_db
def test_stale_end_page_after_the_other_party_proposed_a_mutual_end_is_409_and_ends_nothing(client, hourly):
    signed_in(client, hourly.freelancer)
    client.get(reverse("contract_end", args=[hourly.pk]))
    services.contract_propose_end(contract=hourly, by=hourly.client)

    response = client.post(reverse("contract_end", args=[hourly.pk]), end_form_data(transition="end"))

    assert response.status_code == 409
    assert STALE_PAGE in text(response)
    assert response.context["form"]["plan_transition"].value() == "accept_end"
    assert "Accept and end contract" in text(response)
    hourly.refresh_from_db()
    assert hourly.state == ContractState.ACTIVE


@pytest.mark.django_db
def test_end_page_posted_after_the_other_party_gave_notice_gives_no_second_notice(client, client_user, freelancer):
    contract = HourlyContractFactory(client=client_user, freelancer=freelancer, notice_days=7)
    signed_in(client, freelancer)
    client.get(reverse("contract_end", args=[contract.pk]))
    services.contract_give_notice(contract=contract, by=client_user, reason="completed")

    response = client.post(reverse("contract_end", args=[contract.pk]), end_form_data(transition="give_notice"))

    # The page read was for giving notice; ending now would cut the client's notice
    # short, so the new preview is shown to read before confirming.
    assert response.status_code == 409
    assert STALE_PAGE in html(response)
    assert "Notice cut short" in html(response)
    contract.refresh_from_db()
    assert contract.state == ContractState.ENDING
    assert contract.notice_given_by == client_user
    assert contract.state_changes.filter(transition="give_notice").count() == 1


@pytest.mark.django_db
def test_htmx_end_request_gets_the_dialog_partial(client, hourly):
    signed_in(client, hourly.freelancer)

    response = client.get(reverse("contract_end", args=[hourly.pk]), headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert html(response).lstrip().startswith("<dialog")
    assert "<html" not in html(response)
    assert 'hx-post="{}"'.format(reverse("contract_end", args=[hourly.pk])) in html(response)


@pytest.mark.django_db
def test_htmx_end_without_reason_shows_the_error_in_the_dialog(client, hourly):
    signed_in(client, hourly.freelancer)

    response = client.post(
        reverse("contract_end", args=[hourly.pk]), end_form_data(reason=""), headers={"HX-Request": "true"}
    )

    assert "<dialog" in html(response)
    assert "Choose a reason for ending the contract." in text(response)
    hourly.refresh_from_db()
    assert hourly.state == ContractState.ACTIVE


@pytest.mark.django_db
def test_htmx_end_success_answers_with_an_hx_redirect_to_the_contract(client, hourly):
    signed_in(client, hourly.freelancer)

    response = client.post(reverse("contract_end", args=[hourly.pk]), end_form_data(), headers={"HX-Request": "true"})

    assert response["HX-Redirect"] == reverse("contract_detail", args=[hourly.pk])
    hourly.refresh_from_db()
    assert hourly.state == ContractState.ENDED


# A client ending a fixed-price contract chooses per milestone.


@pytest.mark.django_db
def test_client_ending_a_fixed_contract_gets_a_choice_for_each_funded_milestone(client, fixed):
    first = funded(fixed, 100_00, "Sketches")
    second = funded(fixed, 200_00, "Final files")
    MilestoneFactory(contract=fixed, title="Never funded")
    signed_in(client, fixed.client)

    response = client.get(reverse("contract_end", args=[fixed.pk]))

    page = html(response)
    for milestone in (first, second):
        for value in ("full", "part", "nothing"):
            assert f'name="milestone_{milestone.pk}_choice" value="{value}"' in page
        assert f'name="milestone_{milestone.pk}_amount"' in page
    assert "“Sketches”: $100.00 in escrow" in text(response)
    assert "“Never funded” was never funded and is cancelled." in text(response)


@pytest.mark.django_db
def test_freelancer_ending_a_fixed_contract_gets_no_milestone_choices_and_escrow_returns(client, fixed):
    milestone = funded(fixed, 100_00, "Sketches")
    signed_in(client, fixed.freelancer)

    response = client.get(reverse("contract_end", args=[fixed.pk]))

    assert f"milestone_{milestone.pk}_choice" not in html(response)
    assert "“Sketches” ($100.00 in escrow): $100.00 returned to the client." in text(response)


@pytest.mark.django_db
def test_client_ending_without_a_milestone_choice_is_refused_with_the_error(client, fixed):
    first = funded(fixed, 100_00, "Sketches")
    second = funded(fixed, 200_00, "Final files")
    signed_in(client, fixed.client)

    response = client.post(
        reverse("contract_end", args=[fixed.pk]), {**end_form_data(), f"milestone_{first.pk}_choice": "full"}
    )

    assert response.status_code == 400
    assert "Choose how much to pay for “Final files”." in text(response)
    fixed.refresh_from_db()
    assert fixed.state == ContractState.ACTIVE
    assert escrow_held_cents(first) == 100_00
    assert escrow_held_cents(second) == 200_00
    assert Payment.objects.count() == 0


@pytest.mark.django_db
def test_client_choosing_pay_part_without_an_amount_is_refused(client, fixed):
    milestone = funded(fixed, 100_00, "Sketches")
    signed_in(client, fixed.client)

    response = client.post(
        reverse("contract_end", args=[fixed.pk]), {**end_form_data(), f"milestone_{milestone.pk}_choice": "part"}
    )

    assert response.status_code == 400
    assert "Enter how much of “Sketches” to pay." in text(response)
    assert Payment.objects.count() == 0


@pytest.mark.django_db
def test_client_paying_part_pays_that_amount_and_asks_the_rest_back_as_a_refund_request(client, fixed):
    first = funded(fixed, 100_00, "Sketches")
    second = funded(fixed, 200_00, "Final files")
    signed_in(client, fixed.client)

    response = client.post(
        reverse("contract_end", args=[fixed.pk]),
        {
            **end_form_data(reason="unsuccessful"),
            f"milestone_{first.pk}_choice": "part",
            f"milestone_{first.pk}_amount": "30.00",
            f"milestone_{second.pk}_choice": "full",
        },
        follow=True,
    )

    assert messages_of(response) == ["The contract has ended."]
    fixed.refresh_from_db()
    assert fixed.state == ContractState.ENDED
    payments = dict(Payment.objects.values_list("milestone_id", "amount_cents"))
    assert payments == {first.pk: 30_00, second.pk: 200_00}
    refund_request = EscrowRefundRequest.objects.get()
    assert (refund_request.milestone_id, refund_request.amount_cents) == (first.pk, 70_00)
    assert refund_request.state == RefundRequestState.OPEN
    assert Milestone.objects.get(pk=first.pk).state == MilestoneState.REFUND_REQUESTED
    assert Milestone.objects.get(pk=second.pk).state == MilestoneState.RELEASED
    assert escrow_held_cents(first) == 70_00


@pytest.mark.django_db
def test_client_preview_with_pay_part_shows_what_is_paid_and_asked_back(client, fixed):
    milestone = funded(fixed, 100_00, "Sketches")
    signed_in(client, fixed.client)

    response = client.post(
        reverse("contract_end", args=[fixed.pk]),
        {
            **end_form_data(),
            "preview": "1",
            f"milestone_{milestone.pk}_choice": "part",
            f"milestone_{milestone.pk}_amount": "30.00",
        },
    )

    assert response.status_code == 200
    assert (
        "“Sketches” ($100.00 in escrow): $30.00 paid to the freelancer; $70.00 asked back as a refund request"
        in text(response)
    )
    fixed.refresh_from_db()
    assert fixed.state == ContractState.ACTIVE

"""The pages of offers: "Send an offer" (its milestone rows added without JavaScript
and through htmx, its errors at their field, nothing stored for bad input), the
offer's page for each party (the freelancer reads what the terms mean at the end),
its buttons as the transitions allow, and the Offers of My Jobs."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from contracts.models import Contract
from offers import services
from offers.models import Offer, OfferState
from tests.fixtures.offers import fixed_offer, hourly_offer
from tests.fixtures.pages import browser_for, html, messages_of, section, signed_in, text
from tests.fixtures.people import person, staff_reviewer, verified

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # a Monday
SEND = reverse("offer_send")


@pytest.fixture(autouse=True)
def at_t0():
    with time_machine.travel(T0, tick=False):
        yield


def offer_data(**changes) -> dict:
    """The form of a fixed-price offer to Felix with two milestones, as a browser posts it."""
    data = {
        "to": "felix",
        "title": "Brand identity",
        "description": "A logo and a style guide.",
        "kind": "fixed",
        "hourly_rate": "",
        "weekly_hour_limit": "",
        "notice_days": "14",
        "start_date": "2026-06-01",
        "milestones-TOTAL_FORMS": "2",
        "milestones-INITIAL_FORMS": "0",
        "milestones-MIN_NUM_FORMS": "1",
        "milestones-MAX_NUM_FORMS": "20",
        "milestones-0-title": "Drafts",
        "milestones-0-amount": "300",
        "milestones-0-due_date": "2026-06-15",
        "milestones-1-title": "Final files",
        "milestones-1-amount": "200.00",
        "milestones-1-due_date": "",
    }
    return {**data, **changes}


# Sending.


def test_the_send_page_starts_with_one_milestone_row_and_todays_start_date(client, clara):
    signed_in(client, verified(clara))

    response = client.get(SEND, {"to": "felix"})

    assert response.status_code == 200
    page = html(response)
    assert 'id="milestone-row-1"' in page and 'id="milestone-row-2"' not in page
    assert 'value="2026-06-01"' in page and 'value="felix"' in page
    assert 'id="verify-first"' not in page


def test_a_fixed_price_offer_with_two_milestones_is_sent_from_the_page(client, clara, felix):
    signed_in(client, verified(clara))

    response = client.post(SEND, offer_data(), follow=True)

    offer = Offer.objects.get()
    assert response.redirect_chain == [(reverse("offer_detail", args=[offer.pk]), 302)]
    assert (offer.freelancer, offer.state, offer.notice_days) == (felix, OfferState.SENT, 14)
    assert [(m.title, m.amount_cents, str(m.due_date)) for m in offer.milestones.all()] == [
        ("Drafts", 300_00, "2026-06-15"),
        ("Final files", 200_00, "None"),
    ]
    assert messages_of(response) == [
        "Your offer “Brand identity” is sent: Felix Freelancer is told and e-mailed. "
        "It expires on Jun 8, 2026 09:00 UTC."
    ]


def test_an_hourly_offer_is_sent_without_milestones_whatever_the_milestone_rows_hold(client, clara, felix):
    signed_in(client, verified(clara))

    client.post(
        SEND,
        offer_data(kind="hourly", hourly_rate="60", weekly_hour_limit="25", **{"milestones-0-amount": "1"}),
    )

    offer = Offer.objects.get()
    assert (offer.kind, offer.hourly_rate_cents, offer.weekly_hour_limit, offer.manual_time_allowed) == (
        "hourly",
        60_00,
        25,
        False,  # the box was not ticked
    )
    assert offer.milestones.count() == 0


def test_add_a_milestone_without_javascript_keeps_what_was_typed_and_sends_nothing(client, clara, felix):
    signed_in(client, verified(clara))

    response = client.post(SEND, offer_data(add_milestone="1", **{"milestones-1-amount": "4"}))

    assert response.status_code == 200
    page = html(response)
    assert 'id="milestone-row-3"' in page
    assert 'value="Final files"' in page and 'value="Brand identity"' in page
    assert "errorlist" not in page  # nothing is judged before it is sent
    assert "<html" in page
    assert not Offer.objects.exists()


def test_add_a_milestone_through_htmx_answers_with_the_form_alone(client, clara):
    signed_in(client, verified(clara))

    response = client.post(SEND, offer_data(add_milestone="1"), HTTP_HX_REQUEST="true")

    page = html(response)
    assert page.lstrip().startswith("<form") and "<html" not in page
    assert 'id="milestone-row-3"' in page and 'name="milestones-TOTAL_FORMS" value="3"' in page


def test_errors_are_shown_at_their_field_and_nothing_is_stored(client, clara, felix):
    signed_in(client, verified(clara))

    response = client.post(SEND, offer_data(notice_days="31", **{"milestones-1-amount": "4.99"}))

    assert response.status_code == 400
    notice = section(response, 'id="id_notice_days"', "</div>")
    assert "The notice period must be between 0 and 30 days." in notice
    second = section(response, 'id="milestone-row-2"', "Each milestone is at least")
    assert "A milestone must be at least $5.00." in second
    assert not Offer.objects.exists()


def test_empty_milestone_rows_are_left_out_but_a_fixed_price_offer_needs_one(client, clara, felix):
    signed_in(client, verified(clara))
    empty_first = {"milestones-0-title": "", "milestones-0-amount": "", "milestones-0-due_date": ""}

    one_row = client.post(SEND, offer_data(**empty_first))
    none = client.post(SEND, offer_data(**empty_first, **{"milestones-1-title": "", "milestones-1-amount": ""}))

    assert one_row.status_code == 302
    assert [m.title for m in Offer.objects.get().milestones.all()] == ["Final files"]
    assert none.status_code == 400
    assert "A fixed-price offer needs at least one milestone." in section(none, 'id="milestones"', "</fieldset>")


def test_an_unknown_freelancer_is_refused_at_the_freelancer_field(client, clara):
    signed_in(client, verified(clara))

    response = client.post(SEND, offer_data(to="nobody"))

    assert response.status_code == 400
    assert "No one has the username “nobody”." in section(response, 'id="id_to"', "</div>")


def test_an_hourly_offer_without_a_rate_is_refused_at_the_rate(client, clara, felix):
    signed_in(client, verified(clara))

    response = client.post(SEND, offer_data(kind="hourly"))

    assert "An hourly contract needs an hourly rate above $0.00." in section(response, 'id="id_hourly_rate"', "</div>")
    assert not Offer.objects.exists()


def test_an_unverified_person_is_told_to_verify_and_their_offer_is_not_sent(client, clara, felix):
    signed_in(client, clara)

    page = client.get(SEND)
    response = client.post(SEND, offer_data())

    assert 'id="verify-first"' in html(page)
    assert response.status_code == 400
    assert "Verify your e-mail address before you send an offer" in section(response, 'class="form-errors"', "</div>")
    assert not Offer.objects.exists()


# The offer's page.


def test_the_freelancer_reads_what_fixed_price_terms_mean_at_the_end_with_the_fee_and_net(client, clara, felix):
    offer = fixed_offer(clara, felix)
    signed_in(client, felix)

    page = text(client.get(reverse("offer_detail", args=[offer.pk])))

    assert "You can give 14 days' notice, and so can the client" in page
    assert "If the client ends the contract, they choose for each funded milestone to pay it in full" in page
    assert "a refund request you have 7 days to approve or dispute" in page
    assert "If you end the contract, every milestone still in escrow goes back to the client." in page
    assert (
        "The service fee is 10% of each payment to you: on the $500.00 of these milestones you receive $450.00" in page
    )
    assert "Drafts funded on acceptance Jun 15" not in page  # no due date was set
    assert "What you pay" not in page


def test_the_freelancer_reads_that_hourly_time_is_billed_weekly_on_monday_noon_utc(client, clara, felix):
    offer = hourly_offer(clara, felix, rate_cents=50_00, weekly_hour_limit=20)
    signed_in(client, felix)

    page = text(client.get(reverse("offer_detail", args=[offer.pk])))

    assert "There is no notice period: you or the client can end the contract at any time, at once." in page
    assert "Time is billed weekly, Monday 12:00 UTC" in page
    assert (
        "at $50.00 an hour you receive $45.00 an hour (fee $5.00); "
        "a full week at the limit pays $1,000.00, $900.00 to you" in page
    )


def test_the_client_reads_what_accepting_charges_them(client, clara, felix):
    offer = fixed_offer(clara, felix)
    signed_in(client, clara)

    page = text(client.get(reverse("offer_detail", args=[offer.pk])))

    assert "you are charged $300.00 plus the 5% marketplace fee, $15.00: $315.00" in page
    assert "What these terms mean at the end" not in page


def test_each_party_sees_only_the_buttons_the_transitions_allow_and_nobody_else_sees_the_offer(client, clara, felix):
    offer = fixed_offer(clara, felix)
    url = reverse("offer_detail", args=[offer.pk])

    as_client = html(signed_in(client, clara).get(url))
    as_freelancer = html(signed_in(client, felix).get(url))
    stranger = signed_in(client, person("mallory")).get(url)
    with time_machine.travel(offer.expires_at, tick=False):
        expired = html(signed_in(client, felix).get(url))

    assert "Withdraw the offer" in as_client and "Accept the offer" not in as_client
    assert "Accept the offer" in as_freelancer and "Decline the offer" in as_freelancer
    assert "Withdraw the offer" not in as_freelancer
    assert stranger.status_code == 404
    assert 'id="answer"' not in expired and "expired on" in expired


def test_accepting_from_the_page_opens_the_new_contract(client, clara, felix):
    offer = fixed_offer(clara, felix)
    signed_in(client, felix)

    response = client.post(reverse("offer_action", args=[offer.pk, "accept"]), follow=True)

    contract = Contract.objects.get()
    assert response.redirect_chain == [(reverse("contract_detail", args=[contract.pk]), 302)]
    assert messages_of(response) == [
        "You accepted the offer: the contract has started; its first milestone is funded: $300.00 is in escrow."
    ]


def test_declining_without_a_reason_is_refused_at_the_reason_and_with_one_is_done(client, clara, felix):
    offer = fixed_offer(clara, felix)
    signed_in(client, felix)
    url = reverse("offer_action", args=[offer.pk, "decline"])

    refused = client.post(url, {"reason": "  "})
    declined = client.post(url, {"reason": "The budget is too small."}, follow=True)

    assert refused.status_code == 400
    assert "Tell the client why you decline: they read your reason." in section(refused, 'id="decline-form"', "</form>")
    assert Offer.objects.get(pk=offer.pk).state == OfferState.DECLINED
    assert "Reason: “The budget is too small.”" in text(declined)


def test_an_answer_that_is_no_longer_possible_is_refused_with_the_reason(client, clara, felix):
    offer = fixed_offer(clara, felix)
    browser_for(clara).post(reverse("offer_action", args=[offer.pk, "withdraw"]))
    signed_in(client, felix)

    response = client.post(reverse("offer_action", args=[offer.pk, "accept"]), follow=True)

    assert messages_of(response) == ["The client withdrew this offer."]
    assert not Contract.objects.exists()


def test_an_unknown_action_is_404(client, clara, felix):
    offer = fixed_offer(clara, felix)
    signed_in(client, felix)

    assert client.post(reverse("offer_action", args=[offer.pk, "steal"])).status_code == 404


# My Jobs.


def test_my_jobs_has_a_send_an_offer_button_and_shows_pending_offers_at_the_top(client, clara, felix):
    soon = fixed_offer(clara, felix, title="Soon", expires_at=T0 + timedelta(days=2))
    later = fixed_offer(clara, felix, title="Later")
    answered = fixed_offer(clara, felix, title="Answered")
    services.offer_decline(offer=answered, by=felix, reason="No time")
    signed_in(client, felix)

    response = client.get(reverse("my_jobs"))

    page = html(response)
    assert f'href="{SEND}"' in page
    waiting = text(type(response)(section(response, 'id="offers-waiting"', "</section>")))
    assert waiting.index("Soon") < waiting.index("Later")
    assert "Answered" not in waiting
    assert "fixed-price offer from Clara Client; answer by Jun 3, 2026 09:00 UTC" in waiting
    assert f'href="/offers/{soon.pk}/"' in page and f'href="/offers/{later.pk}/"' in page


def test_the_offers_tab_lists_offers_received_and_sent_with_state_and_expiry(client, clara, felix):
    received = fixed_offer(clara, felix, title="Received")
    sent = hourly_offer(felix, "nora@example.org", title="Sent")
    signed_in(client, felix)

    response = client.get(reverse("my_jobs"), {"status": "offers"})

    rows = text(type(response)(section(response, "<table", "</table>")))
    assert "Received Fixed-price Freelancer (received) Clara Client Waiting for an answer Jun 8, 2026 09:00 UTC" in rows
    assert "Sent Hourly Client (sent) nora@example.org (invited) Waiting for an answer Jun 8, 2026 09:00 UTC" in rows
    assert "Offers (2)" in text(response)
    assert 'id="offers-waiting"' not in html(response)
    assert received.pk and sent.pk


# The admin.


def test_the_admin_shows_offers_to_reviewers_and_lets_nobody_change_them(client, clara, felix):
    offer = fixed_offer(clara, felix)
    signed_in(client, staff_reviewer("rita"))

    listed = client.get(reverse("admin:offers_offer_changelist"))
    shown = client.get(reverse("admin:offers_offer_change", args=[offer.pk]))
    changed = client.post(reverse("admin:offers_offer_change", args=[offer.pk]), {"title": "Something else"})

    assert listed.status_code == shown.status_code == 200
    assert "Brand identity" in text(listed)
    assert 'name="title"' not in html(shown) and offer.invitation_token is None
    assert changed.status_code == 403
    assert Offer.objects.get(pk=offer.pk).title == "Brand identity"

"""An offer's states and refusals: sent (with its expiry scheduled and the freelancer
told), accepted, declined with a reason, withdrawn by the client, expired; and every
refusal, with a sentence a person understands and nothing stored."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection, transaction

from contracts.models import ContractKind, JobKind, JobState, Notification, OutgoingEmail, ScheduledJob, StateChange
from contracts_portal.errors import DomainError
from offers import services
from offers.models import Offer, OfferMilestone, OfferState
from tests.fixtures.offers import DRAFTS, FINAL, fixed_offer, hourly_offer
from tests.fixtures.people import person, verified

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def at_t0():
    with time_machine.travel(T0, tick=False):
        yield


def stored() -> tuple[int, int, int, int]:
    return (
        Offer.objects.count(),
        OfferMilestone.objects.count(),
        StateChange.objects.count(),
        ScheduledJob.objects.count(),
    )


def refusal(action) -> DomainError:
    with pytest.raises(DomainError) as refused:
        action()
    return refused.value


# Sent.


def test_a_sent_offer_waits_for_an_answer_for_7_days_and_the_freelancer_is_told_and_emailed(clara, felix):
    offer = fixed_offer(clara, felix)

    assert (offer.state, offer.sent_at, offer.expires_at) == (OfferState.SENT, T0, T0 + timedelta(days=7))
    assert [(m.position, m.title, m.amount_cents) for m in offer.milestones.all()] == [
        (1, *DRAFTS),
        (2, *FINAL),
    ]
    [change] = StateChange.objects.filter(subject="offer", subject_id=offer.pk)
    assert (change.transition, change.source, change.target, change.actor, change.contract) == (
        "send",
        "draft",
        "sent",
        clara,
        None,
    )
    job = ScheduledJob.objects.get(kind=JobKind.OFFER_EXPIRY)
    assert (job.subject_id, job.contract, job.due_at, job.state) == (offer.pk, None, offer.expires_at, JobState.PENDING)
    told = Notification.objects.get(user=felix)
    assert told.message == (
        "Clara Client sent you an offer, “Brand identity”: read its terms and accept or decline it by "
        "2026-06-08 09:00 UTC."
    )
    assert told.link == f"/offers/{offer.pk}/"
    email = OutgoingEmail.objects.get(to=felix.email)
    assert email.subject == "Clara Client sent you an offer: “Brand identity” (answer by Jun 8)"
    assert f"/offers/{offer.pk}/" in email.body_text and "$450.00 to you after the 10% service fee" in email.body_text


def test_an_offer_is_found_by_username_or_by_a_verified_email_address(clara, felix):
    verified(felix)

    by_name = fixed_offer(clara, "felix")
    by_address = fixed_offer(clara, "FELIX@example.com")

    assert by_name.freelancer == by_address.freelancer == felix
    assert by_address.invited_email == ""


def test_an_unverified_client_cannot_send_an_offer_and_nothing_is_stored(clara, felix):
    before = stored()

    error = refusal(
        lambda: services.offer_send(
            client=clara,
            to="felix",
            title="Logo",
            description="A logo.",
            kind=ContractKind.FIXED,
            start_date=T0.date(),
            milestones=[DRAFTS],
        )
    )

    assert error.code == "unverified"
    assert error.message.startswith("Verify your e-mail address before you send an offer")
    assert stored() == before


@pytest.mark.parametrize("to", ["clara", "Clara@Example.com"])
def test_an_offer_to_yourself_is_refused(clara, to):
    verified(clara)
    before = stored()

    error = refusal(lambda: fixed_offer(clara, to))

    assert (error.code, error.message) == ("freelancer", "You cannot send an offer to yourself.")
    assert stored() == before


def test_an_offer_to_an_unknown_username_says_how_to_invite_someone_without_an_account(clara):
    error = refusal(lambda: fixed_offer(clara, "nobody"))

    assert error.code == "freelancer"
    assert error.message == (
        "No one has the username “nobody”. To invite someone without an account, type their e-mail address."
    )


def test_a_closed_account_cannot_receive_offers(clara):
    person("gone", is_active=False)

    assert refusal(lambda: fixed_offer(clara, "gone")).message == "This account is closed: it cannot receive offers."


BAD_TERMS = [
    ("notice 31 days", {"notice_days": 31}, "notice_days", "The notice period must be between 0 and 30 days."),
    ("milestone below $5", {"milestones": [("Sketch", 4_99)]}, "amount", "A milestone must be at least $5.00."),
    (
        "milestone above the maximum",
        {"milestones": [("Everything", 1_000_000_01)]},
        "amount",
        "A milestone can be at most $1,000,000.00: split larger work into several.",
    ),
    ("no milestone", {"milestones": []}, "milestones", "A fixed-price offer needs at least one milestone."),
    ("untitled milestone", {"milestones": [(" ", 10_00)]}, "milestones", "Give every milestone a title."),
    ("blank title", {"title": "  "}, "title", "Give the contract a title."),
    (
        "blank description",
        {"description": " "},
        "description",
        "Describe the work: the freelancer reads it before accepting.",
    ),
    (
        "start date yesterday",
        {"start_date": T0.date() - timedelta(days=1)},
        "start_date",
        "Choose a start date from today (2026-06-01) to 2028-05-31.",
    ),
    (
        "start date beyond two years",
        {"start_date": T0.date() + timedelta(days=731)},
        "start_date",
        "Choose a start date from today (2026-06-01) to 2028-05-31.",
    ),
    (
        "milestone due before the start",
        {"start_date": T0.date() + timedelta(days=3), "milestones": [("Drafts", 10_00, T0.date())]},
        "milestones",
        "A milestone's due date must be from the start date (2026-06-04) to 2028-05-31.",
    ),
]


@pytest.mark.parametrize(("case", "terms", "code", "message"), BAD_TERMS, ids=[case for case, *_ in BAD_TERMS])
def test_bad_fixed_price_terms_are_refused_at_their_term_and_nothing_is_stored(
    clara, felix, case, terms, code, message
):
    before = stored()

    error = refusal(lambda: fixed_offer(clara, felix, **terms))

    assert (error.code, error.message) == (code, message)
    assert stored() == before


BAD_HOURLY_TERMS = [
    ("no rate", {"rate_cents": 0}, "hourly_rate_cents", "An hourly contract needs an hourly rate above $0.00."),
    (
        "rate above the maximum",
        {"rate_cents": 10_000_01},
        "hourly_rate_cents",
        "The hourly rate can be at most $10,000.00.",
    ),
    (
        "weekly limit 0",
        {"weekly_hour_limit": 0},
        "weekly_hour_limit",
        "The weekly limit must be between 1 and 168 hours.",
    ),
    (
        "weekly limit 169",
        {"weekly_hour_limit": 169},
        "weekly_hour_limit",
        "The weekly limit must be between 1 and 168 hours.",
    ),
]


@pytest.mark.parametrize(
    ("case", "terms", "code", "message"), BAD_HOURLY_TERMS, ids=[case for case, *_ in BAD_HOURLY_TERMS]
)
def test_bad_hourly_terms_are_refused_at_their_term_and_nothing_is_stored(clara, felix, case, terms, code, message):
    before = stored()

    error = refusal(lambda: hourly_offer(clara, felix, **terms))

    assert (error.code, error.message) == (code, message)
    assert stored() == before


# Who answers.


def test_only_the_freelancer_it_was_sent_to_can_accept_or_decline_it(clara, felix):
    offer = fixed_offer(clara, felix)
    stranger = person("mallory")
    only = "Only the freelancer this offer was sent to can accept or decline it."

    for someone in (clara, stranger):
        assert refusal(lambda someone=someone: services.offer_accept(offer=offer, by=someone)).message == only
        assert (
            refusal(lambda someone=someone: services.offer_decline(offer=offer, by=someone, reason="No")).message
            == only
        )
    offer.refresh_from_db()
    assert (offer.state, offer.contract) == (OfferState.SENT, None)


def test_only_the_client_can_withdraw_the_offer(clara, felix):
    offer = fixed_offer(clara, felix)

    error = refusal(lambda: services.offer_withdraw(offer=offer, by=felix))

    assert error.message == "Only the client who sent this offer can do this."
    services.offer_withdraw(offer=offer, by=clara)
    offer.refresh_from_db()
    assert (offer.state, offer.answered_at) == (OfferState.WITHDRAWN, T0)
    assert Notification.objects.get(user=felix, message__contains="withdrew").message == (
        "Clara Client withdrew the offer “Brand identity”: it can no longer be accepted."
    )


# Answered once.


def test_a_withdrawn_offer_cannot_be_accepted(clara, felix):
    offer = fixed_offer(clara, felix)
    services.offer_withdraw(offer=offer, by=clara)

    assert refusal(lambda: services.offer_accept(offer=offer, by=felix)).message == "The client withdrew this offer."


def test_a_declined_offer_cannot_be_accepted_or_withdrawn(clara, felix):
    offer = fixed_offer(clara, felix)
    services.offer_decline(offer=offer, by=felix, reason="The budget is too small for a style guide.")

    assert refusal(lambda: services.offer_accept(offer=offer, by=felix)).message == "This offer was declined."
    assert refusal(lambda: services.offer_withdraw(offer=offer, by=clara)).message == "This offer was declined."


def test_an_accepted_offer_cannot_be_accepted_again_declined_or_withdrawn(clara, felix):
    offer = fixed_offer(clara, felix)
    services.offer_accept(offer=offer, by=felix)
    accepted = "This offer was already accepted: the contract has started."

    assert refusal(lambda: services.offer_accept(offer=offer, by=felix)).message == accepted
    assert refusal(lambda: services.offer_decline(offer=offer, by=felix, reason="Changed my mind")).message == accepted
    assert refusal(lambda: services.offer_withdraw(offer=offer, by=clara)).message == accepted
    assert Offer.objects.get(pk=offer.pk).contract.offer == offer


def test_an_offer_past_its_expiry_cannot_be_answered_or_withdrawn_even_before_the_sweep_records_it(clara, felix):
    offer = fixed_offer(clara, felix)
    expired = "This offer expired on 2026-06-08 09:00 UTC without an answer."

    with time_machine.travel(offer.expires_at, tick=False):
        assert refusal(lambda: services.offer_accept(offer=offer, by=felix)).message == expired
        assert refusal(lambda: services.offer_decline(offer=offer, by=felix, reason="Late")).message == expired
        assert refusal(lambda: services.offer_withdraw(offer=offer, by=clara)).message == expired
    with time_machine.travel(offer.expires_at - timedelta(seconds=1), tick=False):
        services.offer_accept(offer=offer, by=felix)


def test_declining_needs_a_reason_which_the_client_reads_in_the_portal_and_on_the_offer(clara, felix):
    offer = fixed_offer(clara, felix)

    error = refusal(lambda: services.offer_decline(offer=offer, by=felix, reason="   "))
    services.offer_decline(offer=offer, by=felix, reason="I am booked until September.")

    assert (error.code, error.message) == ("reason", "Tell the client why you decline: they read your reason.")
    offer.refresh_from_db()
    assert (offer.state, offer.decline_reason) == (OfferState.DECLINED, "I am booked until September.")
    told = Notification.objects.get(user=clara)
    assert (
        told.message
        == "Felix Freelancer declined your offer “Brand identity”. Their message: “I am booked until September.”."
    )
    email = OutgoingEmail.objects.get(to=clara.email)
    assert email.subject == "Felix Freelancer declined your offer “Brand identity”"
    assert "booked" not in email.body_text  # what a party wrote stays in the portal


def test_an_offer_of_a_client_whose_account_was_closed_cannot_be_accepted(clara, felix):
    offer = fixed_offer(clara, felix)
    type(clara).objects.filter(pk=clara.pk).update(is_active=False)

    error = refusal(lambda: services.offer_accept(offer=Offer.objects.get(pk=offer.pk), by=felix))

    assert error.message == "The client's account is closed, so this offer can no longer be accepted."
    assert Offer.objects.get(pk=offer.pk).state == OfferState.SENT


# What PostgreSQL refuses.


@pytest.mark.postgres
def test_an_offers_terms_and_milestones_never_change_once_written_whatever_the_path(clara, felix, on_postgres):
    offer = fixed_offer(clara, felix)
    milestone = offer.milestones.first()

    for statement, parameters in (
        ("UPDATE offers_offer SET hourly_rate_cents = NULL, notice_days = 0 WHERE id = %s", [offer.pk]),
        ("UPDATE offers_offer SET description = 'Something else' WHERE id = %s", [offer.pk]),
        ("UPDATE offers_offer SET freelancer_id = %s WHERE id = %s", [clara.pk, offer.pk]),
        ("UPDATE offers_offermilestone SET amount_cents = 99999 WHERE id = %s", [milestone.pk]),
        ("DELETE FROM offers_offermilestone WHERE id = %s", [milestone.pk]),
    ):
        with pytest.raises(Exception) as refused, connection.cursor() as cursor, transaction.atomic():  # noqa: PT011
            cursor.execute(statement, parameters)
        assert "offer" in str(refused.value)
    offer.refresh_from_db()
    assert (offer.notice_days, offer.freelancer, offer.milestones.get(pk=milestone.pk).amount_cents) == (
        14,
        felix,
        DRAFTS[1],
    )

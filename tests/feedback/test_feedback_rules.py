"""Who may leave feedback, when, and what it may say (DESIGN.md, "Feedback"). Every
refusal gives a clear message and stores nothing."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from contracts import services
from contracts.models import Feedback, FeedbackResponse, JobKind, JobState, Notification, ScheduledJob
from contracts_portal.errors import DomainError
from tests.factories import FixedContractFactory, UserFactory
from tests.fixtures.clock import stopped_at, sweep
from tests.fixtures.feedback import (
    CLIENT_COMMENT,
    CLIENT_SCORES,
    FREELANCER_SCORES,
    client_feedback,
    ended_contract,
    freelancer_feedback,
)
from tests.fixtures.pages import unescaped

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 5, 7, 10, 0, tzinfo=UTC)
DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)

WINDOW_CLOSED = "The feedback window closed on 2025-05-21 10:00 UTC, 14 days after the contract ended."


def refusal_of(call) -> str:
    """The sentence of the DomainError ``call`` must raise."""
    with pytest.raises(DomainError) as refusal:
        call()
    return refusal.value.message


# Ratings and the private part.


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"skills": 0}, "Rate “Skills” from 1 to 5."),
        ({"skills": 6}, "Rate “Skills” from 1 to 5."),
        ({"quality": "5"}, "Rate “Quality of work” from 1 to 5."),
        ({"deadlines": True}, "Rate “Adherence to deadlines” from 1 to 5."),
        ({"cooperation": 4.0}, "Rate “Cooperation” from 1 to 5."),
        ({"cooperation": None}, "Rate “Cooperation” from 1 to 5."),
        ({"friendliness": 5}, "Rate only the listed qualities."),
    ],
    ids=["zero", "six", "string-5", "True", "float", "missing-criterion", "unknown-criterion"],
)
def test_a_rating_outside_the_whole_numbers_1_to_5_or_for_an_unlisted_quality_is_refused_and_nothing_is_stored(
    change, message
):
    contract = ended_contract()
    scores = {**CLIENT_SCORES, **change}
    scores = {code: value for code, value in scores.items() if value is not None}

    assert refusal_of(lambda: client_feedback(contract, scores=scores)) == message
    assert not Feedback.objects.exists()
    assert not Notification.objects.filter(message__contains="left feedback").exists()


@pytest.mark.parametrize("recommend", [-1, 11, True, "7", None])
def test_likelihood_to_recommend_outside_whole_numbers_0_to_10_is_refused_and_nothing_is_stored(recommend):
    contract = ended_contract()

    assert (
        refusal_of(lambda: client_feedback(contract, private_recommend=recommend))
        == "Say how likely you are to recommend them, from 0 to 10."
    )
    assert not Feedback.objects.exists()


@pytest.mark.parametrize("recommend", [0, 10])
def test_likelihood_to_recommend_0_and_10_are_accepted(recommend):
    contract = ended_contract()

    feedback = client_feedback(contract, private_recommend=recommend)

    assert Feedback.objects.get().private_recommend == recommend == feedback.private_recommend


def test_an_unknown_private_reason_is_refused_and_nothing_is_stored():
    contract = ended_contract()

    assert refusal_of(lambda: client_feedback(contract, private_reason="bored")) == (
        "Choose your reason for ending (private)."
    )
    assert not Feedback.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("score_skills", "0", "Select a valid choice. 0 is not one of the available choices."),
        ("score_skills", "6", "Select a valid choice. 6 is not one of the available choices."),
        ("score_skills", "", "Rate “Skills” from 1 to 5."),
        ("private_recommend", "11", "Select a valid choice. 11 is not one of the available choices."),
        ("private_recommend", "-1", "Select a valid choice. -1 is not one of the available choices."),
    ],
)
def test_the_feedback_form_refuses_out_of_range_input_with_a_message_and_stores_nothing(client, field, value, message):
    contract = ended_contract()
    data = {f"score_{code}": str(score) for code, score in CLIENT_SCORES.items()}
    data |= {"public_comment": CLIENT_COMMENT, "private_reason": "completed", "private_recommend": "8", field: value}
    client.force_login(contract.client)

    response = client.post(reverse("feedback_form", args=[contract.pk]), data)

    assert response.status_code == 400
    assert message in unescaped(response)
    assert not Feedback.objects.exists()


def test_the_feedback_form_stores_the_feedback_of_a_valid_post(client):
    contract = ended_contract()
    data = {f"score_{code}": str(score) for code, score in CLIENT_SCORES.items()}
    data |= {"public_comment": f"  {CLIENT_COMMENT}  ", "private_reason": "completed", "private_recommend": "8"}
    client.force_login(contract.client)

    response = client.post(reverse("feedback_form", args=[contract.pk]), data, follow=True)

    assert response.redirect_chain == [(reverse("contract_detail", args=[contract.pk]) + "#feedback", 302)]
    assert "Your feedback stays hidden until the other party leaves theirs or the window closes." in unescaped(response)
    feedback = Feedback.objects.get()
    assert (feedback.author, feedback.recipient, feedback.author_is_client) == (
        contract.client,
        contract.freelancer,
        True,
    )
    assert feedback.scores == CLIENT_SCORES
    assert (feedback.public_comment, feedback.private_reason, feedback.private_recommend) == (
        CLIENT_COMMENT,
        "completed",
        8,
    )


# Who and when.


def test_someone_who_is_not_a_party_cannot_leave_feedback():
    contract = ended_contract()
    outsider = UserFactory(username="outsider")

    message = refusal_of(
        lambda: services.feedback_submit(
            contract=contract, by=outsider, scores=CLIENT_SCORES, private_reason="completed", private_recommend=5
        )
    )

    assert message == "Only the client and the freelancer of this contract can leave feedback on it."
    assert not Feedback.objects.exists()


def test_someone_who_is_not_a_party_gets_a_404_for_the_feedback_form(client):
    contract = ended_contract()
    client.force_login(UserFactory(username="outsider"))

    assert client.get(reverse("feedback_form", args=[contract.pk])).status_code == 404
    assert not Feedback.objects.exists()


def test_a_party_leaves_feedback_once_and_a_second_attempt_is_refused_leaving_the_first_unchanged():
    contract = ended_contract()
    first = client_feedback(contract)

    message = refusal_of(lambda: client_feedback(contract, scores=dict.fromkeys(CLIENT_SCORES, 1), public_comment="x"))

    assert message == "You have already left feedback on this contract; feedback cannot be changed."
    assert list(Feedback.objects.values_list("pk", "public_comment", "scores")) == [
        (first.pk, CLIENT_COMMENT, CLIENT_SCORES)
    ]


def test_a_second_feedback_through_the_form_is_refused_with_a_message(client):
    contract = ended_contract()
    client_feedback(contract)
    client.force_login(contract.client)

    response = client.get(reverse("feedback_form", args=[contract.pk]), follow=True)

    assert response.redirect_chain[-1][0].endswith("#feedback")
    assert "You have already left feedback on this contract; feedback cannot be changed." in unescaped(response)
    assert Feedback.objects.count() == 1


def test_feedback_on_a_contract_that_has_not_ended_is_refused():
    contract = FixedContractFactory()

    assert refusal_of(lambda: client_feedback(contract)) == "Feedback opens when the contract ends."
    assert not Feedback.objects.exists()


def _ended_at_t0():
    with stopped_at(T0):
        return ended_contract()


def test_feedback_is_accepted_at_day_13_23_59_after_the_end():
    contract = _ended_at_t0()

    with time_machine.travel(T0 + 14 * DAY - MINUTE, tick=False):
        feedback = client_feedback(contract)

    assert feedback.created_at == T0 + 14 * DAY - MINUTE
    assert Feedback.objects.count() == 1


def test_feedback_is_refused_from_day_14_when_the_window_has_closed():
    contract = _ended_at_t0()

    with time_machine.travel(T0 + 14 * DAY, tick=False):
        message = refusal_of(lambda: client_feedback(contract))

    assert message == WINDOW_CLOSED
    assert not Feedback.objects.exists()


def test_after_the_window_the_form_says_it_has_closed_and_a_post_stores_nothing(client):
    contract = _ended_at_t0()
    client.force_login(contract.freelancer)
    data = {f"score_{code}": "5" for code in FREELANCER_SCORES}
    data |= {"private_reason": "completed", "private_recommend": "9"}

    with time_machine.travel(T0 + 15 * DAY, tick=False):
        shown = client.get(reverse("feedback_form", args=[contract.pk]), follow=True)
        posted = client.post(reverse("feedback_form", args=[contract.pk]), data, follow=True)
        page = client.get(reverse("contract_detail", args=[contract.pk]))

    assert WINDOW_CLOSED in unescaped(shown)
    assert WINDOW_CLOSED in unescaped(posted)
    assert WINDOW_CLOSED in unescaped(page)
    assert "Leave feedback" not in unescaped(page)
    assert not Feedback.objects.exists()


# What each side rates, and the overall.


def test_the_client_rates_the_six_client_criteria_and_the_freelancer_the_five_freelancer_criteria():
    contract = ended_contract()

    client_says = client_feedback(contract)
    freelancer_says = freelancer_feedback(contract)

    assert set(client_says.scores) == {"skills", "quality", "availability", "deadlines", "communication", "cooperation"}
    assert set(freelancer_says.scores) == {
        "clarity",
        "communication",
        "payment_promptness",
        "cooperation",
        "availability",
    }
    assert [label for label, _ in freelancer_says.labelled_scores()] == [
        "Clarity of requirements",
        "Communication",
        "Payment promptness",
        "Cooperation",
        "Availability",
    ]


def test_a_client_cannot_rate_with_the_freelancer_criteria_nor_a_freelancer_with_the_client_criteria():
    contract = ended_contract()

    assert refusal_of(lambda: client_feedback(contract, scores=FREELANCER_SCORES)) == "Rate “Skills” from 1 to 5."
    assert refusal_of(lambda: freelancer_feedback(contract, scores=CLIENT_SCORES)) == (
        "Rate “Clarity of requirements” from 1 to 5."
    )
    assert not Feedback.objects.exists()


def test_the_feedback_form_asks_each_party_for_their_own_criteria(client):
    contract = ended_contract()

    client.force_login(contract.client)
    as_client = unescaped(client.get(reverse("feedback_form", args=[contract.pk])))
    client.force_login(contract.freelancer)
    as_freelancer = unescaped(client.get(reverse("feedback_form", args=[contract.pk])))

    for name in ("score_skills", "score_quality", "score_deadlines"):
        assert f'name="{name}"' in as_client
        assert f'name="{name}"' not in as_freelancer
    for name in ("score_clarity", "score_payment_promptness"):
        assert f'name="{name}"' in as_freelancer
        assert f'name="{name}"' not in as_client


@pytest.mark.parametrize(
    ("scores", "overall_hundredths", "overall"),
    [
        (
            {"skills": 5, "quality": 5, "availability": 5, "deadlines": 5, "communication": 5, "cooperation": 4},
            483,
            "4.83",
        ),
        (
            {"skills": 5, "quality": 5, "availability": 5, "deadlines": 5, "communication": 4, "cooperation": 4},
            467,
            "4.67",
        ),
        (
            {"skills": 1, "quality": 1, "availability": 1, "deadlines": 1, "communication": 1, "cooperation": 2},
            117,
            "1.17",
        ),
        (
            {"skills": 2, "quality": 1, "availability": 1, "deadlines": 1, "communication": 1, "cooperation": 2},
            133,
            "1.33",
        ),
        (dict.fromkeys(CLIENT_SCORES, 5), 500, "5.00"),
        (dict.fromkeys(CLIENT_SCORES, 1), 100, "1.00"),
    ],
)
def test_the_overall_is_the_average_rating_times_100_rounded_half_up(scores, overall_hundredths, overall):
    """29/6 = 4.833 → 483, 28/6 = 4.667 → 467 (up), 7/6 = 1.167 → 117, 8/6 = 1.333 → 133."""
    contract = ended_contract()

    feedback = client_feedback(contract, scores=scores)

    assert feedback.overall_hundredths == overall_hundredths
    assert Feedback.objects.get().overall == overall


def test_the_freelancer_overall_is_the_average_of_five_ratings_times_100():
    contract = ended_contract()

    assert freelancer_feedback(contract).overall_hundredths == 420  # 21 / 5 = 4.2


# Responses.


def test_the_recipient_cannot_respond_before_the_feedback_is_revealed():
    contract = ended_contract()
    feedback = client_feedback(contract)

    message = refusal_of(lambda: services.feedback_respond(feedback=feedback, by=contract.freelancer, text="Thanks"))

    assert message == "You can respond once the feedback is visible to you."
    assert not FeedbackResponse.objects.exists()


def test_the_recipient_may_post_exactly_one_public_response_after_reveal():
    contract = ended_contract()
    feedback = client_feedback(contract)
    freelancer_feedback(contract)

    response = services.feedback_respond(feedback=feedback, by=contract.freelancer, text="  Thank you, Clara!  ")
    message = refusal_of(lambda: services.feedback_respond(feedback=feedback, by=contract.freelancer, text="Again"))

    assert response.text == "Thank you, Clara!"
    assert message == "You have already responded to this feedback."
    assert list(FeedbackResponse.objects.values_list("feedback", "text")) == [(feedback.pk, "Thank you, Clara!")]


def test_the_author_cannot_respond_to_their_own_feedback():
    contract = ended_contract()
    feedback = client_feedback(contract)
    freelancer_feedback(contract)

    message = refusal_of(lambda: services.feedback_respond(feedback=feedback, by=contract.client, text="Me again"))

    assert message == "Only the person the feedback is about can respond to it."
    assert not FeedbackResponse.objects.exists()


def test_an_empty_response_is_refused():
    contract = ended_contract()
    feedback = client_feedback(contract)
    freelancer_feedback(contract)

    assert refusal_of(lambda: services.feedback_respond(feedback=feedback, by=contract.freelancer, text="   ")) == (
        "Write your response."
    )
    assert not FeedbackResponse.objects.exists()


def test_responding_through_the_page_posts_once_and_a_second_post_says_so(client):
    contract = ended_contract()
    feedback = client_feedback(contract)
    freelancer_feedback(contract)
    client.force_login(contract.freelancer)
    url = reverse("feedback_respond", args=[feedback.pk])

    first = client.post(url, {"text": "Thank you!"}, follow=True)
    second = client.post(url, {"text": "Thanks again!"}, follow=True)

    assert "Your response is posted." in unescaped(first)
    assert "Your response: “Thank you!”" in unescaped(first)
    assert "You have already responded to this feedback." in unescaped(second)
    assert list(FeedbackResponse.objects.values_list("text", flat=True)) == ["Thank you!"]


def test_the_author_posting_a_response_through_the_page_is_refused_with_a_message(client):
    contract = ended_contract()
    feedback = client_feedback(contract)
    freelancer_feedback(contract)
    client.force_login(contract.client)

    response = client.post(reverse("feedback_respond", args=[feedback.pk]), {"text": "Me again"}, follow=True)

    assert "Only the person the feedback is about can respond to it." in unescaped(response)
    assert not FeedbackResponse.objects.exists()


def test_someone_outside_the_contract_gets_a_404_when_responding(client):
    contract = ended_contract()
    feedback = client_feedback(contract)
    freelancer_feedback(contract)
    client.force_login(UserFactory(username="outsider"))

    assert client.post(reverse("feedback_respond", args=[feedback.pk]), {"text": "Hi"}).status_code == 404
    assert not FeedbackResponse.objects.exists()


# The day-7 reminder.


def test_the_day_7_reminder_is_skipped_for_a_party_who_left_feedback_and_sent_to_the_other():
    with stopped_at(T0):
        contract = ended_contract()
    with stopped_at(T0 + 2 * DAY):
        client_feedback(contract)
    mail.outbox.clear()

    assert sweep(T0 + 7 * DAY) == 2

    reminders = {job.recipient_id: job for job in ScheduledJob.objects.filter(kind=JobKind.FEEDBACK_REMINDER)}
    assert (reminders[contract.client_id].state, reminders[contract.client_id].outcome) == (
        JobState.SKIPPED,
        "Feedback already left: no reminder needed.",
    )
    assert reminders[contract.freelancer_id].state == JobState.DONE
    subject = f"Reminder: feedback on “{contract.title}” closes May 21"
    assert [(message.to, message.subject) for message in mail.outbox] == [([contract.freelancer.email], subject)]
    reminder = "A reminder: you can leave feedback"
    assert Notification.objects.filter(user=contract.freelancer, message__startswith=reminder).count() == 1
    assert not Notification.objects.filter(user=contract.client, message__startswith=reminder).exists()

"""Double-blind feedback through every surface (DESIGN.md, "Feedback"): until both
have submitted or the window closes, the other party learns only that feedback
exists, on the contract page, the feedback form, notifications and e-mails. The
private part (reason, likelihood to recommend) is never shown to the other party."""

import html
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from contracts.models import Feedback, JobKind, JobState, Notification, ScheduledJob
from tests.fixtures.clock import stopped_at, sweep
from tests.fixtures.feedback import (
    CLIENT_COMMENT,
    FREELANCER_COMMENT,
    client_feedback,
    ended_contract,
    freelancer_feedback,
)
from tests.fixtures.pages import unescaped
from tests.fixtures.people import person

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 5, 7, 10, 0, tzinfo=UTC)
DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)

# What the client's feedback (tests/fixtures/feedback.py) looks like on a page:
# overall 29/6 = 4.83, the labelled ratings, the private reason and recommendation.
CLIENT_OVERALL = "4.83"
CLIENT_RATINGS = "Skills 5 · Quality of work 5 · Availability 5 · Adherence to deadlines 5"
CLIENT_PRIVATE_REASON = "The other party was not responsive"
CLIENT_RECOMMEND = "likelihood to recommend 3/10"
REVEALED_NOTE = "is now visible to both of you"


def contract_page(client, contract, user) -> str:
    client.force_login(user)
    response = client.get(reverse("contract_detail", args=[contract.pk]))
    assert response.status_code == 200
    return unescaped(response)


def mail_to(user) -> list[str]:
    """Every e-mail body sent to ``user``, text and HTML."""
    bodies = []
    for message in mail.outbox:
        if message.to == [user.email]:
            bodies.append(message.subject)
            bodies.append(message.body)
            bodies.extend(html.unescape(content) for content, _type in message.alternatives)
    return bodies


def notes_of(user) -> list[str]:
    return list(Notification.objects.filter(user=user).values_list("message", flat=True))


def assert_nothing_of_the_clients_feedback_in(text: str):
    for secret in (CLIENT_COMMENT, CLIENT_OVERALL, CLIENT_RATINGS, CLIENT_PRIVATE_REASON, CLIENT_RECOMMEND, "3/10"):
        assert secret not in text


@pytest.fixture
def ended():
    """A contract paid $100.00 and ended by the client at T0, with its e-mails sent;
    the clock then stays at T0 + 1 day unless a test moves it."""
    with stopped_at(T0):
        contract = ended_contract(
            client=person("clara", first_name="Clara", last_name="Client"),
            freelancer=person("felix", first_name="Felix", last_name="Freelancer"),
            title="Parser rewrite",
        )
    with time_machine.travel(T0 + DAY, tick=False):
        yield contract


def test_after_the_client_submits_the_freelancers_page_notifications_and_emails_show_none_of_it(client, ended):
    with stopped_at(T0 + DAY):
        client_feedback(ended)

    page = contract_page(client, ended, ended.freelancer)
    assert_nothing_of_the_clients_feedback_in(page)
    assert "Clara Client has left feedback. You will see it once you leave yours" in page
    assert 'id="their-feedback"' not in page

    client.force_login(ended.freelancer)
    notifications_page = unescaped(client.get(reverse("notifications")))
    assert "Clara Client left feedback on “Parser rewrite”" in notifications_page
    assert_nothing_of_the_clients_feedback_in(notifications_page)

    notes = notes_of(ended.freelancer)
    assert any(
        "Clara Client left feedback on “Parser rewrite”. Leave yours by 2025-05-21 10:00 UTC" in n for n in notes
    )
    for note in notes:
        assert_nothing_of_the_clients_feedback_in(note)

    bodies = mail_to(ended.freelancer)
    assert any("How did “Parser rewrite” go?" in body for body in bodies)
    for body in bodies:
        assert_nothing_of_the_clients_feedback_in(body)
    # Nobody has been told that anything was revealed.
    assert not Notification.objects.filter(message__contains=REVEALED_NOTE).exists()
    assert not any("is visible" in message.subject for message in mail.outbox)


def test_the_client_sees_their_own_feedback_marked_hidden_with_their_private_part(client, ended):
    client_feedback(ended)

    page = contract_page(client, ended, ended.client)

    assert "Hidden until Felix Freelancer leaves theirs or May 21" in page
    assert CLIENT_COMMENT in page
    assert f"<strong>{CLIENT_OVERALL}</strong> / 5" in page
    assert "Private (only you see this): The other party was not responsive; likelihood to recommend 3/10." in page


def test_a_direct_get_of_the_feedback_form_by_the_freelancer_shows_nothing_of_the_clients(client, ended):
    client_feedback(ended)
    client.force_login(ended.freelancer)

    response = client.get(reverse("feedback_form", args=[ended.pk]))

    form = unescaped(response)
    assert response.status_code == 200
    assert "Feedback for Clara Client" in form
    for secret in (CLIENT_COMMENT, CLIENT_OVERALL, CLIENT_RATINGS, CLIENT_RECOMMEND, "Adherence to deadlines"):
        assert secret not in form
    assert "checked" not in form  # nothing pre-filled from the client's answers


def test_the_second_submission_reveals_both_at_the_same_instant_and_tells_both(client, ended):
    with stopped_at(T0 + DAY):
        first = client_feedback(ended)
    mail.outbox.clear()
    with stopped_at(T0 + 3 * DAY):
        second = freelancer_feedback(ended)

    first.refresh_from_db()
    assert first.revealed_at == second.revealed_at == T0 + 3 * DAY
    assert Feedback.objects.filter(revealed_at=T0 + 3 * DAY).count() == 2
    for user in (ended.client, ended.freelancer):
        assert notes_of(user).count("Feedback on “Parser rewrite” is now visible to both of you.") == 1
        assert [message.subject for message in mail.outbox if message.to == [user.email]] == [
            "Feedback on “Parser rewrite” is visible"
        ]
    # The reveal e-mails say that feedback is visible, not what it says.
    for user in (ended.client, ended.freelancer):
        for body in mail_to(user):
            assert CLIENT_COMMENT not in body
            assert FREELANCER_COMMENT not in body

    freelancer_page = contract_page(client, ended, ended.freelancer)
    assert CLIENT_COMMENT in freelancer_page and FREELANCER_COMMENT in freelancer_page
    assert f"<strong>{CLIENT_OVERALL}</strong> / 5" in freelancer_page
    client_page = contract_page(client, ended, ended.client)
    assert CLIENT_COMMENT in client_page and FREELANCER_COMMENT in client_page
    assert "Hidden until" not in client_page


def test_private_reason_and_recommendation_are_never_shown_to_the_other_party_even_after_reveal(client, ended):
    client_feedback(ended)
    freelancer_feedback(ended)

    freelancer_page = contract_page(client, ended, ended.freelancer)
    assert CLIENT_COMMENT in freelancer_page
    assert CLIENT_PRIVATE_REASON not in freelancer_page
    assert CLIENT_RECOMMEND not in freelancer_page
    assert "3/10" not in freelancer_page
    # The freelancer's own private part is shown to the freelancer only.
    assert "likelihood to recommend 10/10" in freelancer_page

    client_page = contract_page(client, ended, ended.client)
    assert FREELANCER_COMMENT in client_page
    assert "10/10" not in client_page

    client.logout()
    for username, other_private in (("felix", CLIENT_PRIVATE_REASON), ("clara", "Job completed successfully")):
        profile = unescaped(client.get(reverse("profile", args=[username])))
        assert other_private not in profile
        assert "recommend" not in profile
        assert "/10" not in profile
    assert CLIENT_COMMENT in unescaped(client.get(reverse("profile", args=["felix"])))
    assert FREELANCER_COMMENT in unescaped(client.get(reverse("profile", args=["clara"])))


def test_hidden_feedback_is_not_on_the_recipients_public_profile(client, ended):
    client_feedback(ended)

    profile = unescaped(client.get(reverse("profile", args=["felix"])))

    assert CLIENT_COMMENT not in profile
    assert "No public feedback yet." in profile
    assert "No feedback yet" in profile


def test_feedback_left_by_one_party_is_revealed_by_the_sweep_at_day_14_not_before(client, ended):
    with stopped_at(T0 + 2 * DAY):
        client_feedback(ended)
    mail.outbox.clear()

    sweep(T0 + 14 * DAY - MINUTE)
    assert Feedback.objects.get().revealed_at is None
    assert CLIENT_COMMENT not in contract_page(client, ended, ended.freelancer)

    sweep(T0 + 14 * DAY)

    assert Feedback.objects.get().revealed_at == T0 + 14 * DAY
    job = ScheduledJob.objects.get(contract=ended, kind=JobKind.FEEDBACK_WINDOW_CLOSE)
    assert (job.state, job.outcome) == (JobState.DONE, "feedback window closed; 1 feedback revealed")
    for user in (ended.client, ended.freelancer):
        assert notes_of(user).count("Feedback on “Parser rewrite” is now visible to both of you.") == 1
        assert "Feedback on “Parser rewrite” is visible" in [m.subject for m in mail.outbox if m.to == [user.email]]
    with time_machine.travel(T0 + 15 * DAY, tick=False):
        freelancer_page = contract_page(client, ended, ended.freelancer)
    assert CLIENT_COMMENT in freelancer_page
    assert CLIENT_RECOMMEND not in freelancer_page
    assert "The feedback window closed on 2025-05-21 10:00 UTC" in freelancer_page
    assert CLIENT_COMMENT in unescaped(client.get(reverse("profile", args=["felix"])))


def test_the_window_close_with_no_feedback_reveals_nothing_and_tells_nobody(ended):
    sweep(T0 + 14 * DAY)

    job = ScheduledJob.objects.get(contract=ended, kind=JobKind.FEEDBACK_WINDOW_CLOSE)
    assert (job.state, job.outcome) == (JobState.DONE, "feedback window closed; 0 feedback revealed")
    assert not Notification.objects.filter(message__contains=REVEALED_NOTE).exists()

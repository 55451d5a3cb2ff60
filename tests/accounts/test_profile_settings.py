"""Profile settings (issue 14, "Accounts"): a display name and a headline, a time zone
(tests/contracts/test_time_zones.py) and e-mail preferences for the e-mails that are
news, not deadlines. The display name, when set, is how the portal names the person
everywhere it writes a sentence about them (``display_name``, one place); the public
profile shows it with the headline. Turning an e-mail topic off stops those e-mails
only: deadlines, money and account e-mails are always sent."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Profile
from accounts.profiles import display_name, profile_email_preferences_set, profile_public_set
from contracts import services
from contracts.models import JobKind, Notification, OutgoingEmail, ScheduledJob
from contracts.notifications import display_name as notification_display_name
from contracts.services.jobs import job_execute
from tests.factories import FixedContractFactory
from tests.fixtures.feedback import client_feedback, freelancer_feedback, pay
from tests.fixtures.pages import browser_for, html, messages_of, text
from tests.fixtures.people import verified

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def feedback_off(user):
    profile_email_preferences_set(user=user, topics={"feedback": False})


def subjects_to(user) -> list[str]:
    return list(OutgoingEmail.objects.filter(to=user.email).order_by("id").values_list("subject", flat=True))


def ended_fixed(clara, felix):
    with time_machine.travel(T0 - timedelta(days=20), tick=False):
        contract = FixedContractFactory(client=clara, freelancer=felix, title="Logo design")
        pay(contract, 100_00)
    with time_machine.travel(T0, tick=False):
        services.contract_end(contract=contract, by=clara, reason="completed")
    contract.refresh_from_db()
    return contract


def run_jobs(kind: str, at) -> None:
    with time_machine.travel(at, tick=False):
        for job in ScheduledJob.objects.filter(kind=kind):
            job_execute(job_id=job.pk)


# The display name and the headline.


def test_the_display_name_is_how_the_portal_names_a_person_and_blank_falls_back(clara):
    assert display_name(clara) == "Clara Client"
    profile_public_set(user=clara, display_name="  Clara   C. ", headline="")
    assert display_name(clara) == "Clara C."
    assert notification_display_name is display_name  # one place
    profile_public_set(user=clara, display_name="", headline="")
    assert display_name(clara) == "Clara Client"


def test_settings_save_the_display_name_and_headline_shown_on_the_public_profile(client, felix):
    browser = browser_for(felix)

    response = browser.post(
        reverse("profile_settings"),
        {"display_name": "Felix F.", "headline": "Django and PostgreSQL, ten years"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("account_settings") + "#profile"
    assert "Profile saved: this is how others see you now." in messages_of(response)
    profile = Profile.objects.get(user=felix)
    assert (profile.display_name, profile.headline) == ("Felix F.", "Django and PostgreSQL, ten years")
    public = client.get(reverse("profile", args=["felix"]))
    assert "<h1>Felix F.</h1>" in html(public)
    assert '<p class="headline" id="headline">Django and PostgreSQL, ten years</p>' in html(public)
    assert "Felix F." in text(browser.get(reverse("my_jobs")))  # the header names them so too


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"display_name": "x" * 61, "headline": ""}, "display_name", "Keep your display name to 60 characters."),
        ({"display_name": "", "headline": "y" * 121}, "headline", "Keep your headline to 120 characters."),
        ({"display_name": "Felix\x07", "headline": ""}, "display_name", "can hold only printable characters"),
        ({"display_name": "", "headline": "\x1b[31mRed"}, "headline", "can hold only printable characters"),
    ],
)
def test_a_bad_display_name_or_headline_is_refused_at_its_field_storing_nothing(felix, data, field, error):
    response = browser_for(felix).post(reverse("profile_settings"), data)

    assert response.status_code == 400
    assert any(error in message for message in response.context["profile_form"].errors[field])
    assert not Profile.objects.filter(user=felix).exists()


def test_the_display_name_is_used_in_notifications_and_emails(hourly, clara, felix):
    profile_public_set(user=clara, display_name="Clara C.", headline="")
    profile_public_set(user=felix, display_name="Felix F.", headline="")

    with time_machine.travel(T0, tick=False):
        services.contract_pause(contract=hourly, by=clara)
        services.contract_resume(contract=hourly, by=clara)
        services.contract_propose_end(contract=hourly, by=clara)

    assert Notification.objects.filter(user=felix, message__startswith="Clara C. paused the contract").exists()
    proposal = OutgoingEmail.objects.get(to=felix.email)
    assert proposal.subject.startswith("Clara C. proposes ending")
    assert proposal.body_text.startswith("Hello Felix F.,")


# E-mail preferences.


def test_the_settings_page_offers_the_feedback_emails_and_saves_the_choice(felix):
    browser = browser_for(felix)
    page = browser.get(reverse("account_settings"))

    response = browser.post(reverse("email_settings"), {"feedback": "off"}, follow=True)

    assert "Feedback: the request to leave feedback, its reminder, and when feedback is revealed" in text(page)
    assert 'name="feedback" value="on"' in html(page)
    assert "E-mail preferences saved." in messages_of(response)
    assert Profile.objects.get(user=felix).email_feedback is False
    assert 'value="off" id="id_feedback_1" required checked' in html(response)


def test_an_email_preference_must_be_chosen(felix):
    response = browser_for(felix).post(reverse("email_settings"), {"feedback": "maybe"})

    assert response.status_code == 400
    assert "Choose “E-mail me” or “Only notify me in the portal”." in text(response)
    assert not Profile.objects.filter(user=felix).exists()


def test_with_feedback_emails_off_no_feedback_request_or_reminder_is_emailed_but_the_notifications_stay(
    clara, felix
):
    feedback_off(felix)
    contract = ended_fixed(clara, felix)
    run_jobs(JobKind.FEEDBACK_REQUEST, T0 + timedelta(minutes=1))
    run_jobs(JobKind.FEEDBACK_REMINDER, T0 + timedelta(days=7, minutes=1))

    assert not any("feedback" in subject.lower() for subject in subjects_to(felix))
    assert sum("feedback" in subject.lower() for subject in subjects_to(clara)) == 2  # request and reminder
    felix_notes = Notification.objects.filter(user=felix, contract=contract).values_list("message", flat=True)
    assert sum("feedback" in note.lower() for note in felix_notes) >= 2


def test_with_feedback_emails_off_the_revealed_feedback_is_not_emailed_but_is_to_the_other(clara, felix):
    feedback_off(clara)
    contract = ended_fixed(clara, felix)
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        client_feedback(contract)
        freelancer_feedback(contract)

    revealed = f"Feedback on “{contract.title}” is visible"
    assert revealed not in subjects_to(clara)
    assert revealed in subjects_to(felix)


def test_with_feedback_emails_off_deadlines_and_the_closure_checklist_are_still_emailed(hourly, clara, felix):
    feedback_off(felix)
    with time_machine.travel(T0, tick=False):
        services.contract_propose_end(contract=hourly, by=clara)
    run_jobs(JobKind.CLOSURE_CHECKLIST, T0)  # nothing yet: the contract is open
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        services.contract_end(contract=hourly, by=clara, reason="completed")
    run_jobs(JobKind.CLOSURE_CHECKLIST, T0 + timedelta(hours=1, minutes=1))

    subjects = subjects_to(felix)
    assert any("proposes ending" in subject for subject in subjects)
    assert any("checklist" in subject.lower() for subject in subjects), subjects
    assert not any("feedback" in subject.lower() for subject in subjects)


def test_the_settings_page_shows_whether_the_address_is_verified(felix):
    unverified = text(browser_for(felix).get(reverse("account_settings")))

    verified(felix)
    checked = text(browser_for(felix).get(reverse("account_settings")))

    assert "Not verified" in unverified and "you can send offers once it is" in unverified
    assert "Verified" in checked and "Not verified" not in checked

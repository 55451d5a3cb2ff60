"""Every deadline someone must act on is e-mailed to that person, once, in the
transaction of the event: a refund request (7 days to answer), submitted work (14
days to review), notice given (the contract ends then), a proposal to end by mutual
agreement (7 days to accept), and a reviewer's warning or the closure of an account.

Each e-mail names the deadline with its zone, links absolutely (``PORTAL_BASE_URL``)
to the page where the person acts, never goes to the person who acted, and is sent
once however often the action is retried."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.urls import resolve, reverse

from accounts.models import Profile
from contracts import services
from contracts.models import EndReason, EscrowRefundRequest, FlagRule, OutgoingEmail, rule_public_explanation
from contracts.services.account_mail import email_warning
from contracts_portal.errors import DomainError
from tests.fixtures.contracts import funded
from tests.fixtures.flags import flag_about
from tests.fixtures.people import staff_reviewer

T0 = datetime(2026, 11, 16, 9, 30, tzinfo=UTC)  # a Monday
BASE = "http://portal.example:8123"
PRIVATE_NOTE = "Private: Felix kept missing deadlines"
INTERNAL_NOTE = "Internal: second report this month, checked his other chats"


@pytest.fixture(autouse=True)
def portal_base_url(settings):
    settings.PORTAL_BASE_URL = BASE


def emails(prefix: str) -> list[OutgoingEmail]:
    return list(OutgoingEmail.objects.filter(key__startswith=prefix).order_by("id"))


def delivered(prefix: str):
    """The one message with this key prefix that reached the mail backend."""
    (recorded,) = emails(prefix)
    (message,) = [m for m in mail.outbox if m.subject == recorded.subject and m.to == [recorded.to]]
    return message


def links_in(text: str) -> list[str]:
    return [word.strip("\"'<>.,()") for word in text.replace('href="', " ").split() if word.startswith("http")]


def assert_links_to(text: str, view_name: str, *, contract_id: int, fragment: str = "") -> None:
    """Every link is absolute on PORTAL_BASE_URL and at least one opens the view."""
    links = links_in(text)
    assert links, text
    for link in links:
        assert link.startswith(BASE + "/"), link
    targets = [urlsplit(link) for link in links]
    assert any(
        resolve(target.path).url_name == view_name
        and resolve(target.path).kwargs.get("contract_id") == contract_id
        and target.fragment == fragment
        for target in targets
    ), links


def html_of(message) -> str:
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    return html


# A refund request: the freelancer has 7 days to approve or dispute.


@pytest.mark.django_db
def test_a_refund_request_emails_the_freelancer_the_7_day_answer_deadline_and_a_link_to_answer(
    fixed, clara, felix, django_capture_on_commit_callbacks
):
    milestone = funded(fixed, title="Backend")
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        services.contract_end(
            contract=fixed,
            by=clara,
            reason=EndReason.UNSUCCESSFUL,
            note=PRIVATE_NOTE,
            milestone_decisions={milestone.pk: services.MilestoneDecision(services.MilestoneChoice.PAY_NOTHING)},
        )

    request = EscrowRefundRequest.objects.get(milestone=milestone)
    (email,) = emails("email:refund-request:")
    assert email.key == f"email:refund-request:{request.pk}:opened"
    assert email.to == felix.email
    assert email.subject == "Refund request on “Backend” of “API work”: answer by Nov 23"
    message = delivered("email:refund-request:")
    assert "asks for $100.00 of the escrow on the milestone “Backend” back" in message.body
    assert "Approve the refund or dispute it by Nov 23, 2026 09:30 UTC (7 days)" in message.body
    assert "approved automatically" in message.body
    assert PRIVATE_NOTE not in message.body and "unsuccessful" not in message.body.lower()
    assert_links_to(message.body, "contract_detail", contract_id=fixed.pk, fragment="refund-requests")
    assert "Nov 23, 2026 09:30 UTC" in html_of(message)
    assert_links_to(html_of(message), "contract_detail", contract_id=fixed.pk, fragment="refund-requests")


@pytest.mark.django_db
def test_a_refund_request_email_is_not_sent_to_the_client_who_asked_and_only_once(fixed, clara, felix):
    milestone = funded(fixed, title="Backend")
    decisions = {milestone.pk: services.MilestoneDecision(services.MilestoneChoice.PAY_NOTHING)}
    services.contract_end(contract=fixed, by=clara, reason=EndReason.COMPLETED, milestone_decisions=decisions)

    with pytest.raises(DomainError):
        services.contract_end(contract=fixed, by=clara, reason=EndReason.COMPLETED, milestone_decisions=decisions)
    request = EscrowRefundRequest.objects.get(milestone=milestone)
    with time_machine.travel(request.respond_by + timedelta(minutes=1), tick=False):
        services.refund_request_approve_unanswered(request_id=request.pk)

    assert [email.to for email in emails("email:refund-request:")] == [felix.email]
    assert not OutgoingEmail.objects.filter(to=clara.email, subject__startswith="Refund request").exists()


@pytest.mark.django_db
def test_each_milestone_left_unpaid_is_its_own_refund_request_email(fixed, clara, felix):
    backend = funded(fixed, title="Backend")
    frontend = funded(fixed, title="Frontend")
    nothing = services.MilestoneDecision(services.MilestoneChoice.PAY_NOTHING)

    with time_machine.travel(T0, tick=False):
        services.contract_end(
            contract=fixed,
            by=clara,
            reason=EndReason.COMPLETED,
            milestone_decisions={backend.pk: nothing, frontend.pk: nothing},
        )

    assert sorted((email.to, email.subject) for email in emails("email:refund-request:")) == [
        (felix.email, "Refund request on “Backend” of “API work”: answer by Nov 23"),
        (felix.email, "Refund request on “Frontend” of “API work”: answer by Nov 23"),
    ]


# Submitted work: the client has 14 days to review it.


@pytest.mark.django_db
def test_submitted_work_emails_the_client_the_14_day_review_deadline_and_a_link_to_the_milestone(
    fixed, clara, felix, django_capture_on_commit_callbacks
):
    milestone = funded(fixed, title="Backend")
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        services.milestone_submit(milestone=milestone, by=felix, note="Private: the repository is on my server")

    (email,) = emails("email:work-submitted:")
    assert email.to == clara.email
    assert email.subject == "Review the work on “Backend” of “API work” by Nov 30"
    message = delivered("email:work-submitted:")
    assert "Felix Freelancer submitted work for the milestone “Backend” ($100.00) on “API work”" in message.body
    assert "Review it by Nov 30, 2026 09:30 UTC (14 days)" in message.body
    assert "released automatically" in message.body
    assert "repository" not in message.body
    assert_links_to(message.body, "contract_detail", contract_id=fixed.pk, fragment=f"milestone-{milestone.pk}")
    assert_links_to(html_of(message), "contract_detail", contract_id=fixed.pk, fragment=f"milestone-{milestone.pk}")
    assert not OutgoingEmail.objects.filter(to=felix.email, key__startswith="email:work-submitted:").exists()


@pytest.mark.django_db
def test_submitting_the_same_work_twice_through_the_page_emails_the_client_once(fixed, clara, felix, client):
    milestone = funded(fixed, title="Backend")
    client.force_login(felix)
    path = reverse("milestone_action", args=[milestone.pk, "submit"])

    first = client.post(path, {"note": "Done"})
    second = client.post(path, {"note": "Done"})

    assert first.status_code == second.status_code == 302
    assert [email.to for email in emails("email:work-submitted:")] == [clara.email]


@pytest.mark.django_db
def test_a_submission_that_rolls_back_emails_nobody(fixed, felix):
    milestone = funded(fixed, title="Backend")

    with pytest.raises(RuntimeError), transaction.atomic():
        services.milestone_submit(milestone=milestone, by=felix)
        assert emails("email:work-submitted:")
        raise RuntimeError("the request failed after the submission")

    assert emails("email:work-submitted:") == []


# Notice: the other party learns when the contract ends.


@pytest.mark.django_db
def test_notice_emails_the_other_party_when_the_contract_ends(
    hourly_with_notice, clara, felix, django_capture_on_commit_callbacks
):
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        services.contract_give_notice(
            contract=hourly_with_notice, by=felix, reason=EndReason.NOT_RESPONSIVE, note=PRIVATE_NOTE
        )

    (email,) = emails("email:notice-given:")
    assert email.to == clara.email
    assert email.subject == "Notice given on “Logo design”: it ends on Dec 1"
    message = delivered("email:notice-given:")
    assert "Felix Freelancer gave notice on the contract “Logo design”: it ends on Dec 1, 2026 09:30 UTC" in (
        message.body
    )
    assert "15-day notice period" in message.body
    assert PRIVATE_NOTE not in message.body and "not responsive" not in message.body.lower()
    assert_links_to(message.body, "contract_detail", contract_id=hourly_with_notice.pk)
    assert_links_to(html_of(message), "contract_detail", contract_id=hourly_with_notice.pk)


@pytest.mark.django_db
def test_notice_given_twice_emails_once_and_notice_given_again_after_withdrawing_is_a_new_email(
    hourly_with_notice, clara, felix
):
    with time_machine.travel(T0, tick=False):
        services.contract_give_notice(contract=hourly_with_notice, by=felix, reason=EndReason.OTHER)
        with pytest.raises(DomainError):
            services.contract_give_notice(contract=hourly_with_notice, by=felix, reason=EndReason.OTHER)
    assert [email.to for email in emails("email:notice-given:")] == [clara.email]

    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        services.contract_withdraw_notice(contract=hourly_with_notice, by=felix)
        services.contract_give_notice(contract=hourly_with_notice, by=felix, reason=EndReason.OTHER)

    assert [(email.to, email.subject) for email in emails("email:notice-given:")] == [
        (clara.email, "Notice given on “Logo design”: it ends on Dec 1"),
        (clara.email, "Notice given on “Logo design”: it ends on Dec 2"),
    ]
    assert not OutgoingEmail.objects.filter(to=felix.email).exists()


# A proposal to end by mutual agreement: 7 days to accept.


@pytest.mark.django_db
def test_a_mutual_end_proposal_emails_the_other_party_the_7_days_to_accept(
    fixed, clara, felix, django_capture_on_commit_callbacks
):
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        services.contract_propose_end(contract=fixed, by=clara, note=PRIVATE_NOTE)

    (email,) = emails("email:end-proposed:")
    assert email.to == felix.email
    assert email.subject == "Clara Client proposes ending “API work”: answer by Nov 23"
    message = delivered("email:end-proposed:")
    assert "Accept it, or decline it with a message, by Nov 23, 2026 09:30 UTC (7 days)" in message.body
    assert "the proposal expires" in message.body
    assert PRIVATE_NOTE not in message.body
    assert_links_to(message.body, "contract_detail", contract_id=fixed.pk)
    assert_links_to(html_of(message), "contract_detail", contract_id=fixed.pk)


@pytest.mark.django_db
def test_proposing_again_while_a_proposal_is_open_emails_once(fixed, clara, felix):
    services.contract_propose_end(contract=fixed, by=clara)
    with pytest.raises(DomainError):
        services.contract_propose_end(contract=fixed, by=clara)
    with pytest.raises(DomainError):
        services.contract_propose_end(contract=fixed, by=felix)

    assert [email.to for email in emails("email:end-proposed:")] == [felix.email]


@pytest.mark.django_db
def test_a_proposal_withdrawn_and_made_again_is_a_new_email_and_withdrawing_or_declining_emails_nobody(
    fixed, clara, felix
):
    with time_machine.travel(T0, tick=False):
        services.contract_propose_end(contract=fixed, by=clara)
        services.contract_withdraw_end_proposal(contract=fixed, by=clara)
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        services.contract_propose_end(contract=fixed, by=clara)
        services.contract_decline_end(contract=fixed, by=felix, message="Let us finish the work first.")

    assert [(email.to, email.subject) for email in emails("email:")] == [
        (felix.email, "Clara Client proposes ending “API work”: answer by Nov 23"),
        (felix.email, "Clara Client proposes ending “API work”: answer by Nov 24"),
    ]


# A reviewer's warning and the closure of an account.


def off_platform_flag(user, contract=None):
    return flag_about(
        user,
        rule=FlagRule.OFF_PLATFORM_CONTACT,
        contract=contract,
        explanation="A feedback comment contains PayPal.",
        evidence={"text": "pay me on PayPal"},
    )


@pytest.mark.django_db
def test_a_warning_emails_the_user_the_rule_and_the_message_to_them_never_the_internal_note(
    fixed, felix, django_capture_on_commit_callbacks
):
    rita = staff_reviewer(first_name="Rita", last_name="Reviewer")
    flag = off_platform_flag(felix, fixed)

    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        decision = services.flag_decide(
            flag=flag,
            by=rita,
            decision="warn",
            note=INTERNAL_NOTE,
            message_to_user="Please keep payments on the platform.",
        )

    (email,) = emails("email:warning:")
    assert email.key == f"email:warning:{decision.pk}"
    assert email.to == felix.email
    assert email.subject == "A warning about your account: Payment or contact details for outside the platform"
    message = delivered("email:warning:")
    assert "decided on Nov 16, 2026 09:30 UTC to warn you: Payment or contact details for outside the platform" in (
        message.body
    )
    assert rule_public_explanation(FlagRule.OFF_PLATFORM_CONTACT) in message.body
    assert "Message from the platform: Please keep payments on the platform." in message.body
    assert "Another breach can close your account" in message.body
    for text in (message.body, html_of(message)):
        assert INTERNAL_NOTE not in text
    assert_links_to(message.body, "contract_detail", contract_id=fixed.pk)
    assert not OutgoingEmail.objects.filter(to=rita.email).exists()


@pytest.mark.django_db
def test_a_warning_is_emailed_once_per_decision(felix):
    decision = services.flag_decide(
        flag=off_platform_flag(felix),
        by=staff_reviewer(first_name="Rita", last_name="Reviewer"),
        decision="warn",
        note=INTERNAL_NOTE,
    )

    email_warning(decision=decision, message_to_user="Sent again by a retried task")

    (email,) = emails("email:warning:")
    assert "Sent again" not in email.body_text
    assert "The contract:" not in email.body_text  # a flag without a contract links nowhere
    assert "<a " not in email.body_html


@pytest.mark.django_db
def test_closing_an_account_emails_the_rule_public_explanation_and_message_once_never_the_internal_note(
    fixed, clara, felix, django_capture_on_commit_callbacks
):
    rita = staff_reviewer(first_name="Rita", last_name="Reviewer")
    funded(fixed, title="Backend")

    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        suspension = services.account_suspend(
            user=felix,
            by=rita,
            rule="Payment outside the platform",
            explanation="Asking to be paid outside the platform breaks the terms of service.",
            internal_note=INTERNAL_NOTE,
            message_to_user="Your open contract was ended and its escrow returned.",
        )
    with pytest.raises(DomainError):
        services.account_suspend(user=felix, by=rita, rule="Again", explanation="Again")

    (email,) = emails("email:account-closed:")
    assert email.key == f"email:account-closed:{suspension.pk}"
    assert email.to == felix.email
    assert email.subject == "Your Contracts portal account is closed"
    message = delivered("email:account-closed:")
    assert (
        "Your Contracts portal account was closed for good on Nov 16, 2026 09:30 UTC: Payment outside the platform. "
        "Asking to be paid outside the platform breaks the terms of service."
    ) in message.body
    assert "Message from the platform: Your open contract was ended and its escrow returned." in message.body
    assert "You can no longer sign in." in message.body
    for text in (message.body, html_of(message)):
        assert INTERNAL_NOTE not in text
    assert "Payment outside the platform" in html_of(message)
    assert links_in(message.body) == []  # a closed account has nothing to open
    assert not OutgoingEmail.objects.filter(to=rita.email, key__startswith="email:account-closed:").exists()


# The recipient's time zone.


@pytest.mark.django_db
def test_a_deadline_is_written_in_the_recipients_time_zone_with_the_zone_named(fixed, clara, felix):
    Profile.objects.create(user=felix, time_zone="Pacific/Auckland")

    with time_machine.travel(datetime(2026, 11, 16, 14, 0, tzinfo=UTC), tick=False):
        services.contract_propose_end(contract=fixed, by=clara)

    (email,) = emails("email:end-proposed:")
    assert email.subject == "Clara Client proposes ending “API work”: answer by Nov 24"
    assert "decline it with a message, by Nov 24, 2026 03:00 NZDT (7 days)" in email.body_text
    assert "Nov 24, 2026 03:00 NZDT" in email.body_html

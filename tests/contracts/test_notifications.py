"""In-app notifications: every transition tells the right person, in a plain
sentence, without the private reason for ending; the notifications page shows a
user only their own, and marks them read."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.services.refunds import refund_create
from contracts import services
from contracts.models import EndReason, EscrowRefundRequest, Notification
from tests.factories import HourlyContractFactory, MilestoneFactory, UserFactory
from tests.fixtures.contracts import funded
from tests.fixtures.people import force_end_admin

T0 = datetime(2026, 11, 16, 9, 30, tzinfo=UTC)
PRIVATE_NOTE = "Private: Felix kept missing deadlines"


def messages_for(user) -> list[str]:
    return list(Notification.objects.filter(user=user).order_by("id").values_list("message", flat=True))


def all_messages() -> list[str]:
    return list(Notification.objects.values_list("message", flat=True))


def funded_quietly(contract, title="Backend"):
    """A funded milestone, the notifications of the funding cleared."""
    milestone = funded(contract, title=title)
    Notification.objects.all().delete()
    return milestone


def refund_request_for(contract, title="Backend"):
    """A client ends a fixed-price contract paying nothing for a funded milestone."""
    milestone = funded_quietly(contract, title=title)
    services.contract_end(
        contract=contract,
        by=contract.client,
        reason=EndReason.UNSUCCESSFUL,
        milestone_decisions={milestone.pk: services.MilestoneDecision(services.MilestoneChoice.PAY_NOTHING)},
    )
    Notification.objects.all().delete()
    return EscrowRefundRequest.objects.get(milestone=milestone)


# Contract transitions taken by a party notify the other party, and only them.


@pytest.mark.django_db
def test_client_ending_the_contract_tells_the_freelancer_only(hourly, clara, felix):
    services.contract_end(contract=hourly, by=clara, reason=EndReason.COMPLETED)

    assert messages_for(felix) == ["Clara Client ended the contract “Logo design”."]
    assert messages_for(clara) == []


@pytest.mark.django_db
def test_freelancer_ending_the_contract_tells_the_client_only(hourly, clara, felix):
    services.contract_end(contract=hourly, by=felix, reason=EndReason.NOT_RESPONSIVE)

    assert messages_for(clara) == ["Felix Freelancer ended the contract “Logo design”."]
    assert messages_for(felix) == []


@pytest.mark.django_db
def test_notification_links_to_its_contract_and_is_unread(hourly, clara, felix):
    services.contract_end(contract=hourly, by=clara, reason=EndReason.COMPLETED)

    notification = Notification.objects.get(user=felix)
    assert notification.contract_id == hourly.pk
    assert notification.read_at is None
    assert notification.kind == "contract"


@pytest.mark.django_db
def test_giving_notice_tells_the_other_party_when_the_contract_ends(hourly_with_notice, clara, felix):
    with time_machine.travel(T0, tick=False):
        services.contract_give_notice(contract=hourly_with_notice, by=felix, reason=EndReason.OTHER)

    assert messages_for(clara) == [
        "Felix Freelancer gave notice on the contract “Logo design”; it ends on 2026-12-01 UTC."
    ]
    assert messages_for(felix) == []


@pytest.mark.django_db
def test_withdrawing_notice_tells_the_other_party(hourly_with_notice, clara, felix):
    services.contract_give_notice(contract=hourly_with_notice, by=clara, reason=EndReason.OTHER)
    Notification.objects.all().delete()

    services.contract_withdraw_notice(contract=hourly_with_notice, by=clara)

    assert messages_for(felix) == [
        "Clara Client withdrew notice on the contract “Logo design”; it continues as before."
    ]
    assert messages_for(clara) == []


@pytest.mark.django_db
def test_proposing_a_mutual_end_asks_the_other_party_to_accept_within_7_days(hourly, clara, felix):
    services.contract_propose_end(contract=hourly, by=felix, note=PRIVATE_NOTE)

    assert messages_for(clara) == [
        "Felix Freelancer proposed ending the contract “Logo design” by mutual agreement; accept it within 7 days."
    ]
    assert messages_for(felix) == []


@pytest.mark.django_db
def test_accepting_a_mutual_end_tells_the_party_who_proposed_it(hourly, clara, felix):
    services.contract_propose_end(contract=hourly, by=felix)
    Notification.objects.all().delete()

    services.contract_accept_end(contract=hourly, by=clara, reason=EndReason.COMPLETED)

    assert messages_for(felix) == [
        "Clara Client accepted ending the contract “Logo design” by mutual agreement; it has ended."
    ]
    assert messages_for(clara) == []


@pytest.mark.django_db
def test_pausing_and_resuming_tell_the_freelancer(hourly, clara, felix):
    services.contract_pause(contract=hourly, by=clara)
    services.contract_resume(contract=hourly, by=clara)

    assert messages_for(felix) == [
        "Clara Client paused the contract “Logo design”; no new time can be recorded until it is resumed.",
        "Clara Client resumed the contract “Logo design”.",
    ]
    assert messages_for(clara) == []


# The platform's own transitions notify both parties.


@pytest.mark.django_db
def test_notice_elapsing_tells_both_parties(hourly_with_notice, clara, felix):
    with time_machine.travel(T0, tick=False):
        services.contract_give_notice(contract=hourly_with_notice, by=felix, reason=EndReason.OTHER)
    Notification.objects.all().delete()

    with time_machine.travel(T0 + timedelta(days=16), tick=False):
        services.contract_elapse_notice(contract_id=hourly_with_notice.pk)

    expected = ["The notice period is over: the contract “Logo design” has ended."]
    assert messages_for(clara) == expected
    assert messages_for(felix) == expected


@pytest.mark.django_db
def test_force_end_by_the_platform_tells_both_parties_with_the_stated_reason(hourly, clara, felix):
    admin = force_end_admin(first_name="Ada", last_name="Admin")

    services.contract_force_end(contract=hourly, by=admin, reason="Account suspended for payment outside the platform")

    expected = ["The platform ended the contract “Logo design”: Account suspended for payment outside the platform."]
    assert messages_for(clara) == expected
    assert messages_for(felix) == expected
    assert messages_for(admin) == []


# Milestones and refund requests.


@pytest.mark.django_db
def test_funding_a_milestone_tells_the_freelancer(fixed, clara, felix):
    milestone = MilestoneFactory(contract=fixed, amount_cents=250_00, title="Backend")

    services.milestone_fund(milestone=milestone, by=clara)

    assert messages_for(felix) == ["Clara Client funded the milestone “Backend” on “API work”: $250.00 is in escrow."]
    assert messages_for(clara) == []


@pytest.mark.django_db
def test_submitting_work_tells_the_client(fixed, clara, felix):
    milestone = funded_quietly(fixed)

    services.milestone_submit(milestone=milestone, by=felix, note="Done, see the repository")

    assert messages_for(clara) == [
        "Felix Freelancer submitted work for the milestone “Backend” on “API work”; review it within 14 days "
        "or the payment is released automatically."
    ]
    assert messages_for(felix) == []


@pytest.mark.django_db
def test_releasing_a_milestone_tells_the_freelancer(fixed, clara, felix):
    milestone = funded_quietly(fixed)

    services.milestone_release(milestone=milestone, by=clara)

    assert messages_for(felix) == ["Clara Client released $100.00 for the milestone “Backend” on “API work”."]
    assert messages_for(clara) == []


@pytest.mark.django_db
def test_each_partial_release_tells_the_freelancer_the_amount_paid(fixed, clara, felix):
    milestone = funded_quietly(fixed)

    services.milestone_release(milestone=milestone, by=clara, amount_cents=30_00, idempotency_key="part-1")
    services.milestone_release(milestone=milestone, by=clara)

    assert messages_for(felix) == [
        "Clara Client released $30.00 for the milestone “Backend” on “API work”.",
        "Clara Client released $70.00 for the milestone “Backend” on “API work”.",
    ]
    assert messages_for(clara) == []


@pytest.mark.django_db
def test_client_ending_and_paying_in_full_tells_the_freelancer_of_the_payment_and_the_end(fixed, clara, felix):
    milestone = funded_quietly(fixed)

    services.contract_end(
        contract=fixed,
        by=clara,
        reason=EndReason.COMPLETED,
        milestone_decisions={milestone.pk: services.MilestoneDecision(services.MilestoneChoice.PAY_IN_FULL)},
    )

    assert messages_for(felix) == [
        "Clara Client released $100.00 for the milestone “Backend” on “API work”.",
        "Clara Client ended the contract “API work”.",
    ]
    assert messages_for(clara) == []


@pytest.mark.django_db
def test_client_ending_without_paying_asks_the_freelancer_to_approve_or_dispute_within_7_days(fixed, clara, felix):
    milestone = funded_quietly(fixed)

    services.contract_end(
        contract=fixed,
        by=clara,
        reason=EndReason.UNSUCCESSFUL,
        note=PRIVATE_NOTE,
        milestone_decisions={
            milestone.pk: services.MilestoneDecision(services.MilestoneChoice.PAY_PART, pay_cents=70_00)
        },
    )

    assert messages_for(felix) == [
        "Clara Client released $70.00 for the milestone “Backend” on “API work”.",
        "Clara Client asks for $30.00 back on the milestone “Backend” of “API work”; approve or dispute "
        "within 7 days, or it is approved automatically.",
        "Clara Client ended the contract “API work”.",
    ]
    assert messages_for(clara) == []


@pytest.mark.django_db
def test_freelancer_approving_a_refund_request_tells_the_client(fixed, clara, felix):
    request = refund_request_for(fixed)

    services.refund_request_approve(request=request, by=felix)

    assert messages_for(clara) == [
        "Felix Freelancer approved your refund request of $100.00 on the milestone “Backend” of “API work”; "
        "the escrow goes back to you."
    ]
    assert messages_for(felix) == []


@pytest.mark.django_db
def test_freelancer_disputing_a_refund_request_tells_the_client_without_the_statement(fixed, clara, felix):
    request = refund_request_for(fixed)

    services.refund_request_dispute(request=request, by=felix, statement="The work was delivered in full")

    assert messages_for(clara) == [
        "Felix Freelancer disputed your refund request of $100.00 on the milestone “Backend” of “API work”; "
        "an admin will decide how to split it."
    ]
    assert messages_for(felix) == []


@pytest.mark.django_db
def test_unanswered_refund_request_approved_after_7_days_tells_both_parties(fixed, clara, felix):
    request = refund_request_for(fixed)

    with time_machine.travel(request.respond_by + timedelta(minutes=1), tick=False):
        services.refund_request_approve_unanswered(request_id=request.pk)

    assert messages_for(clara) == [
        "Your refund request of $100.00 on the milestone “Backend” of “API work” was approved automatically: "
        "Felix Freelancer did not answer within 7 days. The escrow goes back to you."
    ]
    assert messages_for(felix) == [
        "The refund request of $100.00 on the milestone “Backend” of “API work” was approved automatically: "
        "it was not answered within 7 days. The escrow goes back to the client."
    ]


@pytest.mark.django_db
def test_freelancer_refunding_a_payment_tells_the_client(fixed, clara, felix):
    milestone = funded_quietly(fixed)
    payment = services.milestone_release(milestone=milestone, by=clara)
    Notification.objects.all().delete()

    refund_create(payment=payment, by=felix, amount_cents=30_00, idempotency_key="test-refund")

    assert messages_for(clara) == [f"Felix Freelancer refunded $30.00 of payment #{payment.pk} on “API work”."]
    assert Notification.objects.get(user=clara).contract_id == fixed.pk
    assert messages_for(felix) == []


@pytest.mark.django_db
def test_an_action_that_is_refused_leaves_no_notification(hourly, clara, felix):
    stranger = UserFactory()
    with pytest.raises(Exception):  # noqa: B017 - the service's DomainError
        services.contract_end(contract=hourly, by=stranger, reason=EndReason.COMPLETED)

    assert Notification.objects.count() == 0


# The private reason for ending is never in a notification.


def assert_no_private_reason(reason: str) -> None:
    label = EndReason(reason).label
    for message in all_messages():
        assert PRIVATE_NOTE not in message
        assert label.lower() not in message.lower()
        assert not re.search(rf"\b{re.escape(reason)}\b", message, flags=re.IGNORECASE), message


@pytest.mark.django_db
@pytest.mark.parametrize("reason", EndReason.values)
def test_private_end_reason_is_never_in_a_notification_when_a_party_ends(reason, hourly, clara):
    services.contract_end(contract=hourly, by=clara, reason=reason, note=PRIVATE_NOTE)

    assert Notification.objects.exists()
    assert_no_private_reason(reason)


@pytest.mark.django_db
@pytest.mark.parametrize("reason", EndReason.values)
def test_private_end_reason_is_never_in_a_notification_through_notice_and_its_end(reason, hourly_with_notice, felix):
    with time_machine.travel(T0, tick=False):
        services.contract_give_notice(contract=hourly_with_notice, by=felix, reason=reason, note=PRIVATE_NOTE)
    with time_machine.travel(T0 + timedelta(days=16), tick=False):
        services.contract_elapse_notice(contract_id=hourly_with_notice.pk)

    assert Notification.objects.count() == 3  # notice to the client, the end to both
    assert_no_private_reason(reason)


@pytest.mark.django_db
@pytest.mark.parametrize("reason", EndReason.values)
def test_private_end_reason_is_never_in_a_notification_of_a_mutual_end(reason, fixed, clara, felix):
    funded_quietly(fixed)
    services.contract_propose_end(contract=fixed, by=clara, note=PRIVATE_NOTE)
    services.contract_accept_end(contract=fixed, by=felix, reason=reason, note=PRIVATE_NOTE)

    assert Notification.objects.count() == 2
    assert_no_private_reason(reason)


# The notifications page.


def notify(user, message, *, contract=None, read=False, at=None):
    return Notification.objects.create(
        user=user,
        contract=contract,
        kind="contract",
        message=message,
        read_at=T0 if read else None,
        created_at=at or T0,
    )


@pytest.mark.django_db
def test_notifications_page_needs_sign_in(client):
    response = client.get(reverse("notifications"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_notifications_page_lists_only_the_users_own_notifications_newest_first(client, hourly, clara, felix):
    older = notify(felix, "Older news for Felix", contract=hourly, at=T0)
    notify(felix, "Newer news for Felix", contract=hourly, at=T0 + timedelta(hours=1))
    notify(clara, "Secret news for Clara", contract=hourly)
    client.force_login(felix)

    response = client.get(reverse("notifications"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Secret news for Clara" not in html
    assert html.index("Newer news for Felix") < html.index("Older news for Felix")
    # Each opens through notification_open, which marks it read and goes to its contract.
    assert f'href="{reverse("notification_open", args=[older.pk])}"' in html


@pytest.mark.django_db
def test_notifications_page_marks_unread_ones(client, felix):
    notify(felix, "Already read", read=True)
    notify(felix, "Not read yet")
    client.force_login(felix)

    response = client.get(reverse("notifications"))

    items = response.content.decode().split('<li class="notification')[1:]
    unread = [item for item in items if "Not read yet" in item]
    read = [item for item in items if "Already read" in item]
    assert len(unread) == len(read) == 1
    assert unread[0].startswith(' unread"') and ">New<" in unread[0]
    assert read[0].startswith('"') and ">New<" not in read[0]


@pytest.mark.django_db
def test_notifications_page_is_paginated_by_25(client, felix):
    for number in range(30):
        notify(felix, f"Message number {number:02d}.", at=T0 + timedelta(minutes=number))
    client.force_login(felix)

    first = client.get(reverse("notifications")).content.decode()
    second = client.get(reverse("notifications"), {"page": 2}).content.decode()

    assert "Message number 29." in first and "Message number 05." in first
    assert "Message number 04." not in first
    assert "Message number 04." in second and "Message number 00." in second


@pytest.mark.django_db
def test_header_shows_the_unread_count(client, felix, clara):
    notify(felix, "One")
    notify(felix, "Two")
    notify(felix, "Three", read=True)
    notify(clara, "Not Felix's")
    client.force_login(felix)

    response = client.get(reverse("notifications"))

    assert response.context["unread_notifications"] == 2
    assert 'aria-label="2 unread"' in response.content.decode()


@pytest.mark.django_db
def test_mark_all_as_read_marks_only_the_users_own_and_redirects_back_with_a_message(client, felix, clara):
    notify(felix, "One")
    notify(felix, "Two")
    other = notify(clara, "Clara's")
    client.force_login(felix)

    response = client.post(reverse("notifications"), follow=True)

    assert response.redirect_chain == [(reverse("notifications"), 302)]
    assert not Notification.objects.filter(user=felix, read_at__isnull=True).exists()
    other.refresh_from_db()
    assert other.read_at is None
    assert "2 notifications marked as read." in [str(message) for message in response.context["messages"]]
    assert response.context["unread_notifications"] == 0


@pytest.mark.django_db
def test_mark_all_as_read_needs_the_csrf_token(felix):
    from django.test import Client

    notify(felix, "One")
    client = Client(enforce_csrf_checks=True)
    client.force_login(felix)

    response = client.post(reverse("notifications"))

    assert response.status_code == 403
    assert Notification.objects.get(user=felix).read_at is None


@pytest.mark.django_db
def test_signed_out_pages_have_no_unread_count(client):
    response = client.get(reverse("login"))

    assert "unread_notifications" not in response.context


@pytest.mark.django_db
def test_notifications_page_queries_do_not_grow_with_the_number_of_notifications(
    client, felix, clara, django_assert_max_num_queries
):
    contracts = [HourlyContractFactory(client=clara, freelancer=felix) for _ in range(5)]
    for number in range(5):
        notify(felix, f"Message {number}", contract=contracts[number])
    client.force_login(felix)
    with CaptureQueriesContext(connection) as five:
        assert client.get(reverse("notifications")).status_code == 200

    for number in range(45):
        notify(felix, f"More {number}", contract=contracts[number % 5])
    with django_assert_max_num_queries(len(five.captured_queries)):
        response = client.get(reverse("notifications"))

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 25

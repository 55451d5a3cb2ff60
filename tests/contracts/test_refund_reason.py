"""The reason a freelancer gives for a refund reaches the client, as the refund form
promises ("Reason (shown to the client)"): in the client's notification, in an e-mail
to the client, and on the contract's payments, which both parties see (issue 12,
defect 5)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.urls import reverse

from contracts.models import Notification, NotificationKind, OutgoingEmail
from tests.factories import HourlyContractFactory, UserFactory
from tests.fixtures.money import hourly_payment, refund

PAID_AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
REFUNDED_AT = PAID_AT + timedelta(days=3)
REASON = "The hours of the second week were logged twice"


@pytest.fixture
def contract():
    return HourlyContractFactory(
        client=UserFactory(username="clara", first_name="Clara", last_name="Client", email="clara@example.com"),
        freelancer=UserFactory(username="felix", first_name="Felix", last_name="Freelancer"),
        title="Build the API",
    )


@pytest.fixture
def payment(contract):
    with time_machine.travel(PAID_AT, tick=False):
        return hourly_payment(contract, 400_00, paid_at=PAID_AT, key="hours-1")


def refund_notifications(user) -> list[Notification]:
    return list(Notification.objects.filter(user=user, kind=NotificationKind.REFUND).order_by("id"))


# The notification.


@pytest.mark.django_db
def test_the_clients_refund_notification_gives_the_freelancers_reason_and_links_to_the_payments(payment):
    made = refund(payment, 100_00, reason=REASON, key="r1", at=REFUNDED_AT)

    [notification] = refund_notifications(payment.client)
    assert notification.message == (
        f"Felix Freelancer refunded $100.00 of payment #{payment.pk} on “Build the API”. "
        f"Their reason: “{REASON}”."
    )
    assert notification.link == reverse("contract_detail", args=[payment.contract_id]) + "#payments"
    assert notification.created_at == made.created_at
    assert refund_notifications(payment.freelancer) == []


@pytest.mark.django_db
def test_a_refund_without_a_reason_is_notified_without_one(payment):
    refund(payment, 100_00, reason="", key="r1", at=REFUNDED_AT)

    [notification] = refund_notifications(payment.client)
    assert notification.message == f"Felix Freelancer refunded $100.00 of payment #{payment.pk} on “Build the API”."


# The e-mail.


@pytest.mark.django_db
def test_the_client_is_emailed_the_refund_with_the_reason_and_what_comes_back(
    payment, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        made = refund(payment, 100_00, reason=REASON, key="r1", at=REFUNDED_AT)

    email = OutgoingEmail.objects.get(key=f"email:refund:{made.pk}")
    assert email.to == "clara@example.com"
    assert email.subject == (
        f"Refund #{made.pk}: Felix Freelancer refunded $100.00 of payment #{payment.pk} on “Build the API”"
    )
    assert f"Their reason: {REASON}" in email.body_text
    assert "$105.00 goes back to you: the $100.00 refunded and the $5.00 marketplace fee you paid on it." in (
        email.body_text
    )
    assert f"Their reason: “{REASON}”" in email.body_html
    assert f"/contracts/{payment.contract_id}/#payments" in email.body_text
    [sent] = mail.outbox
    assert (sent.to, sent.subject) == (["clara@example.com"], email.subject)


@pytest.mark.django_db
def test_each_refund_is_emailed_once_under_its_own_key_and_subject(payment):
    first = refund(payment, 50_00, reason=REASON, key="r1", at=REFUNDED_AT)
    second = refund(payment, 50_00, reason="The rest of that week", key="r2", at=REFUNDED_AT)
    # The same form sent again: no new refund, no new e-mail.
    refund(payment, 50_00, reason=REASON, key="r1", at=REFUNDED_AT)

    emails = OutgoingEmail.objects.filter(key__startswith="email:refund:").order_by("id")
    assert [email.key for email in emails] == [f"email:refund:{first.pk}", f"email:refund:{second.pk}"]
    assert len({email.subject for email in emails}) == 2
    assert "The rest of that week" in emails[1].body_text


@pytest.mark.django_db
def test_the_reason_in_the_html_email_is_escaped(payment):
    made = refund(payment, 100_00, reason='<a href="https://pay.example.com">pay here</a>', key="r1", at=REFUNDED_AT)

    email = OutgoingEmail.objects.get(key=f"email:refund:{made.pk}")
    assert '<a href="https://pay.example.com">' not in email.body_html
    assert "&lt;a href=" in email.body_html


@pytest.mark.django_db
def test_a_refund_that_rolls_back_emails_and_notifies_nobody(payment):
    with pytest.raises(RuntimeError), transaction.atomic():
        refund(payment, 100_00, reason=REASON, key="r1", at=REFUNDED_AT)
        raise RuntimeError("the request failed after the refund")

    assert not OutgoingEmail.objects.filter(key__startswith="email:refund:").exists()
    assert refund_notifications(payment.client) == []


# The contract's payments.


@pytest.mark.django_db
@pytest.mark.parametrize("party", ["client", "freelancer"])
def test_the_contract_payments_show_each_refund_with_its_reason_to_both_parties(client, payment, party):
    refund(payment, 100_00, reason=REASON, key="r1", at=REFUNDED_AT)
    refund(payment, 25_00, reason="", key="r2", at=REFUNDED_AT)
    client.force_login(getattr(payment.contract, party))

    response = client.get(reverse("contract_detail", args=[payment.contract_id]))

    payments = response.content.decode()
    payments = payments[payments.index('id="payments"') : payments.index("</section>", payments.index('id="payments"'))]
    assert f"$100.00 refunded <time datetime=\"{REFUNDED_AT.isoformat()}\">Mar 5, 2026</time>: <q>{REASON}</q>" in (
        payments
    )
    assert "$25.00 refunded" in payments and "(no reason given)" in payments
    assert payments.index("$100.00 refunded") < payments.index("$25.00 refunded")

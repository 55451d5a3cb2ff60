"""The Refunds page of a freelancer: payments of the last 180 days with what is left
to refund, older ones with the reason they cannot be; a refund confirmed from its
preview refunds once, and what is refused keeps the typed amount."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import Refund
from billing.services.refunds import refund_create
from tests.factories import HourlyContractFactory
from tests.fixtures.money import hourly_payment
from tests.fixtures.pages import html, messages_of, refund_data, section, signed_in, text_of


def payment_row(response, payment) -> str:
    return section(response, f'<tr id="payment-{payment.pk}">', "</tr>")


def refund_form(response) -> str:
    """The refund form of the preview (page or dialog), with its figures."""
    return section(response, 'class="refund-form"', "</form>")


# Someone else's payment.


@pytest.mark.django_db
def test_refunding_someone_elses_payment_is_404_and_refunds_nothing(client, hourly, stranger):
    payment = hourly_payment(hourly, 100_00, paid_at=timezone.now(), key="pay-1")
    signed_in(client, stranger)

    response = client.post(reverse("refund_payment", args=[payment.pk]), refund_data(payment, "10.00"))

    assert response.status_code == 404
    assert Refund.objects.count() == 0


@pytest.mark.django_db
def test_the_client_who_paid_cannot_refund_the_payment_to_themselves(client, hourly):
    payment = hourly_payment(hourly, 100_00, paid_at=timezone.now(), key="pay-1")
    signed_in(client, hourly.client)

    response = client.post(reverse("refund_payment", args=[payment.pk]), refund_data(payment, "10.00"))

    assert response.status_code == 404
    assert Refund.objects.count() == 0


@pytest.mark.django_db
def test_refund_post_without_csrf_token_is_403_and_refunds_nothing(hourly):
    payment = hourly_payment(hourly, 100_00, paid_at=timezone.now(), key="pay-1")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(hourly.freelancer)

    response = browser.post(reverse("refund_payment", args=[payment.pk]), refund_data(payment, "10.00"))

    assert response.status_code == 403
    assert Refund.objects.count() == 0


# Refunding.


@pytest.mark.django_db
def test_refunds_page_lists_the_freelancers_payments_with_what_is_left(client, hourly):
    now = timezone.now()
    paid = hourly_payment(hourly, 200_00, paid_at=now - timedelta(days=10), key="pay-1")
    untouched = hourly_payment(hourly, 1_234_56, paid_at=now - timedelta(days=1), key="pay-2")
    refund_create(payment=paid, by=hourly.freelancer, amount_cents=50_00, idempotency_key="r1")
    someone_elses = hourly_payment(HourlyContractFactory(), 99_00, paid_at=now, key="pay-3")
    signed_in(client, hourly.freelancer)

    response = client.get(reverse("refunds"))

    assert re.findall(r'<tr id="payment-(\d+)">', html(response)) == [str(untouched.pk), str(paid.pk)]
    assert f"payment-{someone_elses.pk}" not in html(response)
    row = text_of(payment_row(response, paid))
    assert row.startswith(f"#{paid.pk} Build the API")
    assert "$200.00 $50.00 $150.00" in row
    assert "All that is left: $150.00" in text_of(payment_row(response, paid))
    assert "$1,234.56 $0.00 $1,234.56" in text_of(payment_row(response, untouched))


@pytest.mark.django_db
def test_payment_past_180_days_shows_the_refusal_and_no_form_while_one_inside_them_can_be_refunded(client, hourly):
    now = timezone.now()
    too_old = hourly_payment(hourly, 100_00, paid_at=now - timedelta(days=180, minutes=5), key="pay-old")
    last_day = hourly_payment(hourly, 100_00, paid_at=now - timedelta(days=180) + timedelta(hours=1), key="pay-180")
    signed_in(client, hourly.freelancer)

    response = client.get(reverse("refunds"))

    old_row = payment_row(response, too_old)
    assert "Refunds are possible for 180 days after a payment: this one was made on" in text_of(old_row)
    assert "<form" not in old_row
    assert reverse("refund_payment", args=[last_day.pk]) in payment_row(response, last_day)


@pytest.mark.django_db
def test_posting_a_refund_of_a_181_day_old_payment_is_refused(client, hourly):
    too_old = hourly_payment(hourly, 100_00, paid_at=timezone.now() - timedelta(days=181, minutes=5), key="pay-old")
    signed_in(client, hourly.freelancer)

    response = client.post(reverse("refund_payment", args=[too_old.pk]), refund_data(too_old, "10.00"))

    assert response.status_code == 400
    [message] = messages_of(response)
    assert message.startswith(
        f"Payment #{too_old.pk} was not refunded: Refunds are possible for 180 days after a payment: "
    )
    assert Refund.objects.count() == 0


@pytest.mark.django_db
def test_refund_post_refunds_the_amount_and_redirects_with_a_message(client, hourly):
    payment = hourly_payment(hourly, 200_00, paid_at=timezone.now() - timedelta(days=3), key="pay-1")
    signed_in(client, hourly.freelancer)

    response = client.post(
        reverse("refund_payment", args=[payment.pk]), refund_data(payment, "100.50", reason="Sorry"), follow=True
    )

    assert response.redirect_chain == [(reverse("refunds"), 302)]
    assert messages_of(response) == [f"Refunded $100.50 of payment #{payment.pk} to the client."]
    refund = Refund.objects.get()
    assert (refund.payment_id, refund.amount_cents, refund.reason) == (payment.pk, 100_50, "Sorry")
    assert refund.freelancer_fee_returned_cents == 10_05
    assert "$200.00 $100.50 $99.50" in text_of(payment_row(response, payment))


@pytest.mark.django_db
def test_refund_amount_with_three_decimals_is_refused_and_the_typed_amount_kept(client, hourly):
    payment = hourly_payment(hourly, 200_00, paid_at=timezone.now(), key="pay-1")
    signed_in(client, hourly.freelancer)

    response = client.post(reverse("refund_payment", args=[payment.pk]), refund_data(payment, "10.005"))

    assert response.status_code == 400
    assert messages_of(response) == [
        f"Payment #{payment.pk} was not refunded: Amounts have at most two decimal places (whole cents)."
    ]
    row = refund_form(response)
    assert 'value="10.005"' in row
    assert "Amounts have at most two decimal places (whole cents)." in text_of(row)
    assert Refund.objects.count() == 0


@pytest.mark.django_db
def test_refund_over_what_is_left_is_refused_and_the_typed_amount_kept(client, hourly):
    payment = hourly_payment(hourly, 200_00, paid_at=timezone.now(), key="pay-1")
    refund_create(payment=payment, by=hourly.freelancer, amount_cents=150_00, idempotency_key="r1")
    signed_in(client, hourly.freelancer)

    response = client.post(reverse("refund_payment", args=[payment.pk]), refund_data(payment, "50.01", key="r2"))

    refusal = "You can refund at most $50.00 of this payment: $150.00 of $200.00 has been refunded already."
    assert response.status_code == 400
    assert messages_of(response) == [f"Payment #{payment.pk} was not refunded: {refusal}"]
    row = refund_form(response)
    assert 'value="50.01"' in row
    assert refusal in text_of(row)
    assert list(Refund.objects.values_list("amount_cents", flat=True)) == [150_00]


@pytest.mark.django_db
def test_the_same_refund_form_posted_twice_refunds_once(client, hourly):
    payment = hourly_payment(hourly, 200_00, paid_at=timezone.now(), key="pay-1")
    signed_in(client, hourly.freelancer)
    url = reverse("refund_payment", args=[payment.pk])
    data = refund_data(payment, "40.00", key="same-key")

    first = client.post(url, data, follow=True)
    second = client.post(url, data, follow=True)

    assert Refund.objects.count() == 1
    assert Refund.objects.get().amount_cents == 40_00
    assert messages_of(first) == [f"Refunded $40.00 of payment #{payment.pk} to the client."]
    assert messages_of(second) == [f"Refunded $40.00 of payment #{payment.pk} to the client."]
    assert "$200.00 $40.00 $160.00" in text_of(payment_row(second, payment))


@pytest.mark.django_db
def test_fully_refunded_payment_shows_refunded_in_full_and_no_form(client, hourly):
    payment = hourly_payment(hourly, 80_00, paid_at=timezone.now(), key="pay-1")
    refund_create(payment=payment, by=hourly.freelancer, amount_cents=80_00, idempotency_key="r1")
    signed_in(client, hourly.freelancer)

    row = payment_row(client.get(reverse("refunds")), payment)

    assert "Refunded in full." in text_of(row)
    assert "<form" not in row

"""Refunding a payment and releasing a milestone payment through the pages: money that
cannot come back moves only after the person typed the amount, read what will move
and confirmed it (issue 12, defect 4).

The preview is a dialog with htmx and a page without JavaScript; both are the same
form. The confirmation carries the figures of the preview, and one that no longer
matches the money (another refund or release in the meantime) gets 409 and the new
figures, moving nothing. Errors show at the field, with what was typed kept."""

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
import time_machine
from django.urls import reverse

from billing.models import Payment, Refund
from billing.selectors import escrow_held_cents
from billing.services.refunds import STALE_REFUND, refund_create
from contracts import services
from contracts.models import Milestone, MilestoneState
from contracts.services.milestones import STALE_RELEASE
from tests.factories import FixedContractFactory, HourlyContractFactory, UserFactory
from tests.fixtures.contracts import funded
from tests.fixtures.money import hourly_payment
from tests.fixtures.pages import html, section, signed_in, text_of

NOW = datetime(2026, 3, 11, 14, 0, tzinfo=UTC)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def wednesday_afternoon():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def payment(freelancer) -> Payment:
    """$400.00 paid to Grace two days ago for hours on “Build the API”."""
    contract = HourlyContractFactory(freelancer=freelancer, title="Build the API")
    return hourly_payment(contract, 400_00, paid_at=NOW - timedelta(days=2), key="hours-1")


@pytest.fixture
def milestone() -> Milestone:
    """“Logo” of “Brand identity”: $400.00 funded into escrow by Clara."""
    contract = FixedContractFactory(
        client=UserFactory(username="clara"), freelancer=UserFactory(username="felix"), title="Brand identity"
    )
    return funded(contract, 400_00, "Logo")


def figures(response) -> dict[str, str]:
    """The preview's figures as a person reads them: label → amount."""
    block = section(response, 'class="terms figures"', "</dl>")
    pairs = re.findall(r"<dt>(.*?)</dt><dd[^>]*>(.*?)</dd>", block)
    return {label: text_of(value) for label, value in pairs}


class _Fields(HTMLParser):
    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name") and attrs.get("type") != "checkbox":
            self.values[attrs["name"]] = attrs.get("value") or ""


def fields_of(response, form_class: str) -> dict[str, str]:
    """What the browser sends with the form of that class: its inputs as shown."""
    parser = _Fields()
    parser.feed(section(response, f'class="{form_class}"', "</form>"))
    return parser.values


def refund_url(payment) -> str:
    return reverse("refund_payment", args=[payment.pk])


def release_url(milestone) -> str:
    return reverse("milestone_action", args=[milestone.pk, "release"])


def refund_preview(client, payment, amount: str, reason: str = "", **extra):
    prefix = f"p{payment.pk}"
    data = {f"{prefix}-amount": amount, f"{prefix}-reason": reason, f"{prefix}-idempotency_key": "form-1"}
    return client.post(refund_url(payment), data, **extra)


def confirm(client, url: str, preview, form_class: str, **extra):
    """Press the confirm button of the preview: its fields as shown, and ``confirm``."""
    return client.post(url, {**fields_of(preview, form_class), "confirm": "1"}, **extra)


def release_preview(client, milestone, amount: str, **extra):
    return client.post(release_url(milestone), {"amount": amount, "idempotency_key": "release-form-1"}, **extra)


# Refunds: the form on the Refunds page.


@pytest.mark.django_db
def test_refunds_page_prefills_no_amount_and_offers_all_that_is_left_as_a_button_showing_its_value(
    client, payment, freelancer
):
    refund_create(payment=payment, by=freelancer, amount_cents=100_00, idempotency_key="earlier")

    row = section(signed_in(client, freelancer).get(reverse("refunds")), f'id="payment-{payment.pk}"', "</tr>")

    amount_input = re.search(rf'<input[^>]*name="p{payment.pk}-amount"[^>]*>', row).group(0)
    assert "value=" not in amount_input
    assert re.search(rf'<button[^>]*name="p{payment.pk}-whole" value="300.00"', row)
    assert "All that is left: $300.00" in text_of(row)
    assert "Review the refund" in text_of(row)


# Refunds: the preview.


@pytest.mark.django_db
def test_refund_preview_page_shows_the_amount_the_fees_returned_and_what_is_left_and_moves_nothing(
    client, payment, freelancer
):
    response = refund_preview(signed_in(client, freelancer), payment, "100.00", reason="One week was not worked")

    assert response.status_code == 200
    assert "<h1>Refund payment #" in html(response)
    assert figures(response) == {
        "Refunded to the client": "$100.00",
        "Marketplace fee returned to the client": "$5.00",
        "The client gets back": "$105.00",
        "Service fee returned to you": "$10.00",
        "Your earnings go down by": "$90.00",
        "Left to refund afterwards": "$300.00",
    }
    sent = fields_of(response, "refund-form")
    assert sent[f"p{payment.pk}-previewed_amount"] == "10000"
    assert sent[f"p{payment.pk}-refunded_before"] == "0"
    assert sent[f"p{payment.pk}-reason"] == "One week was not worked"
    assert "Refund $100.00" in text_of(html(response))
    assert Refund.objects.count() == 0


@pytest.mark.django_db
def test_refund_preview_with_htmx_is_the_dialog_alone(client, payment, freelancer):
    response = refund_preview(signed_in(client, freelancer), payment, "100.00", **HTMX)

    assert response.status_code == 200
    assert html(response).lstrip().startswith('<dialog id="refund-dialog" class="modal"')
    assert "<html" not in html(response)
    assert figures(response)["Left to refund afterwards"] == "$300.00"
    assert Refund.objects.count() == 0


@pytest.mark.django_db
def test_the_all_that_is_left_button_previews_exactly_the_amount_it_showed(client, payment, freelancer):
    response = signed_in(client, freelancer).post(
        refund_url(payment), {f"p{payment.pk}-whole": "400.00", f"p{payment.pk}-idempotency_key": "form-1"}
    )

    assert response.status_code == 200
    assert figures(response)["Refunded to the client"] == "$400.00"
    assert figures(response)["Left to refund afterwards"] == "$0.00"
    assert fields_of(response, "refund-form")[f"p{payment.pk}-amount"] == "400.00"
    assert Refund.objects.count() == 0


# Refunds: confirming.


@pytest.mark.django_db
def test_confirming_the_preview_refunds_exactly_the_previewed_amount_and_fees(client, payment, freelancer):
    browser = signed_in(client, freelancer)
    preview = refund_preview(browser, payment, "100.00", reason="One week was not worked")

    response = confirm(browser, refund_url(payment), preview, "refund-form")

    assert (response.status_code, response["Location"]) == (302, reverse("refunds"))
    refund = Refund.objects.get()
    assert (refund.amount_cents, refund.freelancer_fee_returned_cents, refund.client_fee_returned_cents) == (
        100_00,
        10_00,
        5_00,
    )
    assert refund.reason == "One week was not worked"


@pytest.mark.django_db
def test_confirming_in_the_dialog_redirects_the_page_with_htmx(client, payment, freelancer):
    browser = signed_in(client, freelancer)
    preview = refund_preview(browser, payment, "100.00", **HTMX)

    response = confirm(browser, refund_url(payment), preview, "refund-form", **HTMX)

    assert (response.status_code, response["HX-Redirect"]) == (200, reverse("refunds"))
    assert Refund.objects.get().amount_cents == 100_00


@pytest.mark.django_db
@pytest.mark.parametrize("extra", [{}, HTMX], ids=["page", "dialog"])
def test_a_confirmation_after_another_refund_gets_409_with_the_new_figures_and_refunds_nothing(
    client, payment, freelancer, extra
):
    browser = signed_in(client, freelancer)
    preview = refund_preview(browser, payment, "300.00", **extra)
    refund_create(payment=payment, by=freelancer, amount_cents=100_00, idempotency_key="another-tab")

    response = confirm(browser, refund_url(payment), preview, "refund-form", **extra)

    assert response.status_code == 409
    assert STALE_REFUND in text_of(html(response))
    assert figures(response)["Left to refund afterwards"] == "$0.00"
    assert fields_of(response, "refund-form")[f"p{payment.pk}-refunded_before"] == "10000"
    assert list(Refund.objects.values_list("amount_cents", flat=True)) == [100_00]


@pytest.mark.django_db
def test_confirming_the_new_figures_after_a_409_refunds_them(client, payment, freelancer):
    browser = signed_in(client, freelancer)
    preview = refund_preview(browser, payment, "300.00")
    refund_create(payment=payment, by=freelancer, amount_cents=100_00, idempotency_key="another-tab")
    stale = confirm(browser, refund_url(payment), preview, "refund-form")

    response = confirm(browser, refund_url(payment), stale, "refund-form")

    assert response.status_code == 302
    assert sorted(Refund.objects.values_list("amount_cents", flat=True)) == [100_00, 300_00]


@pytest.mark.django_db
def test_a_confirmation_of_an_amount_changed_after_the_preview_shows_the_new_figures_and_refunds_nothing(
    client, payment, freelancer
):
    browser = signed_in(client, freelancer)
    preview = refund_preview(browser, payment, "100.00")
    changed = {**fields_of(preview, "refund-form"), f"p{payment.pk}-amount": "250.00", "confirm": "1"}

    response = browser.post(refund_url(payment), changed)

    assert response.status_code == 400
    assert "The amount is not the one in the figures shown" in text_of(html(response))
    assert figures(response)["Refunded to the client"] == "$250.00"
    assert Refund.objects.count() == 0


# Refunds: errors at the field, what was typed kept.


@pytest.mark.django_db
@pytest.mark.parametrize("extra", [{}, HTMX], ids=["page", "dialog"])
@pytest.mark.parametrize("step", ["preview", "confirm"])
def test_a_missing_refund_amount_is_refused_at_the_field_keeping_the_typed_reason(
    client, payment, freelancer, extra, step
):
    prefix = f"p{payment.pk}"
    data = {f"{prefix}-amount": "", f"{prefix}-reason": "Duplicate charge", f"{prefix}-idempotency_key": "form-1"}
    if step == "confirm":
        data.update({f"{prefix}-previewed_amount": "10000", f"{prefix}-refunded_before": "0", "confirm": "1"})

    response = signed_in(client, freelancer).post(refund_url(payment), data, **extra)

    assert response.status_code == 400
    field = section(response, f'for="refund-{prefix}-amount"', "</p>")
    assert "Enter the amount to refund." in text_of(field)
    assert fields_of(response, "refund-form")[f"{prefix}-reason"] == "Duplicate charge"
    assert "Refund $" not in text_of(html(response))  # nothing to confirm without figures
    assert Refund.objects.count() == 0


@pytest.mark.django_db
def test_more_than_is_left_is_refused_at_the_amount_keeping_what_was_typed(client, payment, freelancer):
    response = refund_preview(signed_in(client, freelancer), payment, "400.01", reason="All of it", **HTMX)

    assert response.status_code == 400
    field = section(response, f'for="refund-p{payment.pk}-amount"', "</p>")
    assert "You can refund at most $400.00 of this payment" in text_of(field)
    sent = fields_of(response, "refund-form")
    assert (sent[f"p{payment.pk}-amount"], sent[f"p{payment.pk}-reason"]) == ("400.01", "All of it")


# Releases: the form on the contract page.


@pytest.mark.django_db
def test_contract_page_release_form_needs_an_amount_and_offers_all_in_escrow_as_a_button(client, milestone):
    response = signed_in(client, milestone.contract.client).get(
        reverse("contract_detail", args=[milestone.contract_id])
    )

    row = section(response, f'id="milestone-{milestone.pk}"', "</tr>")
    amount_input = re.search(r'<input[^>]*name="amount"[^>]*>', row).group(0)
    assert "required" in amount_input and "value=" not in amount_input
    assert "empty" not in text_of(row).lower()
    assert re.search(r'<button[^>]*name="whole" value="400.00"', row)
    assert "All in escrow: $400.00" in text_of(row)


@pytest.mark.django_db
@pytest.mark.parametrize("step", ["preview", "confirm"])
def test_a_release_with_an_empty_amount_is_refused_at_the_field_and_pays_nothing(client, milestone, step):
    data = {"amount": "", "idempotency_key": "release-form-1"}
    if step == "confirm":
        data.update({"previewed_amount": "", "held_before": "40000", "confirm": "1"})

    response = signed_in(client, milestone.contract.client).post(release_url(milestone), data)

    assert response.status_code == 400
    field = section(response, 'for="release-amount"', "</p>")
    assert "Enter the amount to pay." in text_of(field)
    assert Payment.objects.count() == 0
    assert escrow_held_cents(milestone) == 400_00
    assert Milestone.objects.get(pk=milestone.pk).state == MilestoneState.FUNDED


# Releases: the preview and the confirmation.


@pytest.mark.django_db
def test_release_preview_shows_the_fee_what_the_freelancer_receives_and_what_stays_in_escrow_and_moves_nothing(
    client, milestone
):
    response = release_preview(signed_in(client, milestone.contract.client), milestone, "150.00", **HTMX)

    assert response.status_code == 200
    assert html(response).lstrip().startswith('<dialog id="release-dialog" class="modal"')
    shown = figures(response)
    assert shown["Paid out of escrow"] == "$150.00"
    assert shown["The freelancer's service fee on it"] == "$15.00"
    assert shown["The freelancer receives"] == "$135.00"
    assert shown["Marketplace fee you paid on this part"].startswith("$7.50")
    assert shown["Stays in escrow"] == "$250.00"
    assert "Pay $150.00" in text_of(html(response))
    assert Payment.objects.count() == 0
    assert escrow_held_cents(milestone) == 400_00


@pytest.mark.django_db
def test_confirming_the_release_preview_pays_exactly_the_previewed_amount(client, milestone):
    browser = signed_in(client, milestone.contract.client)
    preview = release_preview(browser, milestone, "150.00")

    response = confirm(browser, release_url(milestone), preview, "release-form")

    contract_page = reverse("contract_detail", args=[milestone.contract_id])
    assert (response.status_code, response["Location"]) == (302, contract_page)
    payment = Payment.objects.get()
    assert (payment.amount_cents, payment.freelancer_fee_cents, payment.client_fee_cents) == (150_00, 15_00, 7_50)
    assert escrow_held_cents(milestone) == 250_00
    assert Milestone.objects.get(pk=milestone.pk).state == MilestoneState.FUNDED


@pytest.mark.django_db
def test_all_in_escrow_previewed_and_confirmed_pays_the_milestone_in_full_once_even_if_confirmed_twice(
    client, milestone
):
    browser = signed_in(client, milestone.contract.client)
    preview = browser.post(release_url(milestone), {"whole": "400.00", "idempotency_key": "release-form-1"})
    assert figures(preview)["Stays in escrow"] == "$0.00"

    first = confirm(browser, release_url(milestone), preview, "release-form", follow=True)
    second = confirm(browser, release_url(milestone), preview, "release-form", follow=True)

    assert [str(m) for m in first.context["messages"]] == ["$400.00 paid to the freelancer for “Logo”."]
    assert [str(m) for m in second.context["messages"]] == ["$400.00 paid to the freelancer for “Logo”."]
    assert list(Payment.objects.values_list("amount_cents", flat=True)) == [400_00]
    assert Milestone.objects.get(pk=milestone.pk).state == MilestoneState.RELEASED


@pytest.mark.django_db
@pytest.mark.parametrize("extra", [{}, HTMX], ids=["page", "dialog"])
def test_a_release_confirmation_after_another_release_gets_409_with_the_new_figures_and_pays_nothing(
    client, milestone, extra
):
    browser = signed_in(client, milestone.contract.client)
    preview = release_preview(browser, milestone, "150.00", **extra)
    services.milestone_release(
        milestone=milestone, by=milestone.contract.client, amount_cents=100_00, idempotency_key="another-tab"
    )

    response = confirm(browser, release_url(milestone), preview, "release-form", **extra)

    assert response.status_code == 409
    assert STALE_RELEASE in text_of(html(response))
    assert figures(response)["Stays in escrow"] == "$150.00"
    assert fields_of(response, "release-form")["held_before"] == "30000"
    assert list(Payment.objects.values_list("amount_cents", flat=True)) == [100_00]


@pytest.mark.django_db
def test_the_freelancer_posting_a_release_is_sent_back_with_the_rule_and_nothing_moves(client, milestone):
    response = release_preview(signed_in(client, milestone.contract.freelancer), milestone, "150.00", follow=True)

    assert [str(m) for m in response.context["messages"]] == ["Only the client of this contract can do this."]
    assert Payment.objects.count() == 0

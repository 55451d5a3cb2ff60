"""The portal's pages through Django's test client: who may open and post what, the
CSRF guard, My Jobs, the contract page, the End-contract form (page and htmx dialog),
the work diary, the refunds page and the milestone buttons.

Money and dates are checked as a person reads them ("$1,234.56"); the services
behind the pages have their own tests in tests/contracts and tests/billing."""

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import Invoice, Payment, Refund
from billing.money import parse_dollars
from billing.selectors import escrow_held_cents, refunded_cents
from billing.services.payments import charge_client_and_pay_freelancer
from billing.services.refunds import refund_create
from contracts import services
from contracts.models import (
    ContractState,
    DiaryEntry,
    EscrowRefundRequest,
    Milestone,
    MilestoneState,
    RefundRequestState,
)
from contracts.models.diary import DIARY_LOCKED_MESSAGE
from contracts.services import MilestoneChoice, MilestoneDecision
from contracts.views.ending import STALE_PAGE
from tests.factories import (
    DiaryEntryFactory,
    FixedContractFactory,
    HourlyContractFactory,
    MilestoneFactory,
    UserFactory,
)

ALREADY_ENDED = "This contract has already ended; ending is final."

# Helpers.


def person(username: str, first: str, last: str):
    return UserFactory(username=username, first_name=first, last_name=last)


@pytest.fixture
def client_user():
    return person("ada", "Ada", "Lovelace")


@pytest.fixture
def freelancer():
    return person("grace", "Grace", "Hopper")


@pytest.fixture
def stranger():
    return person("mallory", "Mallory", "Outsider")


@pytest.fixture
def hourly(client_user, freelancer):
    return HourlyContractFactory(client=client_user, freelancer=freelancer, title="Build the API")


@pytest.fixture
def fixed(client_user, freelancer):
    return FixedContractFactory(client=client_user, freelancer=freelancer, title="Design the logo")


def signed_in(client, user):
    client.force_login(user)
    return client


def html(response) -> str:
    return response.content.decode()


def text_of(fragment: str) -> str:
    """HTML as the text a person reads: tags dropped and whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip()


def text(response) -> str:
    return text_of(html(response))


def day(moment) -> str:
    """A date as the pages print it ("M j, Y"): Nov 22, 2026."""
    return f"{moment:%b} {moment.day}, {moment.year}"


def section(response, start: str, end: str) -> str:
    """The HTML from the tag holding the first ``start`` to the next ``end`` after it."""
    page = html(response)
    found = page.index(start)
    begin = page.rindex("<", 0, found + 1)
    return page[begin : page.index(end, found)]


def options_menu(response) -> str:
    """The (…) options menu of a contract page, or "" when there is none."""
    page = html(response)
    if 'id="contract-options"' not in page:
        return ""
    return section(response, 'id="contract-options"', "</details>")


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def funded(contract, amount_cents: int = 100_00, title: str | None = None) -> Milestone:
    milestone = MilestoneFactory(contract=contract, amount_cents=amount_cents, **({"title": title} if title else {}))
    services.milestone_fund(milestone=milestone, by=contract.client)
    milestone.refresh_from_db()
    return milestone


def hourly_payment(contract, amount_cents: int, *, paid_at, key: str) -> Payment:
    with transaction.atomic():
        return charge_client_and_pay_freelancer(
            contract=contract, amount_cents=amount_cents, key=key, at=paid_at, memo="Hours"
        )


def end_form_data(reason: str = "completed", note: str = "", *, transition: str = "end", state: str = "active"):
    data = {"plan_transition": transition, "state": state, "note": note, "confirm": "1"}
    if reason:
        data["reason"] = reason
    return data


def refund_data(payment, amount: str, key: str = "refund-key-1", reason: str = "") -> dict:
    """The refund form of ``payment`` confirmed from its preview: the typed amount and
    what the preview showed (the amount, what had been refunded before)."""
    prefix = f"p{payment.pk}"
    try:
        previewed = parse_dollars(amount)
    except ValueError:
        previewed = ""
    return {
        f"{prefix}-amount": amount,
        f"{prefix}-idempotency_key": key,
        f"{prefix}-reason": reason,
        f"{prefix}-previewed_amount": previewed,
        f"{prefix}-refunded_before": refunded_cents(payment),
        "confirm": "1",
    }


def release_data(milestone, amount: str, key: str = "release-1") -> dict:
    """The release form of ``milestone`` confirmed from its preview: the typed amount
    and what the preview showed (the amount, the escrow held)."""
    try:
        previewed = parse_dollars(amount)
    except ValueError:
        previewed = ""
    return {
        "amount": amount,
        "idempotency_key": key,
        "previewed_amount": previewed,
        "held_before": escrow_held_cents(milestone),
        "confirm": "1",
    }


# Authorization: sign-in required, other people's things are a 404 and stay unchanged.


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["jobs", "contract", "end", "diary", "refunds", "notifications"])
def test_anonymous_visitor_is_sent_to_sign_in_from_every_page(client, hourly, page):
    url = {
        "jobs": reverse("my_jobs"),
        "contract": reverse("contract_detail", args=[hourly.pk]),
        "end": reverse("contract_end", args=[hourly.pk]),
        "diary": reverse("diary", args=[hourly.pk]),
        "refunds": reverse("refunds"),
        "notifications": reverse("notifications"),
    }[page]

    response = client.get(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


@pytest.mark.django_db
def test_anonymous_post_to_the_end_page_ends_nothing(client, hourly):
    response = client.post(reverse("contract_end", args=[hourly.pk]), end_form_data())

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    hourly.refresh_from_db()
    assert hourly.state == ContractState.ACTIVE


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["contract_detail", "contract_end", "diary"])
def test_someone_not_party_to_a_contract_gets_404_for_its_pages(client, hourly, stranger, page):
    signed_in(client, stranger)

    response = client.get(reverse(page, args=[hourly.pk]))

    assert response.status_code == 404


@pytest.mark.django_db
def test_someone_not_party_cannot_end_a_contract_and_it_stays_open(client, hourly, stranger):
    DiaryEntryFactory(contract=hourly, minutes=60)
    signed_in(client, stranger)

    response = client.post(reverse("contract_end", args=[hourly.pk]), end_form_data())

    assert response.status_code == 404
    hourly.refresh_from_db()
    assert hourly.state == ContractState.ACTIVE
    assert Invoice.objects.count() == 0


@pytest.mark.django_db
def test_someone_not_party_gets_404_for_diary_edit_and_delete_and_the_entry_is_unchanged(client, hourly, stranger):
    entry = DiaryEntryFactory(contract=hourly, minutes=60, memo="Original")
    signed_in(client, stranger)
    edit_url = reverse("diary_entry_edit", args=[hourly.pk, entry.pk])

    assert client.get(edit_url).status_code == 404
    forged = {"work_date": entry.work_date.isoformat(), "hours": "9", "minutes": "0", "memo": "Forged"}
    assert client.post(edit_url, forged).status_code == 404
    assert client.post(reverse("diary_entry_delete", args=[hourly.pk, entry.pk])).status_code == 404

    entry.refresh_from_db()
    assert (entry.minutes, entry.memo) == (60, "Original")


@pytest.mark.django_db
def test_diary_entry_of_one_contract_is_404_through_another_contract_of_the_same_user(client, hourly, freelancer):
    other = HourlyContractFactory(freelancer=freelancer)
    entry = DiaryEntryFactory(contract=other, minutes=60)
    signed_in(client, freelancer)

    response = client.post(reverse("diary_entry_delete", args=[hourly.pk, entry.pk]))

    assert response.status_code == 404
    assert DiaryEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["pause", "resume", "withdraw_notice", "propose_end"])
def test_someone_not_party_gets_404_for_contract_actions_and_the_contract_is_unchanged(
    client, hourly, stranger, action
):
    signed_in(client, stranger)

    response = client.post(reverse("contract_action", args=[hourly.pk, action]))

    assert response.status_code == 404
    hourly.refresh_from_db()
    assert hourly.state == ContractState.ACTIVE
    assert hourly.end_proposed_by_id is None
    assert hourly.state_changes.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["fund", "submit", "release"])
def test_someone_not_party_gets_404_for_milestone_actions_and_the_milestone_is_unchanged(
    client, fixed, stranger, action
):
    pending = MilestoneFactory(contract=fixed, title="Pending")
    in_escrow = funded(fixed, 100_00, "Funded")
    milestone = pending if action == "fund" else in_escrow
    signed_in(client, stranger)

    response = client.post(
        reverse("milestone_action", args=[milestone.pk, action]), {"idempotency_key": "k", "note": "Done"}
    )

    assert response.status_code == 404
    assert Milestone.objects.get(pk=pending.pk).state == MilestoneState.PENDING
    assert Milestone.objects.get(pk=in_escrow.pk).state == MilestoneState.FUNDED
    assert escrow_held_cents(in_escrow) == 100_00
    assert Payment.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["approve", "dispute"])
def test_someone_not_party_gets_404_for_refund_request_actions_and_the_request_stays_open(
    client, fixed, stranger, action
):
    milestone = funded(fixed, 100_00)
    services.contract_end(
        contract=fixed,
        by=fixed.client,
        reason="unsuccessful",
        milestone_decisions={milestone.pk: MilestoneDecision(MilestoneChoice.PAY_NOTHING)},
    )
    refund_request = EscrowRefundRequest.objects.get()
    signed_in(client, stranger)

    response = client.post(reverse("refund_request_action", args=[refund_request.pk, action]), {"statement": "No"})

    assert response.status_code == 404
    refund_request.refresh_from_db()
    assert refund_request.state == RefundRequestState.OPEN
    assert refund_request.freelancer_statement == ""
    assert escrow_held_cents(milestone) == 100_00


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


# CSRF.


@pytest.mark.django_db
def test_end_post_without_csrf_token_is_403_and_ends_nothing(hourly):
    DiaryEntryFactory(contract=hourly, minutes=60)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(hourly.freelancer)

    response = browser.post(reverse("contract_end", args=[hourly.pk]), end_form_data())

    assert response.status_code == 403
    hourly.refresh_from_db()
    assert hourly.state == ContractState.ACTIVE
    assert Invoice.objects.count() == 0


@pytest.mark.django_db
def test_refund_post_without_csrf_token_is_403_and_refunds_nothing(hourly):
    payment = hourly_payment(hourly, 100_00, paid_at=timezone.now(), key="pay-1")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(hourly.freelancer)

    response = browser.post(reverse("refund_payment", args=[payment.pk]), refund_data(payment, "10.00"))

    assert response.status_code == 403
    assert Refund.objects.count() == 0


# My Jobs.


@pytest.mark.django_db
def test_my_jobs_shows_25_contracts_20_per_page_newest_first(client, freelancer):
    now = timezone.now()
    for age in range(25):
        HourlyContractFactory(freelancer=freelancer, title=f"Job {age:02d}", started_at=now - timedelta(days=age))
    signed_in(client, freelancer)

    first = client.get(reverse("my_jobs"))
    second = client.get(reverse("my_jobs"), {"page": 2})

    first_titles = re.findall(r">(Job \d\d)</a>", html(first))
    second_titles = re.findall(r">(Job \d\d)</a>", html(second))
    assert first_titles == [f"Job {age:02d}" for age in range(20)]
    assert second_titles == [f"Job {age:02d}" for age in range(20, 25)]
    assert "Page 1 of 2" in text(first)
    assert "Page 2 of 2" in text(second)


@pytest.mark.django_db
def test_my_jobs_filters_active_and_ended_contracts(client, freelancer):
    HourlyContractFactory(freelancer=freelancer, title="Still running")
    finished = HourlyContractFactory(freelancer=freelancer, title="All done")
    services.contract_end(contract=finished, by=freelancer, reason="completed")
    signed_in(client, freelancer)

    active = client.get(reverse("my_jobs"))
    ended = client.get(reverse("my_jobs"), {"status": "ended"})
    everything = client.get(reverse("my_jobs"), {"status": "all"})

    assert re.findall(r">([^<>]+)</a></td>", html(active)) == ["Still running"]
    assert re.findall(r">([^<>]+)</a></td>", html(ended)) == ["All done"]
    assert sorted(re.findall(r">([^<>]+)</a></td>", html(everything))) == ["All done", "Still running"]
    assert "Active (1)" in text(active)
    assert "Ended (1)" in text(active)


@pytest.mark.django_db
def test_my_jobs_rows_show_kind_other_party_state_and_hours_this_week_or_escrow(client, client_user, freelancer):
    now = timezone.now()
    hourly = HourlyContractFactory(client=client_user, freelancer=freelancer, title="Hourly job", started_at=now)
    DiaryEntryFactory(contract=hourly, minutes=135, work_date=now.date())
    fixed = FixedContractFactory(
        client=client_user, freelancer=freelancer, title="Fixed job", started_at=now - timedelta(days=1)
    )
    funded(fixed, 300_00)
    funded(fixed, 1_234_56)
    signed_in(client, freelancer)

    response = client.get(reverse("my_jobs"))

    rows = [text_of(row) for row in re.findall(r"<tr>\s*<td data-label=\"Contract\">.*?</tr>", html(response), re.S)]
    assert rows == [
        f"Hourly job Hourly Freelancer Ada Lovelace Active 2:15 h this week {day(hourly.started_at)}",
        f"Fixed job Fixed-price Freelancer Ada Lovelace Active $1,534.56 in escrow {day(fixed.started_at)}",
    ]


@pytest.mark.django_db
def test_my_jobs_shows_the_freelancer_as_other_party_to_the_client(client, client_user, freelancer):
    HourlyContractFactory(client=client_user, freelancer=freelancer, title="Hourly job")
    signed_in(client, client_user)

    response = client.get(reverse("my_jobs"))

    row = text_of(section(response, 'data-label="Contract"', "</tr>"))
    assert "Client Grace Hopper Active" in row


# The contract page.


@pytest.mark.django_db
def test_contract_page_shows_terms_with_money_as_dollars_and_cents(client, client_user, freelancer):
    contract = HourlyContractFactory(
        client=client_user, freelancer=freelancer, hourly_rate_cents=1_234_56, weekly_hour_limit=30, notice_days=0
    )
    DiaryEntryFactory(contract=contract, minutes=90, work_date=timezone.now().date())
    signed_in(client, client_user)

    response = client.get(reverse("contract_detail", args=[contract.pk]))

    terms = text_of(section(response, "<h2>Terms</h2>", "</dl>"))
    assert terms == "Terms Kind Hourly Rate $1,234.56 an hour Weekly limit 30 hours Notice period None: ends at once"
    diary = text_of(section(response, 'id="diary-summary"', "</dl>"))
    # 1:30 h at $1,234.56/h = $1,851.84
    assert "This week 1:30 h Not yet invoiced 1:30 h · $1,851.84 All time 1:30 h" in diary
    assert "you are the client; freelancer Grace Hopper" in text(response)


@pytest.mark.django_db
def test_fixed_contract_page_shows_milestone_amounts_and_escrow_in_dollars(client, fixed):
    MilestoneFactory(contract=fixed, title="Sketches", amount_cents=1_234_56, position=1)
    final = funded(fixed, 250_00, "Final files")
    Milestone.objects.filter(pk=final.pk).update(position=2)
    signed_in(client, fixed.client)

    response = client.get(reverse("contract_detail", args=[fixed.pk]))

    rows = [text_of(row) for row in re.findall(r'<tr id="milestone-\d+">.*?</tr>', html(response), re.S)]
    assert rows[0].startswith("1 Sketches $1,234.56 $0.00 Not funded Fund $1,234.56")
    assert rows[1].startswith("2 Final files $250.00 $250.00 Funded (in escrow)")
    assert "Release payment" in rows[1]
    assert "Notice period None: ends at once" in text(response)


@pytest.mark.django_db
def test_client_of_an_hourly_contract_sees_pause_in_the_menu_and_the_freelancer_does_not(client, hourly):
    signed_in(client, hourly.client)
    client_menu = text_of(options_menu(client.get(reverse("contract_detail", args=[hourly.pk]))))
    signed_in(client, hourly.freelancer)
    freelancer_menu = text_of(options_menu(client.get(reverse("contract_detail", args=[hourly.pk]))))

    assert client_menu == "… Pause contract Propose ending by mutual agreement End contract"
    assert freelancer_menu == "… Propose ending by mutual agreement End contract"


@pytest.mark.django_db
def test_fixed_price_contract_menu_has_no_pause(client, fixed):
    signed_in(client, fixed.client)

    menu = text_of(options_menu(client.get(reverse("contract_detail", args=[fixed.pk]))))

    assert menu == "… Propose ending by mutual agreement End contract"


@pytest.mark.django_db
def test_paused_contract_menu_offers_resume_to_the_client(client, hourly):
    services.contract_pause(contract=hourly, by=hourly.client)
    signed_in(client, hourly.client)

    menu = text_of(options_menu(client.get(reverse("contract_detail", args=[hourly.pk]))))

    assert menu == "… Resume contract Propose ending by mutual agreement End contract"


@pytest.mark.django_db
@pytest.mark.parametrize("party", ["client", "freelancer"])
def test_nobody_sees_end_contract_on_an_ended_contract(client, hourly, party):
    services.contract_end(contract=hourly, by=hourly.freelancer, reason="completed")
    signed_in(client, getattr(hourly, party))

    response = client.get(reverse("contract_detail", args=[hourly.pk]))

    assert options_menu(response) == ""
    assert "End contract" not in html(response)
    assert reverse("contract_end", args=[hourly.pk]) not in html(response)


@pytest.mark.django_db
def test_with_a_notice_period_the_menu_end_contract_leads_to_giving_notice(client, client_user, freelancer):
    contract = HourlyContractFactory(client=client_user, freelancer=freelancer, notice_days=7)
    signed_in(client, freelancer)

    menu = options_menu(client.get(reverse("contract_detail", args=[contract.pk])))
    end_page = client.get(reverse("contract_end", args=[contract.pk]))

    assert f'href="{reverse("contract_end", args=[contract.pk])}"' in menu
    assert "End contract" in text_of(menu)
    assert end_page.status_code == 200
    assert "End contract: give notice" in text(end_page)
    assert "Notice period: 7 days." in text(end_page)
    assert re.search(
        r'<button type="submit" name="confirm" value="1" class="danger">Give notice</button>', html(end_page)
    )
    assert end_page.context["form"]["plan_transition"].value() == "give_notice"


@pytest.mark.django_db
def test_giving_notice_through_the_end_page_starts_the_notice_period(client, client_user, freelancer):
    contract = HourlyContractFactory(client=client_user, freelancer=freelancer, notice_days=7)
    signed_in(client, freelancer)

    response = client.post(
        reverse("contract_end", args=[contract.pk]), end_form_data(transition="give_notice"), follow=True
    )

    contract.refresh_from_db()
    assert contract.state == ContractState.ENDING
    assert contract.notice_given_by == freelancer
    assert messages_of(response) == [
        f"Notice given: the contract ends on {contract.notice_effective_at:%Y-%m-%d %H:%M} UTC."
    ]
    assert "Withdraw notice" in text_of(options_menu(response))


@pytest.mark.django_db
def test_private_end_reason_is_shown_only_to_the_party_who_gave_it(client, hourly):
    services.contract_end(contract=hourly, by=hourly.freelancer, reason="not_responsive", note="Gone for weeks")
    signed_in(client, hourly.freelancer)
    own = client.get(reverse("contract_detail", args=[hourly.pk]))
    signed_in(client, hourly.client)
    other = client.get(reverse("contract_detail", args=[hourly.pk]))

    assert "Your private reason: The other party was not responsive." in text(own)
    history = text_of(section(own, 'id="history"', "</section>"))
    assert "Grace Hopper: contract end (active → ended): private reason: The other party was not responsive" in history

    assert "The other party was not responsive" not in html(other)
    assert "private reason" not in html(other).lower()
    assert "Gone for weeks" not in html(other)
    other_history = text_of(section(other, 'id="history"', "</section>"))
    assert "Grace Hopper: contract end (active → ended)" in other_history
    assert "not_responsive" not in other_history


@pytest.mark.django_db
def test_private_reason_for_giving_notice_is_hidden_from_the_other_party(client, client_user, freelancer):
    contract = HourlyContractFactory(client=client_user, freelancer=freelancer, notice_days=7)
    services.contract_give_notice(contract=contract, by=client_user, reason="unsuccessful", note="Poor quality")
    signed_in(client, freelancer)

    response = client.get(reverse("contract_detail", args=[contract.pk]))

    history = text_of(section(response, 'id="history"', "</section>"))
    assert "Ada Lovelace: contract give notice (active → ending)" in history
    assert "Job completed unsuccessfully" not in html(response)
    assert "unsuccessful" not in history
    assert "Poor quality" not in html(response)


@pytest.mark.django_db
def test_private_end_note_of_a_client_ending_a_fixed_contract_is_not_shown_to_the_freelancer(client, fixed):
    milestone = funded(fixed, 100_00)
    services.contract_end(
        contract=fixed,
        by=fixed.client,
        reason="unsuccessful",
        note="Private: I found someone cheaper",
        milestone_decisions={milestone.pk: MilestoneDecision(MilestoneChoice.PAY_NOTHING)},
    )
    signed_in(client, fixed.freelancer)

    response = client.get(reverse("contract_detail", args=[fixed.pk]))

    assert "Job completed unsuccessfully" not in html(response)
    assert "I found someone cheaper" not in html(response)


# The End-contract page.


@pytest.mark.django_db
def test_end_page_previews_the_hours_and_amount_to_be_billed(client, hourly):
    DiaryEntryFactory(contract=hourly, minutes=90)
    DiaryEntryFactory(contract=hourly, minutes=45)
    signed_in(client, hourly.freelancer)

    response = client.get(reverse("contract_end", args=[hourly.pk]))

    assert response.status_code == 200
    preview = text_of(section(response, 'id="preview-hours"', "</li>"))
    # 2:15 h at $50.00/h = $112.50; the client's 5% fee is $5.63.
    assert preview == ("Hours billed: 2:15 h at $50.00/h = $112.50 (the client also pays a $5.63 marketplace fee).")
    assert "Ending is final." in text(response)
    assert response.context["form"]["state"].value() == "active"
    assert response.context["form"]["plan_transition"].value() == "end"


@pytest.mark.django_db
def test_end_without_a_reason_is_refused_with_the_error_and_keeps_the_typed_note(client, hourly):
    signed_in(client, hourly.freelancer)

    response = client.post(reverse("contract_end", args=[hourly.pk]), end_form_data(reason="", note="Thanks, all done"))

    assert response.status_code == 400
    assert "Choose a reason for ending the contract." in text(response)
    assert "Thanks, all done</textarea>" in html(response)
    hourly.refresh_from_db()
    assert hourly.state == ContractState.ACTIVE


@pytest.mark.django_db
def test_end_with_a_reason_ends_the_contract_and_redirects_with_a_success_message(client, hourly):
    DiaryEntryFactory(contract=hourly, minutes=90)
    signed_in(client, hourly.freelancer)

    response = client.post(reverse("contract_end", args=[hourly.pk]), end_form_data(note="Bye"))

    assert response.status_code == 302
    assert response.url == reverse("contract_detail", args=[hourly.pk])
    hourly.refresh_from_db()
    assert hourly.state == ContractState.ENDED
    assert (hourly.ended_by, hourly.end_reason, hourly.end_reason_note) == (hourly.freelancer, "completed", "Bye")
    assert Invoice.objects.get(contract=hourly).amount_cents == 75_00
    page = client.get(response.url)
    assert messages_of(page) == ["The contract has ended."]


@pytest.mark.django_db
def test_posting_the_end_form_twice_says_ending_is_final_and_bills_once(client, hourly):
    DiaryEntryFactory(contract=hourly, minutes=90)
    signed_in(client, hourly.freelancer)
    url = reverse("contract_end", args=[hourly.pk])

    first = client.post(url, end_form_data(), follow=True)
    response = client.post(url, end_form_data(), follow=True)

    assert messages_of(first) == ["The contract has ended."]
    assert messages_of(response) == [ALREADY_ENDED]
    assert Invoice.objects.filter(contract=hourly).count() == 1
    assert Payment.objects.filter(contract=hourly).count() == 1
    assert hourly.state_changes.filter(transition="end").count() == 1


@pytest.mark.django_db
def test_the_other_party_posting_an_end_form_after_the_end_is_told_ending_is_final(client, hourly):
    DiaryEntryFactory(contract=hourly, minutes=90)
    services.contract_end(contract=hourly, by=hourly.freelancer, reason="completed")
    signed_in(client, hourly.client)

    response = client.post(reverse("contract_end", args=[hourly.pk]), end_form_data(), follow=True)

    assert messages_of(response) == [ALREADY_ENDED]
    assert Invoice.objects.filter(contract=hourly).count() == 1
    hourly.refresh_from_db()
    assert hourly.ended_by == hourly.freelancer


@pytest.mark.django_db
def test_stale_end_page_after_the_client_paused_is_409_and_ends_nothing(client, hourly):
    signed_in(client, hourly.freelancer)
    opened = client.get(reverse("contract_end", args=[hourly.pk]))
    services.contract_pause(contract=hourly, by=hourly.client)

    response = client.post(
        reverse("contract_end", args=[hourly.pk]),
        end_form_data(transition=opened.context["form"]["plan_transition"].value(), state="active"),
    )

    assert response.status_code == 409
    assert STALE_PAGE in text(response)
    assert response.context["form"]["state"].value() == "paused"
    hourly.refresh_from_db()
    assert hourly.state == ContractState.PAUSED


@pytest.mark.django_db
def test_stale_end_page_after_the_other_party_proposed_a_mutual_end_is_409_and_ends_nothing(client, hourly):
    signed_in(client, hourly.freelancer)
    client.get(reverse("contract_end", args=[hourly.pk]))
    services.contract_propose_end(contract=hourly, by=hourly.client)

    response = client.post(reverse("contract_end", args=[hourly.pk]), end_form_data(transition="end"))

    assert response.status_code == 409
    assert STALE_PAGE in text(response)
    assert response.context["form"]["plan_transition"].value() == "accept_end"
    assert "Accept and end contract" in text(response)
    hourly.refresh_from_db()
    assert hourly.state == ContractState.ACTIVE


@pytest.mark.django_db
def test_end_page_posted_after_the_other_party_gave_notice_gives_no_second_notice(client, client_user, freelancer):
    contract = HourlyContractFactory(client=client_user, freelancer=freelancer, notice_days=7)
    signed_in(client, freelancer)
    client.get(reverse("contract_end", args=[contract.pk]))
    services.contract_give_notice(contract=contract, by=client_user, reason="completed")

    response = client.post(reverse("contract_end", args=[contract.pk]), end_form_data(transition="give_notice"))

    # The page read was for giving notice; ending now would cut the client's notice
    # short, so the new preview is shown to read before confirming.
    assert response.status_code == 409
    assert STALE_PAGE in html(response)
    assert "Notice cut short" in html(response)
    contract.refresh_from_db()
    assert contract.state == ContractState.ENDING
    assert contract.notice_given_by == client_user
    assert contract.state_changes.filter(transition="give_notice").count() == 1


@pytest.mark.django_db
def test_htmx_end_request_gets_the_dialog_partial(client, hourly):
    signed_in(client, hourly.freelancer)

    response = client.get(reverse("contract_end", args=[hourly.pk]), headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert html(response).lstrip().startswith("<dialog")
    assert "<html" not in html(response)
    assert 'hx-post="{}"'.format(reverse("contract_end", args=[hourly.pk])) in html(response)


@pytest.mark.django_db
def test_htmx_end_without_reason_shows_the_error_in_the_dialog(client, hourly):
    signed_in(client, hourly.freelancer)

    response = client.post(
        reverse("contract_end", args=[hourly.pk]), end_form_data(reason=""), headers={"HX-Request": "true"}
    )

    assert "<dialog" in html(response)
    assert "Choose a reason for ending the contract." in text(response)
    hourly.refresh_from_db()
    assert hourly.state == ContractState.ACTIVE


@pytest.mark.django_db
def test_htmx_end_success_answers_with_an_hx_redirect_to_the_contract(client, hourly):
    signed_in(client, hourly.freelancer)

    response = client.post(reverse("contract_end", args=[hourly.pk]), end_form_data(), headers={"HX-Request": "true"})

    assert response["HX-Redirect"] == reverse("contract_detail", args=[hourly.pk])
    hourly.refresh_from_db()
    assert hourly.state == ContractState.ENDED


# A client ending a fixed-price contract chooses per milestone.


@pytest.mark.django_db
def test_client_ending_a_fixed_contract_gets_a_choice_for_each_funded_milestone(client, fixed):
    first = funded(fixed, 100_00, "Sketches")
    second = funded(fixed, 200_00, "Final files")
    MilestoneFactory(contract=fixed, title="Never funded")
    signed_in(client, fixed.client)

    response = client.get(reverse("contract_end", args=[fixed.pk]))

    page = html(response)
    for milestone in (first, second):
        for value in ("full", "part", "nothing"):
            assert f'name="milestone_{milestone.pk}_choice" value="{value}"' in page
        assert f'name="milestone_{milestone.pk}_amount"' in page
    assert "“Sketches”: $100.00 in escrow" in text(response)
    assert "“Never funded” was never funded and is cancelled." in text(response)


@pytest.mark.django_db
def test_freelancer_ending_a_fixed_contract_gets_no_milestone_choices_and_escrow_returns(client, fixed):
    milestone = funded(fixed, 100_00, "Sketches")
    signed_in(client, fixed.freelancer)

    response = client.get(reverse("contract_end", args=[fixed.pk]))

    assert f"milestone_{milestone.pk}_choice" not in html(response)
    assert "“Sketches” ($100.00 in escrow): $100.00 returned to the client." in text(response)


@pytest.mark.django_db
def test_client_ending_without_a_milestone_choice_is_refused_with_the_error(client, fixed):
    first = funded(fixed, 100_00, "Sketches")
    second = funded(fixed, 200_00, "Final files")
    signed_in(client, fixed.client)

    response = client.post(
        reverse("contract_end", args=[fixed.pk]), {**end_form_data(), f"milestone_{first.pk}_choice": "full"}
    )

    assert response.status_code == 400
    assert "Choose how much to pay for “Final files”." in text(response)
    fixed.refresh_from_db()
    assert fixed.state == ContractState.ACTIVE
    assert escrow_held_cents(first) == 100_00
    assert escrow_held_cents(second) == 200_00
    assert Payment.objects.count() == 0


@pytest.mark.django_db
def test_client_choosing_pay_part_without_an_amount_is_refused(client, fixed):
    milestone = funded(fixed, 100_00, "Sketches")
    signed_in(client, fixed.client)

    response = client.post(
        reverse("contract_end", args=[fixed.pk]), {**end_form_data(), f"milestone_{milestone.pk}_choice": "part"}
    )

    assert response.status_code == 400
    assert "Enter how much of “Sketches” to pay." in text(response)
    assert Payment.objects.count() == 0


@pytest.mark.django_db
def test_client_paying_part_pays_that_amount_and_asks_the_rest_back_as_a_refund_request(client, fixed):
    first = funded(fixed, 100_00, "Sketches")
    second = funded(fixed, 200_00, "Final files")
    signed_in(client, fixed.client)

    response = client.post(
        reverse("contract_end", args=[fixed.pk]),
        {
            **end_form_data(reason="unsuccessful"),
            f"milestone_{first.pk}_choice": "part",
            f"milestone_{first.pk}_amount": "30.00",
            f"milestone_{second.pk}_choice": "full",
        },
        follow=True,
    )

    assert messages_of(response) == ["The contract has ended."]
    fixed.refresh_from_db()
    assert fixed.state == ContractState.ENDED
    payments = dict(Payment.objects.values_list("milestone_id", "amount_cents"))
    assert payments == {first.pk: 30_00, second.pk: 200_00}
    refund_request = EscrowRefundRequest.objects.get()
    assert (refund_request.milestone_id, refund_request.amount_cents) == (first.pk, 70_00)
    assert refund_request.state == RefundRequestState.OPEN
    assert Milestone.objects.get(pk=first.pk).state == MilestoneState.REFUND_REQUESTED
    assert Milestone.objects.get(pk=second.pk).state == MilestoneState.RELEASED
    assert escrow_held_cents(first) == 70_00


@pytest.mark.django_db
def test_client_preview_with_pay_part_shows_what_is_paid_and_asked_back(client, fixed):
    milestone = funded(fixed, 100_00, "Sketches")
    signed_in(client, fixed.client)

    response = client.post(
        reverse("contract_end", args=[fixed.pk]),
        {
            **end_form_data(),
            "preview": "1",
            f"milestone_{milestone.pk}_choice": "part",
            f"milestone_{milestone.pk}_amount": "30.00",
        },
    )

    assert response.status_code == 200
    assert (
        "“Sketches” ($100.00 in escrow): $30.00 paid to the freelancer; $70.00 asked back as a refund request"
        in text(response)
    )
    fixed.refresh_from_db()
    assert fixed.state == ContractState.ACTIVE


# The work diary.


def diary_data(hours: int, minutes: int, memo: str, work_date=None) -> dict:
    work_date = work_date or timezone.now().date()
    return {"work_date": work_date.isoformat(), "hours": str(hours), "minutes": str(minutes), "memo": memo}


@pytest.mark.django_db
def test_freelancer_adds_time_to_the_diary(client, hourly):
    signed_in(client, hourly.freelancer)

    response = client.post(reverse("diary", args=[hourly.pk]), diary_data(1, 30, "Wrote the endpoints"), follow=True)

    entry = DiaryEntry.objects.get(contract=hourly)
    assert (entry.minutes, entry.memo, entry.work_date) == (90, "Wrote the endpoints", timezone.now().date())
    assert messages_of(response) == ["Time recorded."]
    assert "Wrote the endpoints" in text(response)


@pytest.mark.django_db
def test_freelancer_edits_a_diary_entry(client, hourly):
    entry = DiaryEntryFactory(contract=hourly, minutes=60, memo="First draft")
    signed_in(client, hourly.freelancer)
    url = reverse("diary_entry_edit", args=[hourly.pk, entry.pk])

    form_page = client.get(url)
    response = client.post(url, diary_data(2, 15, "Second draft", entry.work_date), follow=True)

    assert form_page.status_code == 200
    assert 'value="First draft"' in html(form_page)
    entry.refresh_from_db()
    assert (entry.minutes, entry.memo) == (135, "Second draft")
    assert messages_of(response) == ["Diary entry updated."]


@pytest.mark.django_db
def test_freelancer_deletes_a_diary_entry(client, hourly):
    entry = DiaryEntryFactory(contract=hourly, minutes=60)
    signed_in(client, hourly.freelancer)

    response = client.post(reverse("diary_entry_delete", args=[hourly.pk, entry.pk]), follow=True)

    assert not DiaryEntry.objects.filter(pk=entry.pk).exists()
    assert messages_of(response) == ["Diary entry deleted."]


@pytest.mark.django_db
def test_client_cannot_add_time_and_is_told_why(client, hourly):
    signed_in(client, hourly.client)

    response = client.post(reverse("diary", args=[hourly.pk]), diary_data(1, 0, "Client's own time"))

    assert response.status_code == 400
    assert DiaryEntry.objects.count() == 0
    assert "Only the freelancer of this contract can record time in its work diary." in text(response)


@pytest.mark.django_db
def test_client_sees_no_record_form_and_no_edit_links(client, hourly):
    entry = DiaryEntryFactory(contract=hourly, minutes=60)
    signed_in(client, hourly.client)

    response = client.get(reverse("diary", args=[hourly.pk]))

    assert "Record time" not in text(response)
    assert reverse("diary_entry_edit", args=[hourly.pk, entry.pk]) not in html(response)


@pytest.mark.django_db
def test_client_cannot_edit_or_delete_diary_entries(client, hourly):
    entry = DiaryEntryFactory(contract=hourly, minutes=60, memo="Original")
    signed_in(client, hourly.client)

    form_page = client.get(reverse("diary_entry_edit", args=[hourly.pk, entry.pk]), follow=True)
    edit = client.post(
        reverse("diary_entry_edit", args=[hourly.pk, entry.pk]), diary_data(5, 0, "Changed", entry.work_date)
    )
    delete = client.post(reverse("diary_entry_delete", args=[hourly.pk, entry.pk]), follow=True)

    only_freelancer = "Only the freelancer of this contract can record time in its work diary."
    assert form_page.redirect_chain == [(reverse("diary", args=[hourly.pk]), 302)]
    assert messages_of(form_page) == [only_freelancer]
    assert edit.status_code == 400
    assert only_freelancer in text(edit)
    assert messages_of(delete) == [only_freelancer]
    entry.refresh_from_db()
    assert (entry.minutes, entry.memo) == (60, "Original")


@pytest.mark.django_db
def test_time_over_the_weekly_limit_is_refused_and_the_typed_values_are_kept(client, client_user, freelancer):
    contract = HourlyContractFactory(client=client_user, freelancer=freelancer, weekly_hour_limit=2)
    today = timezone.now().date()
    DiaryEntryFactory(contract=contract, minutes=90, work_date=today)
    signed_in(client, freelancer)

    response = client.post(reverse("diary", args=[contract.pk]), diary_data(1, 5, "Extra polishing"))

    monday = today - timedelta(days=today.weekday())
    assert response.status_code == 400
    assert f"This contract allows 2 hours a week; 0:30 hours are left in the week of {monday:%Y-%m-%d}." in text(
        response
    )
    assert 'value="Extra polishing"' in html(response)
    assert re.search(r'name="hours" value="1"', html(response))
    assert re.search(r'name="minutes" value="5"', html(response))
    assert DiaryEntry.objects.filter(contract=contract).count() == 1


@pytest.mark.django_db
def test_diary_refuses_new_time_while_paused(client, hourly):
    services.contract_pause(contract=hourly, by=hourly.client)
    signed_in(client, hourly.freelancer)

    response = client.get(reverse("diary", args=[hourly.pk]))

    assert "This contract is paused: no new time can be recorded now." in text(response)
    assert "Add time" not in text(response)


@pytest.fixture
def ended_with_entry(hourly):
    entry = DiaryEntryFactory(contract=hourly, minutes=60, memo="Before the end")
    services.contract_end(contract=hourly, by=hourly.freelancer, reason="completed")
    hourly.refresh_from_db()
    entry.refresh_from_db()
    return hourly, entry


@pytest.mark.django_db
def test_forged_add_after_the_end_is_refused_as_locked(client, ended_with_entry):
    contract, _entry = ended_with_entry
    signed_in(client, contract.freelancer)

    response = client.post(reverse("diary", args=[contract.pk]), diary_data(1, 0, "After the end"))

    assert response.status_code == 400
    assert DIARY_LOCKED_MESSAGE in text(response)
    assert DiaryEntry.objects.filter(contract=contract).count() == 1


@pytest.mark.django_db
def test_forged_edit_after_the_end_is_refused_as_locked(client, ended_with_entry):
    contract, entry = ended_with_entry
    signed_in(client, contract.freelancer)
    url = reverse("diary_entry_edit", args=[contract.pk, entry.pk])

    opened = client.get(url, follow=True)
    response = client.post(url, diary_data(3, 0, "Padded", entry.work_date))

    assert messages_of(opened) == [DIARY_LOCKED_MESSAGE]
    assert response.status_code == 400
    assert DIARY_LOCKED_MESSAGE in text(response)
    entry.refresh_from_db()
    assert (entry.minutes, entry.memo) == (60, "Before the end")


@pytest.mark.django_db
def test_forged_delete_after_the_end_is_refused_as_locked(client, ended_with_entry):
    contract, entry = ended_with_entry
    signed_in(client, contract.freelancer)

    response = client.post(reverse("diary_entry_delete", args=[contract.pk, entry.pk]), follow=True)

    assert messages_of(response) == [DIARY_LOCKED_MESSAGE]
    assert DiaryEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
def test_locked_diary_page_shows_locked_and_no_edit_or_delete_links(client, ended_with_entry):
    contract, entry = ended_with_entry
    signed_in(client, contract.freelancer)

    response = client.get(reverse("diary", args=[contract.pk]))

    assert response.status_code == 200
    assert '<span class="tag locked">Locked</span>' in html(response)
    assert "This diary is locked" in text(response)
    assert "Before the end" in text(response)
    assert reverse("diary_entry_edit", args=[contract.pk, entry.pk]) not in html(response)
    assert reverse("diary_entry_delete", args=[contract.pk, entry.pk]) not in html(response)
    assert "Add time" not in text(response)


@pytest.mark.django_db
def test_fixed_contract_has_no_diary_page(client, fixed):
    signed_in(client, fixed.freelancer)

    response = client.get(reverse("diary", args=[fixed.pk]), follow=True)

    assert response.redirect_chain == [(reverse("contract_detail", args=[fixed.pk]), 302)]
    assert messages_of(response) == ["Fixed-price contracts have milestones, not a work diary."]


# The refunds page.


def payment_row(response, payment) -> str:
    return section(response, f'<tr id="payment-{payment.pk}">', "</tr>")


def refund_form(response) -> str:
    """The refund form of the preview (page or dialog), with its figures."""
    return section(response, 'class="refund-form"', "</form>")


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


# Milestone buttons.


def milestone_post(client, milestone, action: str, data=None):
    return client.post(reverse("milestone_action", args=[milestone.pk, action]), data or {}, follow=True)


@pytest.mark.django_db
def test_client_funds_a_milestone(client, fixed):
    milestone = MilestoneFactory(contract=fixed, title="Sketches", amount_cents=1_234_56)
    signed_in(client, fixed.client)

    response = milestone_post(client, milestone, "fund")

    assert response.redirect_chain == [(reverse("contract_detail", args=[fixed.pk]), 302)]
    assert messages_of(response) == ["“Sketches” is funded: $1,234.56 is in escrow."]
    assert Milestone.objects.get(pk=milestone.pk).state == MilestoneState.FUNDED
    assert escrow_held_cents(milestone) == 1_234_56


@pytest.mark.django_db
def test_freelancer_submits_work_for_a_funded_milestone(client, fixed):
    milestone = funded(fixed, 100_00, "Sketches")
    signed_in(client, fixed.freelancer)

    response = milestone_post(client, milestone, "submit", {"note": "Three options attached"})

    assert messages_of(response) == ["Work for “Sketches” is submitted; the client has 14 days to review it."]
    milestone.refresh_from_db()
    assert (milestone.state, milestone.submission_note) == (MilestoneState.SUBMITTED, "Three options attached")
    assert "Three options attached" in text(response)


@pytest.mark.django_db
def test_client_releases_the_full_escrow_of_a_milestone(client, fixed):
    milestone = funded(fixed, 100_00, "Sketches")
    signed_in(client, fixed.client)

    response = milestone_post(client, milestone, "release", release_data(milestone, "100.00"))

    assert messages_of(response) == ["$100.00 paid to the freelancer for “Sketches”."]
    assert Milestone.objects.get(pk=milestone.pk).state == MilestoneState.RELEASED
    assert escrow_held_cents(milestone) == 0
    assert Payment.objects.get().amount_cents == 100_00


@pytest.mark.django_db
def test_client_releases_part_of_a_milestone_and_the_rest_stays_in_escrow(client, fixed):
    milestone = funded(fixed, 100_00, "Sketches")
    signed_in(client, fixed.client)

    confirmation = release_data(milestone, "40.00")
    response = milestone_post(client, milestone, "release", confirmation)
    again = milestone_post(client, milestone, "release", confirmation)

    assert messages_of(response) == ["$40.00 paid to the freelancer for “Sketches”."]
    assert messages_of(again) == ["$40.00 paid to the freelancer for “Sketches”."]
    assert Milestone.objects.get(pk=milestone.pk).state == MilestoneState.FUNDED
    assert escrow_held_cents(milestone) == 60_00
    assert list(Payment.objects.values_list("amount_cents", flat=True)) == [40_00]


@pytest.mark.django_db
def test_release_of_more_than_the_escrow_is_refused_with_the_amount_held(client, fixed):
    milestone = funded(fixed, 100_00, "Sketches")
    signed_in(client, fixed.client)

    response = milestone_post(client, milestone, "release", release_data(milestone, "100.01"))

    assert messages_of(response) == ["Enter an amount above $0.00 and at most $100.00, the amount in escrow."]
    assert Payment.objects.count() == 0


@pytest.mark.django_db
def test_freelancer_cannot_fund_and_gets_the_rules_message(client, fixed):
    milestone = MilestoneFactory(contract=fixed)
    signed_in(client, fixed.freelancer)

    response = milestone_post(client, milestone, "fund")

    assert messages_of(response) == ["Only the client of this contract can do this."]
    assert Milestone.objects.get(pk=milestone.pk).state == MilestoneState.PENDING
    assert escrow_held_cents(milestone) == 0


@pytest.mark.django_db
def test_client_cannot_submit_work_and_gets_the_rules_message(client, fixed):
    milestone = funded(fixed, 100_00)
    signed_in(client, fixed.client)

    response = milestone_post(client, milestone, "submit", {"note": "Done?"})

    assert messages_of(response) == ["Only the freelancer of this contract can do this."]
    assert Milestone.objects.get(pk=milestone.pk).state == MilestoneState.FUNDED


@pytest.mark.django_db
@pytest.mark.parametrize("amount", ["", "40.00"])
def test_freelancer_cannot_release_and_gets_the_rules_message(client, fixed, amount):
    milestone = funded(fixed, 100_00)
    signed_in(client, fixed.freelancer)

    response = milestone_post(client, milestone, "release", release_data(milestone, amount))

    assert messages_of(response) == ["Only the client of this contract can do this."]
    assert escrow_held_cents(milestone) == 100_00
    assert Payment.objects.count() == 0


@pytest.mark.django_db
def test_milestone_of_an_ended_contract_cannot_be_funded(client, fixed):
    milestone = MilestoneFactory(contract=fixed)
    funded_one = funded(fixed, 100_00)
    services.contract_end(contract=fixed, by=fixed.freelancer, reason="completed")
    other = MilestoneFactory(contract=fixed)
    signed_in(client, fixed.client)

    response = milestone_post(client, other, "fund")

    assert messages_of(response) == ["This contract has ended, so its milestones can no longer change this way."]
    assert Milestone.objects.get(pk=milestone.pk).state == MilestoneState.CANCELLED
    assert Milestone.objects.get(pk=funded_one.pk).state == MilestoneState.REFUNDED
    assert Milestone.objects.get(pk=other.pk).state == MilestoneState.PENDING


@pytest.mark.django_db
def test_freelancer_approves_a_refund_request_and_the_escrow_goes_back(client, fixed):
    milestone = funded(fixed, 100_00, "Sketches")
    services.contract_end(
        contract=fixed,
        by=fixed.client,
        reason="unsuccessful",
        milestone_decisions={milestone.pk: MilestoneDecision(MilestoneChoice.PAY_PART, 30_00)},
    )
    refund_request = EscrowRefundRequest.objects.get()
    signed_in(client, fixed.freelancer)

    response = client.post(reverse("refund_request_action", args=[refund_request.pk, "approve"]), follow=True)

    assert messages_of(response) == ["Refund approved: $70.00 goes back to the client."]
    refund_request.refresh_from_db()
    assert refund_request.state == RefundRequestState.APPROVED
    assert escrow_held_cents(milestone) == 0


@pytest.mark.django_db
def test_client_cannot_answer_their_own_refund_request(client, fixed):
    milestone = funded(fixed, 100_00, "Sketches")
    services.contract_end(
        contract=fixed,
        by=fixed.client,
        reason="unsuccessful",
        milestone_decisions={milestone.pk: MilestoneDecision(MilestoneChoice.PAY_NOTHING)},
    )
    refund_request = EscrowRefundRequest.objects.get()
    signed_in(client, fixed.client)

    response = client.post(reverse("refund_request_action", args=[refund_request.pk, "approve"]), follow=True)

    assert messages_of(response) == ["Only the freelancer of this contract can answer a refund request."]
    refund_request.refresh_from_db()
    assert refund_request.state == RefundRequestState.OPEN
    assert escrow_held_cents(milestone) == 100_00


@pytest.mark.django_db
def test_contract_page_lists_payments_20_at_a_time_newest_first_with_links_to_older(client, hourly):
    now = timezone.now()
    for day in range(25):
        hourly_payment(hourly, 10_00 + day, paid_at=now - timedelta(days=day, hours=1), key=f"page-{day}")
    signed_in(client, hourly.freelancer)
    url = reverse("contract_detail", args=[hourly.pk])

    first = html(client.get(url))
    second = html(client.get(url, {"payments_page": 2}))

    assert "Payments 1–20 of 25" in first and "?payments_page=2#payments" in first
    assert "$10.00" in first and "$10.19" in first and "$10.20" not in first
    assert "Payments 21–25 of 25" in second and "?payments_page=1#payments" in second
    assert "$10.20" in second and "$10.24" in second and "$10.19" not in second

"""The admin's *Force end* action asks first (issue 13, "The admin as a package"): like
Django's delete confirmation, a page shows each selected contract's end plan (hours
billed and their amount, escrow returned per milestone, refund requests, the reason
typed), computed by the code that force-ends, and lists the contracts it cannot end
with the reason. Only the page's confirmation, a POST of the same selection and reason
with its CSRF token, ends anything; cancelling moves nothing."""

from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
import time_machine
from django.urls import reverse

from billing.models import Invoice, LedgerTransaction
from billing.selectors import escrow_held_cents
from contracts import services
from contracts.models import ContractState, EndKind, Milestone, MilestoneState, StateChange
from contracts.services.ending import contract_force_end_preview
from tests.factories import (
    DiaryEntryFactory,
    FixedContractFactory,
    HourlyContractFactory,
    MilestoneFactory,
    UserFactory,
)
from tests.fixtures.contracts import fresh, funded
from tests.fixtures.pages import browser_for, html, messages_of, text_of
from tests.fixtures.people import with_permission

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
CHANGELIST = "admin:contracts_contract_changelist"
CONFIRMATION_TEMPLATE = "admin/contracts/contract/force_end_confirmation.html"
REASON = "Account suspended: payment outside the platform"


@pytest.fixture(autouse=True)
def at_a_fixed_moment():
    with time_machine.travel(NOW, tick=False):
        yield


def staff_with(*codenames: str):
    user = UserFactory(is_staff=True)
    for codename in codenames:
        user = with_permission(user, codename)
    return user


def force_end_admin():
    """Staff who may see and change contracts in the admin and force them to end."""
    return staff_with("force_end_contract", "view_contract", "change_contract")


def ask_to_force_end(browser, contracts, reason: str = REASON, path: str = ""):
    """The changelist's action bar sent: *Force end* on ``contracts`` with ``reason``."""
    return browser.post(
        path or reverse(CHANGELIST),
        {"action": "force_end", "_selected_action": [contract.pk for contract in contracts], "reason": reason},
    )


class ConfirmationForm(HTMLParser):
    """The hidden fields of the page's form that carries the action (the admin's header
    has a logout form of its own)."""

    def __init__(self, page: str):
        super().__init__()
        self.forms: list[list[tuple[str, str]]] = []
        self.feed(page)
        self.fields = next(form for form in self.forms if ("action", "force_end") in form)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append([])
        elif tag == "input" and attrs.get("type") == "hidden" and self.forms:
            self.forms[-1].append((attrs["name"], attrs.get("value", "")))

    def values(self, name: str) -> list[str]:
        return [value for field, value in self.fields if field == name]

    def data(self) -> dict:
        return {name: self.values(name) for name, _value in self.fields}


def world():
    """An hourly contract with 2:30 h recorded, a fixed-price one with $250.00 and
    $100.00 in escrow and an unfunded milestone, and one that has already ended."""
    hourly = HourlyContractFactory(title="Backend API", hourly_rate_cents=50_00)
    DiaryEntryFactory(contract=hourly, minutes=150)
    fixed = FixedContractFactory(title="Logo design")
    drafts, final = funded(fixed, 250_00), funded(fixed, 100_00)
    MilestoneFactory(contract=fixed, title="Extra sketches", amount_cents=50_00)
    ended = HourlyContractFactory(title="Old brochure")
    services.contract_end(contract=ended, by=ended.freelancer, reason="completed")
    return hourly, fixed, (drafts, final), fresh(ended)


def moved_rows() -> tuple[int, int, int]:
    return StateChange.objects.count(), LedgerTransaction.objects.count(), Invoice.objects.count()


def test_force_end_confirmation_page_shows_each_contracts_end_plan_and_moves_nothing():
    admin = force_end_admin()
    hourly, fixed, (drafts, final), ended = world()
    before = moved_rows()

    response = ask_to_force_end(browser_for(admin), [hourly, fixed, ended])

    assert response.status_code == 200
    assert CONFIRMATION_TEMPLATE in [template.name for template in response.templates]
    page = html(response)
    text = text_of(page)
    assert "Hours billed: 2:30 h at $50.00/h = $125.00 (the client also pays a $6.25 marketplace fee)." in text
    assert "Work diary: locks now" in text
    assert f"“{drafts.title}” ($250.00 in escrow): $250.00 returned to the client." in text
    assert f"“{final.title}” ($100.00 in escrow): $100.00 returned to the client." in text
    assert "“Extra sketches” was never funded and is cancelled." in text
    assert "Escrow returned to the client: $350.00." in text
    assert "Refund requests: none: the escrow goes straight back to the client" in text
    assert f"Both parties read it in their notification: {REASON}" in text
    refusal = ended.refusal("force_end", admin)
    assert refusal
    assert f"These contracts cannot be force-ended and are skipped: Old brochure (#{ended.pk}): {refusal}" in text
    form = ConfirmationForm(page)
    assert form.values("_selected_action") == [str(hourly.pk), str(fixed.pk)]
    assert form.values("reason") == [REASON] and form.values("post") == ["yes"]
    assert form.values("csrfmiddlewaretoken")

    assert moved_rows() == before
    for contract in (hourly, fixed):
        contract.refresh_from_db()
        assert contract.state == ContractState.ACTIVE
    assert (escrow_held_cents(drafts), escrow_held_cents(final)) == (250_00, 100_00)


def test_the_force_end_preview_is_what_force_ending_then_does():
    admin = force_end_admin()
    hourly, fixed, (drafts, final), _ended = world()
    previews = {contract.pk: contract_force_end_preview(contract=contract, by=admin) for contract in (hourly, fixed)}

    plans = {
        contract.pk: services.contract_force_end(contract=contract, by=admin, reason=REASON)
        for contract in (hourly, fixed)
    }

    for pk, preview in previews.items():
        plan = plans[pk]
        assert (plan.unbilled_minutes, plan.unbilled_cents) == (preview.unbilled_minutes, preview.unbilled_cents)
        assert [(o.milestone.pk, o.return_cents, o.requested_cents) for o in plan.milestones] == [
            (o.milestone.pk, o.return_cents, o.requested_cents) for o in preview.milestones
        ]
    assert hourly.invoices.get().amount_cents == 125_00
    assert (escrow_held_cents(drafts), escrow_held_cents(final)) == (0, 0)


def test_confirming_force_ends_exactly_the_listed_contracts_with_the_reason():
    admin = force_end_admin()
    hourly, fixed, (drafts, final), ended = world()
    untouched = HourlyContractFactory(title="Not selected")
    browser = browser_for(admin, enforce_csrf_checks=True)
    browser.get(reverse(CHANGELIST))
    token = browser.cookies["csrftoken"].value
    page = browser.post(
        reverse(CHANGELIST),
        {
            "action": "force_end",
            "_selected_action": [hourly.pk, fixed.pk, ended.pk],
            "reason": REASON,
            "csrfmiddlewaretoken": token,
        },
    )
    assert page.status_code == 200

    response = browser.post(reverse(CHANGELIST), ConfirmationForm(html(page)).data(), follow=True)

    assert response.redirect_chain == [(reverse(CHANGELIST), 302)]
    assert messages_of(response) == ["2 contracts ended."]
    for contract in (hourly, fixed):
        contract.refresh_from_db()
        assert (contract.state, contract.end_kind, contract.ended_by) == (ContractState.ENDED, EndKind.FORCED, admin)
        assert contract.end_reason_note == REASON
        assert StateChange.objects.filter(contract=contract, transition="force_end", actor=admin).count() == 1
    assert hourly.invoices.get().amount_cents == 125_00
    assert [Milestone.objects.get(pk=m.pk).state for m in (drafts, final)] == [MilestoneState.REFUNDED] * 2
    assert (escrow_held_cents(drafts), escrow_held_cents(final)) == (0, 0)
    untouched.refresh_from_db()
    assert untouched.state == ContractState.ACTIVE
    assert not StateChange.objects.filter(contract=ended, transition="force_end").exists()


def test_the_confirmation_without_its_csrf_token_is_refused_and_moves_nothing():
    admin = force_end_admin()
    hourly, *_ = world()
    browser = browser_for(admin, enforce_csrf_checks=True)
    before = moved_rows()

    response = browser.post(
        reverse(CHANGELIST),
        {"action": "force_end", "_selected_action": [hourly.pk], "reason": REASON, "post": "yes"},
    )

    assert response.status_code == 403
    assert moved_rows() == before
    hourly.refresh_from_db()
    assert hourly.state == ContractState.ACTIVE


def test_cancel_on_the_confirmation_page_goes_back_to_the_filtered_list():
    admin = force_end_admin()
    hourly, *_ = world()
    path = reverse(CHANGELIST) + "?kind__exact=hourly"

    page = html(ask_to_force_end(browser_for(admin), [hourly], path=path))

    assert f'<a href="{path.replace("&", "&amp;")}" class="button cancel-link">No, take me back</a>' in page
    hourly.refresh_from_db()
    assert hourly.state == ContractState.ACTIVE


def test_a_contract_that_ended_after_the_page_was_shown_is_skipped_with_its_reason():
    admin = force_end_admin()
    hourly, fixed, *_ = world()
    form = ConfirmationForm(html(ask_to_force_end(browser_for(admin), [hourly, fixed])))
    services.contract_end(contract=hourly, by=hourly.client, reason="completed")

    response = browser_for(admin).post(reverse(CHANGELIST), form.data(), follow=True)

    hourly.refresh_from_db()
    fixed.refresh_from_db()
    assert (hourly.end_kind, fixed.end_kind) == (EndKind.PARTY, EndKind.FORCED)
    assert messages_of(response) == [f"{hourly}: {hourly.refusal('force_end', admin)}", "1 contract ended."]


def test_when_no_selected_contract_can_be_force_ended_the_page_offers_no_confirmation():
    admin = force_end_admin()
    *_, ended = world()

    page = html(ask_to_force_end(browser_for(admin), [ended]))

    assert "None of the selected contracts can be force-ended" in page
    assert "Yes, force end" not in page
    assert ConfirmationForm(page).values("_selected_action") == []


@pytest.mark.parametrize(
    ("reason", "sentence"),
    [
        ("   ", "Give a reason to force contracts to end."),
        ("Suspended\x00", "The reason contains a character that cannot be stored (NUL)."),
        ("x" * 2001, "Keep the reason to 2000 characters (it has 2001)."),
    ],
    ids=["blank", "nul", "too-long"],
)
@pytest.mark.parametrize("step", ["page", "confirmation"])
def test_a_missing_or_bad_reason_is_refused_with_a_sentence_and_moves_nothing(reason, sentence, step):
    admin = force_end_admin()
    hourly, *_ = world()
    before = moved_rows()
    data = {"action": "force_end", "_selected_action": [hourly.pk], "reason": reason}
    if step == "confirmation":
        data["post"] = "yes"

    response = browser_for(admin).post(reverse(CHANGELIST), data, follow=True)

    assert response.redirect_chain == [(reverse(CHANGELIST), 302)]
    assert messages_of(response) == [sentence]
    assert moved_rows() == before


@pytest.mark.parametrize(
    "who",
    [
        lambda: staff_with("view_contract", "change_contract"),
        lambda: staff_with("review_flags"),
    ],
    ids=["staff", "reviewer"],
)
def test_a_user_without_the_force_end_permission_gets_no_action_and_ends_nothing(who):
    user = who()
    hourly, *_ = world()
    browser = browser_for(user)
    before = moved_rows()

    changelist = browser.get(reverse(CHANGELIST))
    assert changelist.status_code == 200
    assert "Old brochure" in html(changelist)
    assert 'value="force_end"' not in html(changelist)
    for extra in ({}, {"post": "yes"}):
        response = browser.post(
            reverse(CHANGELIST), {"action": "force_end", "_selected_action": [hourly.pk], "reason": REASON, **extra}
        )
        assert response.status_code in (200, 302)
        assert CONFIRMATION_TEMPLATE not in [template.name for template in response.templates]

    assert moved_rows() == before
    hourly.refresh_from_db()
    assert hourly.state == ContractState.ACTIVE

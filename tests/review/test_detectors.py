"""Circumvention detectors (contracts/detection.py): what the text detector finds and
what it must leave alone, each detector through the event that really triggers it
(with the flag's rule, subject, contract, explanation and evidence), the thresholds
of contracts_portal/settings/policy.py, flags living and dying with the event's
transaction, and the registry (one function and one ``@detector`` line).

Policy: a quick end is at most 7 days after the start; a quick refund is at least 80%
of a payment within 7 days of it."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import transaction

from billing.models import Payment
from contracts import services
from contracts.detection import DETECTORS, FlagDraft, detector, off_platform_matches
from contracts.models import (
    CLIENT_RATES_FREELANCER,
    ContractState,
    EscrowRefundRequest,
    Flag,
    FlagRule,
    StateChange,
)
from contracts.services import MilestoneChoice, MilestoneDecision
from contracts_portal.errors import DomainError
from tests.factories import FixedContractFactory, HourlyContractFactory, MilestoneFactory, UserFactory
from tests.fixtures.contracts import fresh, funded
from tests.fixtures.money import refund

NOW = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)


# Helpers.


def started(days_ago: float, **kwargs):
    """A fixed-price contract that started ``days_ago`` before NOW, with $100 funded then."""
    with time_machine.travel(NOW - timedelta(days=days_ago), tick=False):
        contract = FixedContractFactory(started_at=NOW - timedelta(days=days_ago), **kwargs)
        funded(contract)
    return contract


def freelancer_ends(contract, *, at=NOW, note: str = ""):
    with time_machine.travel(at, tick=False):
        return services.contract_end(contract=contract, by=contract.freelancer, reason="other", note=note)


def paid(amount_cents: int = 100_00, *, at=NOW) -> Payment:
    """A $100 milestone of an active fixed-price contract, released (paid) at ``at``."""
    contract = FixedContractFactory()
    with time_machine.travel(at, tick=False):
        milestone = funded(contract, amount_cents)
        return services.milestone_release(milestone=milestone, by=contract.client)


def flags(rule: str | None = None):
    queryset = Flag.objects.all()
    return list(queryset if rule is None else queryset.filter(rule=rule))


def kinds(text: str) -> set[str]:
    return {kind for kind, _ in off_platform_matches(text)}


# What the text detector finds.


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("Send the rest by PayPal please", "PayPal"),
        ("my paypal is the same as my name", "paypal"),
        ("Venmo works for me", "Venmo"),
        ("I can take Zelle", "Zelle"),
        ("Payoneer is cheaper", "Payoneer"),
        ("Skrill, if you have it", "Skrill"),
        ("Western Union is fine", "Western Union"),
        ("send it over Cash App", "Cash App"),
        ("Revolut to Revolut is instant", "Revolut"),
        ("TransferWise has low fees", "TransferWise"),
        ("I can pay via Wise tomorrow", "via Wise"),
        ("pay in bitcoin and we both save", "bitcoin"),
        ("USDT on Tron is fastest", "USDT"),
    ],
)
def test_payment_services_are_found(text, matched):
    assert ("payment service", matched) in off_platform_matches(text)


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("Could you pay me directly next time?", "pay me directly"),
        ("Let's pay outside the platform", "pay outside"),
        ("Everything else outside the platform, ok?", "outside the platform"),
        ("That way we avoid the fees", "avoid the fees"),
        ("A bank transfer is easiest", "bank transfer"),
        ("I'll send a wire transfer on Friday", "wire transfer"),
        ("Here is my IBAN for the rest", "IBAN"),
    ],
)
def test_payment_language_is_found(text, matched):
    assert ("payment outside the platform", matched) in off_platform_matches(text)


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("Add me on WhatsApp", "WhatsApp"),
        ("I'm on Telegram as @gary", "Telegram"),
        ("Skype me after lunch", "Skype"),
        ("Do you use WeChat?", "WeChat"),
        ("signal me when it's ready", "signal me"),
    ],
)
def test_messaging_apps_are_found(text, matched):
    assert ("messaging app", matched) in off_platform_matches(text)


@pytest.mark.parametrize(
    "address", ["gary@example.com", "first.last+work@mail.example.co.uk", "g_99@sub-domain.example.org"]
)
def test_email_addresses_are_found(address):
    assert off_platform_matches(f"Write to {address} for the files.") == [("e-mail address", address)]


@pytest.mark.parametrize(
    "number",
    [
        "+1 415 555 0132",
        "(415) 555-0132",
        "415-555-0132",
        "07700 900123",
        "+44 7700 900123",
        "+33 6 12 34 56 78",
        "06.12.34.56.78",  # French, with dots
    ],
)
def test_phone_numbers_are_found(number):
    assert off_platform_matches(f"Call me on {number} tonight.") == [("phone number", number)]


def test_a_phone_number_right_after_a_date_is_still_found():
    assert off_platform_matches("From 2026-11-22 07700 900123 is my number.") == [("phone number", "07700 900123")]


def test_every_sign_in_one_text_is_listed_with_its_kind():
    text = "Pay me directly on PayPal, or WhatsApp me on +44 7700 900123, or gary@example.com."
    assert off_platform_matches(text) == [
        ("payment service", "PayPal"),
        ("payment outside the platform", "Pay me directly"),
        ("messaging app", "WhatsApp"),
        ("e-mail address", "gary@example.com"),
        ("phone number", "+44 7700 900123"),
    ]


# What the text detector must leave alone: people write about dates, money, versions,
# numbers of things, and use words that contain a service's name.

INNOCENT = [
    # Dates and times.
    "Delivered on 2026-11-22 as agreed.",
    "The deadline is 22/11/2026.",
    "Call scheduled for Nov 22, 2026 10:30.",
    "Deployed 2026-11-22T10:30:00Z, rolled back at 11:45.",
    "From 2026-11-22 10:30 to 2026-11-22 18:45.",
    "We met on 22.11.2026 at 10:30.",
    "Worked 09:00-17:30 on Tuesday and Thursday.",
    "Sprints 2026-11 and 2026-12 are done.",
    # Money.
    "Invoice total $1,200.00 for the month.",
    "The budget was raised to €950.",
    "The milestone is 1200 USD.",
    "We paid 1,250,000 cents in total.",
    "Revenue of 1 250 000 000 USD was modelled.",
    "Stripe charges 2.9% + 30c per card payment.",
    # Versions, builds and percentages.
    "Shipped v1.2.3 to staging.",
    "Upgraded to release 10.4.12 last night.",
    "Build 2026.11.22.1 passed every check.",
    "Upgraded react@18.2.0 and eslint@9.1.0.",
    "Conversion went up 12.5% to 37.25%.",
    "30% done, 70% left, 100% paid.",
    # Numbers of things.
    "Fixed issue #12345 and #12346.",
    "Merged PR 4521 after review.",
    "Order #100200300 was shipped.",
    "Closed ticket PROJ-123456789.",
    "Invoice INV-2026-000123 was sent.",
    "The dataset has 1,234,567 rows.",
    "The request id is 123e4567-e89b-12d3-a456-426614174000.",
    "Deployed to 192.168.100.200 for testing.",
    "The map is centred on 51.5073509, -0.1277583.",
    "Ran 12 345 678 tests overnight.",
    # Words that contain, or sound like, a service or an app.
    "That was a wise decision.",
    "Choosing Postgres was a wise choice.",
    "Likewise, the tests are green.",
    "Deep experience in signal processing.",
    "The plot twist was telegraphed early.",
    "Built the cash application module for accounts receivable.",
    "We skyped about the design yesterday.",
    # Paying, banks, transfers, e-mail and phones, the portal's way.
    "The app pays out weekly.",
    "Paid in full via the portal.",
    "Payment received through the portal, thanks.",
    "Delivery slipped because of the bank holiday.",
    "Handled the transfer of files to the new server.",
    "Wired up the payment form to the API.",
    "Please email the report through the portal.",
    "Thanks @fiona for the review.",
    "Call me on Monday about the next milestone.",
    "Phone support was quick.",
    "She paid close attention to the brief.",
    "Great communication, would hire again!",
]


@pytest.mark.parametrize("text", INNOCENT)
def test_innocent_sentences_are_not_flagged(text):
    assert off_platform_matches(text) == []


def test_the_innocent_list_has_at_least_30_sentences():
    assert len(set(INNOCENT)) >= 30


# Off-platform contact through each real trigger.


def hourly_ended_by_client():
    contract = HourlyContractFactory()
    with time_machine.travel(NOW, tick=False):
        services.contract_end(contract=contract, by=contract.client, reason="completed")
    return fresh(contract)


def assert_text_flag(flag: Flag, *, subject, contract, source: str, text: str, found: str, source_key: str):
    assert flag.rule == FlagRule.OFF_PLATFORM_CONTACT
    assert flag.subject == subject
    assert flag.contract == contract
    assert flag.explanation == f"{source} on “{contract.title}” contains {found}."
    assert flag.dedupe_key == f"off_platform_contact:{source_key}"
    assert flag.evidence["source"] == source
    assert flag.evidence["text"] == text
    assert flag.evidence["contract_id"] == contract.pk
    assert flag.evidence["contract_url"] == f"/contracts/{contract.pk}/"


@pytest.mark.django_db
def test_a_feedback_comment_with_an_email_address_flags_its_author():
    contract = hourly_ended_by_client()
    comment = "Great work. For the next project write to clara.private@example.net instead."

    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        feedback = services.feedback_submit(
            contract=contract,
            by=contract.client,
            public_comment=comment,
            scores={code: 5 for code, _ in CLIENT_RATES_FREELANCER},
            private_reason="completed",
            private_recommend=9,
        )

    (flag,) = flags()
    assert_text_flag(
        flag,
        subject=contract.client,
        contract=contract,
        source="A feedback comment",
        text=comment,
        found="e-mail address: “clara.private@example.net”",
        source_key=f"feedback:{feedback.pk}",
    )
    assert flag.evidence["matches"] == [{"kind": "e-mail address", "text": "clara.private@example.net"}]


@pytest.mark.django_db
def test_a_milestone_submission_note_with_a_phone_number_flags_the_freelancer():
    contract = FixedContractFactory()
    milestone = funded(contract)
    note = "Files attached; questions? Call +1 415 555 0132."

    services.milestone_submit(milestone=milestone, by=contract.freelancer, note=note)

    (flag,) = flags()
    change = StateChange.objects.get(subject="milestone", transition="submit")
    assert_text_flag(
        flag,
        subject=contract.freelancer,
        contract=contract,
        source="A milestone note",
        text=note,
        found="phone number: “+1 415 555 0132”",
        source_key=f"state-change:{change.pk}",
    )
    assert flag.evidence["matches"] == [{"kind": "phone number", "text": "+1 415 555 0132"}]


@pytest.mark.django_db
def test_a_dispute_statement_asking_for_paypal_flags_the_freelancer():
    contract = FixedContractFactory()
    milestone = funded(contract)
    with time_machine.travel(NOW, tick=False):
        services.contract_end(
            contract=contract,
            by=contract.client,
            reason="unsuccessful",
            milestone_decisions={milestone.pk: MilestoneDecision(MilestoneChoice.PAY_NOTHING)},
        )
    request = EscrowRefundRequest.objects.get(milestone=milestone)
    statement = "The work is done, just pay me on PayPal and we are even."

    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        services.refund_request_dispute(request=request, by=contract.freelancer, statement=statement)

    (flag,) = flags()
    change = StateChange.objects.get(subject="refund request", transition="dispute")
    assert_text_flag(
        flag,
        subject=contract.freelancer,
        contract=contract,
        source="A dispute statement",
        text=statement,
        found="payment service: “PayPal”",
        source_key=f"state-change:{change.pk}",
    )


@pytest.mark.django_db
def test_an_end_note_with_whatsapp_flags_whoever_ended_the_contract():
    contract = HourlyContractFactory()
    note = "Let's continue on WhatsApp, I'll send my number"

    freelancer_ends(contract, note=note)

    (flag,) = flags()
    assert_text_flag(
        flag,
        subject=contract.freelancer,
        contract=contract,
        source="The reason given for ending",
        text=note,
        found="messaging app: “WhatsApp”",
        source_key=f"contract-end:{contract.pk}",
    )


@pytest.mark.django_db
def test_a_proposal_to_end_with_an_email_address_flags_the_proposer():
    contract = HourlyContractFactory()
    services.contract_propose_end(contract=contract, by=contract.client, note="Reach me at boss@example.com")
    (flag,) = flags(FlagRule.OFF_PLATFORM_CONTACT)
    assert (flag.subject, flag.evidence["source"]) == (contract.client, "A proposal note")


@pytest.mark.django_db
def test_a_refund_request_message_with_payment_language_flags_the_client():
    contract = FixedContractFactory()
    milestone = funded(contract)
    services.contract_end(
        contract=contract,
        by=contract.client,
        reason="other",
        milestone_decisions={milestone.pk: MilestoneDecision(MilestoneChoice.PAY_NOTHING)},
        message_to_freelancer="I'll pay you outside the platform instead",
    )
    (flag,) = flags(FlagRule.OFF_PLATFORM_CONTACT)
    assert (flag.subject, flag.evidence["source"]) == (contract.client, "A refund request message")


@pytest.mark.django_db
def test_a_refund_reason_with_venmo_flags_the_freelancer_who_refunded():
    payment = paid()
    refund(payment, 10_00, at=NOW + timedelta(days=1), key="venmo", reason="Returned here, rest over Venmo")
    (flag,) = flags(FlagRule.OFF_PLATFORM_CONTACT)
    assert (flag.subject, flag.evidence["source"]) == (payment.freelancer, "A refund reason")


@pytest.mark.django_db
def test_plain_text_in_every_trigger_raises_no_flag():
    contract = FixedContractFactory()
    milestone = funded(contract)
    services.milestone_submit(milestone=milestone, by=contract.freelancer, note="Release 10.4.12, issue #12345 fixed")
    services.milestone_release(milestone=milestone, by=contract.client)
    hourly = HourlyContractFactory()
    services.contract_end(contract=hourly, by=hourly.client, reason="completed", note="Paid in full via the portal")
    assert flags() == []


@pytest.mark.django_db
def test_a_refused_action_raises_no_flag():
    contract = FixedContractFactory()
    milestone = funded(contract)
    with pytest.raises(DomainError):
        services.milestone_submit(milestone=milestone, by=contract.client, note="WhatsApp +44 7700 900123")
    assert flags() == []


# Quick ends.


@pytest.mark.django_db
def test_a_fixed_price_contract_ended_3_days_after_it_started_with_escrow_returned_is_a_quick_end():
    contract = started(3)

    plan = freelancer_ends(contract)

    assert plan.escrow_returned_cents == 100_00
    (flag,) = flags()
    contract = fresh(contract)
    assert flag.rule == FlagRule.QUICK_END
    assert flag.subject == contract.freelancer
    assert flag.contract == contract
    assert flag.explanation == (
        f"“{contract.title}” ended 3 days after it started; "
        "$100.00 of escrow went back to the client and nothing was paid."
    )
    assert flag.dedupe_key == f"quick_end:{contract.pk}"
    assert flag.evidence == {
        "contract_id": contract.pk,
        "contract_url": f"/contracts/{contract.pk}/",
        "started_at": (NOW - timedelta(days=3)).isoformat(),
        "ended_at": NOW.isoformat(),
        "escrow_returned_cents": 100_00,
        "earlier_contract_ids": [],
    }


@pytest.mark.django_db
def test_a_mutual_quick_end_flags_the_party_who_accepted_it():
    contract = started(2)
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        services.contract_propose_end(contract=contract, by=contract.freelancer)
    with time_machine.travel(NOW, tick=False):
        services.contract_accept_end(contract=contract, by=contract.client, reason="other")
    (flag,) = flags(FlagRule.QUICK_END)
    assert flag.subject == contract.client


@pytest.mark.django_db
def test_a_contract_ended_exactly_7_days_after_it_started_is_still_a_quick_end():
    contract = started(7)
    freelancer_ends(contract)
    assert [flag.rule for flag in flags()] == [FlagRule.QUICK_END]


@pytest.mark.django_db
def test_a_contract_ended_8_days_after_it_started_is_not_a_quick_end():
    contract = started(8)
    freelancer_ends(contract)
    assert fresh(contract).state == ContractState.ENDED
    assert flags() == []


@pytest.mark.django_db
def test_the_quick_end_window_is_the_circumvention_quick_end_days_setting(settings):
    settings.CIRCUMVENTION_QUICK_END_DAYS = 10
    contract = started(8)
    freelancer_ends(contract)
    assert [flag.rule for flag in flags()] == [FlagRule.QUICK_END]


@pytest.mark.django_db
def test_a_quick_end_after_a_payment_is_not_flagged():
    contract = started(3)
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        first = funded(contract, 50_00)
        services.milestone_release(milestone=first, by=contract.client)

    plan = freelancer_ends(contract)

    assert plan.escrow_returned_cents == 100_00
    assert flags() == []


@pytest.mark.django_db
def test_a_quick_end_with_nothing_in_escrow_is_not_flagged():
    with time_machine.travel(NOW - timedelta(days=2), tick=False):
        contract = FixedContractFactory(started_at=NOW - timedelta(days=2))
        MilestoneFactory(contract=contract)  # never funded
    freelancer_ends(contract)
    assert flags() == []


@pytest.mark.django_db
def test_a_quick_end_by_the_client_who_pays_nothing_is_not_a_quick_end_the_escrow_becomes_a_refund_request():
    contract = started(2)
    (milestone,) = contract.milestones.all()
    with time_machine.travel(NOW, tick=False):
        plan = services.contract_end(
            contract=contract,
            by=contract.client,
            reason="other",
            milestone_decisions={milestone.pk: MilestoneDecision(MilestoneChoice.PAY_NOTHING)},
        )
    assert plan.escrow_returned_cents == 0
    assert flags() == []


@pytest.mark.django_db
def test_the_same_pair_ending_quickly_again_is_a_repeated_quick_end_naming_the_earlier_contract():
    first = started(3)
    freelancer_ends(first, at=NOW - timedelta(days=1))
    second = started(2, client=first.client, freelancer=first.freelancer)

    freelancer_ends(second)

    earlier, repeated = Flag.objects.order_by("pk")
    assert (earlier.rule, earlier.contract) == (FlagRule.QUICK_END, first)
    assert repeated.rule == FlagRule.REPEATED_QUICK_END
    assert repeated.subject == first.freelancer
    assert repeated.contract == second
    assert repeated.evidence["earlier_contract_ids"] == [first.pk]
    assert repeated.explanation.endswith(" The same client and freelancer did this before on 1 contract(s).")


@pytest.mark.django_db
def test_a_different_pair_ending_quickly_is_a_plain_quick_end():
    first = started(3)
    freelancer_ends(first, at=NOW - timedelta(days=1))
    other = started(2, client=first.client)  # another freelancer
    freelancer_ends(other)
    assert sorted(flag.rule for flag in flags()) == [FlagRule.QUICK_END, FlagRule.QUICK_END]


@pytest.mark.django_db
def test_a_quick_end_and_an_off_platform_end_note_raise_both_flags():
    contract = started(2)
    freelancer_ends(contract, note="Let's continue on WhatsApp, I'll send my number")
    assert sorted(flag.rule for flag in flags()) == [FlagRule.OFF_PLATFORM_CONTACT, FlagRule.QUICK_END]


# Quick refunds.


@pytest.mark.django_db
def test_refunding_80_percent_within_7_days_is_a_quick_refund():
    payment = paid()
    made = refund(payment, 80_00, at=NOW + timedelta(days=3), key="r1")

    (flag,) = flags()
    assert flag.rule == FlagRule.QUICK_REFUND
    assert flag.subject == payment.freelancer
    assert flag.contract == payment.contract
    assert flag.explanation == (f"$80.00 of the $100.00 payment #{payment.pk} (80%) was refunded within 3 days of it.")
    assert flag.dedupe_key == f"quick_refund:{payment.pk}"
    assert flag.evidence == {
        "payment_id": payment.pk,
        "paid_at": NOW.isoformat(),
        "amount_cents": 100_00,
        "refunded_cents": 80_00,
        "refunded_at": made.created_at.isoformat(),
        "contract_id": payment.contract_id,
        "contract_url": f"/contracts/{payment.contract_id}/",
    }


@pytest.mark.django_db
def test_refunding_79_percent_is_not_a_quick_refund():
    payment = paid()
    refund(payment, 79_00, at=NOW + timedelta(days=1), key="r1")
    assert flags() == []


@pytest.mark.django_db
def test_refunding_80_percent_on_day_8_is_not_a_quick_refund():
    payment = paid()
    refund(payment, 80_00, at=NOW + timedelta(days=8), key="r1")
    assert flags() == []


@pytest.mark.django_db
def test_refunding_80_percent_on_day_7_is_still_a_quick_refund():
    payment = paid()
    refund(payment, 80_00, at=NOW + timedelta(days=7), key="r1")
    assert [flag.rule for flag in flags()] == [FlagRule.QUICK_REFUND]


@pytest.mark.django_db
def test_the_quick_refund_share_is_the_circumvention_quick_refund_percent_setting(settings):
    settings.CIRCUMVENTION_QUICK_REFUND_PERCENT = 50
    payment = paid()
    refund(payment, 50_00, at=NOW + timedelta(days=1), key="r1")
    assert [flag.rule for flag in flags()] == [FlagRule.QUICK_REFUND]


@pytest.mark.django_db
def test_partial_refunds_adding_up_to_85_percent_raise_one_quick_refund_flag():
    payment = paid()
    refund(payment, 40_00, at=NOW + timedelta(days=1), key="r1")
    assert flags() == []
    refund(payment, 40_00, at=NOW + timedelta(days=2), key="r2")  # 80% in all
    refund(payment, 5_00, at=NOW + timedelta(days=3), key="r3")  # 85% in all

    (flag,) = flags()
    assert flag.rule == FlagRule.QUICK_REFUND
    assert flag.evidence["refunded_cents"] == 80_00  # as first found; the flag is not raised again


@pytest.mark.django_db
def test_the_quick_refund_share_is_counted_per_payment():
    small, large = paid(100_00), paid(1_000_00)
    refund(large, 700_00, at=NOW + timedelta(days=1), key="large")  # 70% of the large one
    refund(small, 90_00, at=NOW + timedelta(days=1), key="small")  # 90% of the small one
    (flag,) = flags()
    assert flag.evidence["payment_id"] == small.pk


# Flags live and die with the event's transaction.


@pytest.mark.django_db
def test_a_rolled_back_contract_end_leaves_no_flag():
    contract = started(2)

    with pytest.raises(RuntimeError), transaction.atomic():
        freelancer_ends(contract, note="Add me on WhatsApp")
        assert {flag.rule for flag in flags()} == {FlagRule.QUICK_END, FlagRule.OFF_PLATFORM_CONTACT}
        raise RuntimeError("the request failed after the end")

    assert flags() == []
    assert fresh(contract).state == ContractState.ACTIVE


@pytest.mark.django_db
def test_a_rolled_back_refund_leaves_no_flag():
    payment = paid()
    with pytest.raises(RuntimeError), transaction.atomic():
        refund(payment, 90_00, at=NOW + timedelta(days=1), key="r1", reason="Rest via PayPal")
        assert len(flags()) == 2
        raise RuntimeError("the request failed after the refund")
    assert flags() == []
    assert not payment.refunds.exists()


# The registry.


def test_each_event_has_its_built_in_detectors():
    assert [function.__name__ for function in DETECTORS["text_written"]] == ["off_platform_contact"]
    assert [function.__name__ for function in DETECTORS["contract_ended"]] == ["quick_end_with_escrow_returned"]
    assert [function.__name__ for function in DETECTORS["refund_created"]] == ["quick_large_refund"]


@pytest.fixture
def pineapple_detector():
    """A new detector: one function and one registration."""

    @detector("text_written")
    def pineapple(*, text, author, contract, source, source_key):
        if "pineapple" not in text.lower():
            return []
        return [
            FlagDraft(
                rule=FlagRule.OFF_PLATFORM_CONTACT,
                subject=author,
                contract=contract,
                explanation=f"{source} mentions pineapples.",
                dedupe_key=f"pineapple:{source_key}",
                evidence={"text": text},
            )
        ]

    yield pineapple
    DETECTORS["text_written"].remove(pineapple)


@pytest.mark.django_db
def test_a_detector_registered_with_one_decorator_runs_on_its_event(pineapple_detector):
    assert pineapple_detector in DETECTORS["text_written"]
    contract = FixedContractFactory()
    milestone = funded(contract)

    services.milestone_submit(milestone=milestone, by=contract.freelancer, note="Pineapple logo delivered")

    (flag,) = flags()
    change = StateChange.objects.get(subject="milestone", transition="submit")
    assert flag.dedupe_key == f"pineapple:state-change:{change.pk}"
    assert flag.explanation == "A milestone note mentions pineapples."
    assert flag.subject == contract.freelancer


@pytest.mark.django_db
def test_a_text_with_nothing_for_any_detector_is_left_alone_by_a_new_detector_too(pineapple_detector):
    contract = FixedContractFactory()
    milestone = funded(contract)
    services.milestone_submit(milestone=milestone, by=contract.freelancer, note="Logo delivered")
    assert flags() == []


@pytest.mark.django_db
def test_the_same_event_text_is_flagged_once_per_dedupe_key():
    from contracts.detection import raise_flags

    contract = HourlyContractFactory()
    author = UserFactory()
    context = {
        "text": "paypal",
        "author": author,
        "contract": contract,
        "source": "A test text",
        "source_key": "same",
    }
    first = raise_flags("text_written", **context)
    again = raise_flags("text_written", **context)
    assert first == again
    assert len(flags()) == 1

"""Detectors of possible fee circumvention. Each is one small function registered for
an event; it returns what it found as ``FlagDraft``s and ``raise_flags`` stores them
in the transaction of the event. Adding a detector is one function and one
``@detector(...)`` line.

A ``text_written`` detector is given the text, its author, the contract, where it
was written (``source``) and the event's key; text written on a record without a
contract above it (an offer before it is accepted) comes with ``about`` too: that
record's title and the evidence that leads to it, the contract being None.

Text detectors look for payment services, payment language, e-mail addresses,
phone numbers and messaging apps, written so that ordinary sentences about work,
dates, amounts and versions are left alone (tests/review/test_detectors.py holds
the innocent sentences they must not flag).
"""

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.urls import reverse

from billing.money import format_cents

from .models import Contract, EndKind, Flag, FlagRule

DETECTORS: dict[str, list[Callable]] = defaultdict(list)


def detector(event: str):
    def register(function: Callable) -> Callable:
        DETECTORS[event].append(function)
        return function

    return register


@dataclass(frozen=True)
class FlagDraft:
    rule: str
    subject: object
    contract: Contract | None
    explanation: str
    dedupe_key: str
    evidence: dict = field(default_factory=dict)


def raise_flags(event: str, **context) -> list[Flag]:
    """Run the event's detectors and store what they found: one flag per dedupe key
    (one event, one rule, one person). What the same event shows again, from another
    place, is added to the evidence of its flag rather than raised twice."""
    flags = []
    for function in DETECTORS[event]:
        for draft in function(**context):
            flag, created = Flag.objects.get_or_create(
                dedupe_key=draft.dedupe_key,
                defaults={
                    "rule": draft.rule,
                    "subject": draft.subject,
                    "contract": draft.contract,
                    "explanation": draft.explanation,
                    "evidence": draft.evidence,
                },
            )
            if not created and _add_evidence(flag, draft):
                flag.save(update_fields=["explanation", "evidence"])
            flags.append(flag)
    return flags


def _add_evidence(flag: Flag, draft: FlagDraft) -> bool:
    """Add a place of the same event that the flag's evidence does not hold yet."""
    text, source = draft.evidence.get("text"), draft.evidence.get("source")
    if not text or not source:
        return False
    evidence = flag.evidence
    places = [{"source": evidence.get("source"), "text": evidence.get("text")}, *evidence.get("also_written", [])]
    if any(place["source"] == source and place["text"] == text for place in places):
        return False
    if all(place["text"] != text for place in places):
        flag.explanation = f"{flag.explanation} {draft.explanation}"
    evidence.setdefault("also_written", []).append(
        {"source": source, "text": text, "matches": draft.evidence.get("matches", [])}
    )
    return True


# Text.

PAYMENT_SERVICES = re.compile(
    r"\b(pay\s?pal|venmo|zelle|payoneer|skrill|western\s+union|moneygram|cash\s?app|revolut|"
    r"transferwise|wise\s+transfer|(?:via|through|on|by)\s+wise|bitcoin|btc|usdt|ethereum|"
    r"crypto(?:currency)?\s+wallet)\b",
    re.IGNORECASE,
)
PAYMENT_LANGUAGE = re.compile(
    r"\b(pay(?:ing)?\s+(?:me\s+|you\s+)?(?:directly|outside|off[-\s]platform|off\s+the\s+(?:platform|site|portal))|"
    r"outside\s+(?:of\s+)?(?:the\s+)?(?:platform|portal|site|upwork)|"
    r"avoid(?:ing)?\s+(?:the\s+)?(?:platform\s+|service\s+|marketplace\s+)?fees?|"
    r"bank\s+(?:transfer|details|account\s+(?:number|details))|wire\s+(?:transfer|me|the\s+money)|"
    r"\biban\b|swift\s+code)",
    re.IGNORECASE,
)
MESSAGING = re.compile(r"\b(whats\s?app|telegram|skype|wechat|signal\s+me|on\s+signal)\b", re.IGNORECASE)
EMAIL_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")
DIGIT_RUN = re.compile(r"\+?\(?\d[\d\s().-]*\d")
# A phone number does not continue a word, an amount, an id (#123, INV-123), a path
# or a handle, and is not followed by a letter, a percent sign or a currency.
NOT_PHONE_BEFORE = re.compile(r"[\w$€£.,#/@-]$")
NOT_PHONE_AFTER = re.compile(r"^(?:[\w%]|\s*(?:usd|eur|gbp|cents?|dollars?|euros?|pounds?)\b)", re.IGNORECASE)
LEADING_DATE = re.compile(r"^(?:\d{4}[./-]\d{1,2}[./-]\d{1,2}|\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2}(?=\s|$)))")
IP_ADDRESS_OR_DECIMAL = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3}){3}|\d+\.\d+)$")


def _phone_numbers(text: str) -> list[str]:
    """Runs of 9 to 15 digits written the way phone numbers are (spaces, dots, dashes,
    brackets, a leading +), except dates, IP addresses, decimals, amounts and ids."""
    found = []
    for run in DIGIT_RUN.finditer(text):
        if NOT_PHONE_BEFORE.search(text[: run.start()]) or NOT_PHONE_AFTER.match(text[run.end() :]):
            continue
        candidate = LEADING_DATE.sub("", run.group()).strip(" .-")
        digits = re.sub(r"\D", "", candidate)
        if 9 <= len(digits) <= 15 and not IP_ADDRESS_OR_DECIMAL.match(candidate):
            found.append(candidate)
    return found


def off_platform_matches(text: str) -> list[tuple[str, str]]:
    """(kind, matched text) for every sign of paying or talking outside the platform."""
    matches = []
    for kind, pattern in (
        ("payment service", PAYMENT_SERVICES),
        ("payment outside the platform", PAYMENT_LANGUAGE),
        ("messaging app", MESSAGING),
        ("e-mail address", EMAIL_ADDRESS),
    ):
        matches += [(kind, match.group().strip()) for match in pattern.finditer(text)]
    matches += [("phone number", number) for number in _phone_numbers(text)]
    return matches


@detector("text_written")
def off_platform_contact(
    *, text: str, author, contract: Contract | None, source: str, source_key: str, about: dict | None = None
):
    """``about`` says where the text was written when that is not (only) a contract, such
    as an offer: its ``title`` and the ``evidence`` that leads to it."""
    matches = off_platform_matches(text or "")
    if not matches or author is None:
        return []
    if about is None:
        about = {
            "title": contract.title,
            "evidence": {"contract_id": contract.pk, "contract_url": reverse("contract_detail", args=[contract.pk])},
        }
    found = "; ".join(f"{kind}: “{matched}”" for kind, matched in matches)
    return [
        FlagDraft(
            rule=FlagRule.OFF_PLATFORM_CONTACT,
            subject=author,
            contract=contract,
            explanation=f"{source} on “{about['title']}” contains {found}.",
            dedupe_key=f"{FlagRule.OFF_PLATFORM_CONTACT}:{source_key}",
            evidence={
                "source": source,
                "text": text,
                "matches": [{"kind": kind, "text": matched} for kind, matched in matches],
                **about["evidence"],
            },
        )
    ]


# Contract ends.


def _quick_end(contract: Contract) -> bool:
    return contract.ended_at - contract.started_at <= timedelta(days=settings.CIRCUMVENTION_QUICK_END_DAYS)


@detector("contract_ended")
def quick_end_with_escrow_returned(*, contract: Contract, plan):
    """A fixed-price contract ended within days of starting, its escrow returned and
    nothing paid: the pattern of moving the work, and its payment, elsewhere."""
    from billing.models import Payment

    if contract.ended_by is None or contract.end_kind == EndKind.FORCED:
        return []
    if plan.escrow_returned_cents == 0 or not _quick_end(contract):
        return []
    if Payment.objects.filter(contract=contract).exists():
        return []
    earlier = list(
        Flag.objects.filter(
            rule__in=(FlagRule.QUICK_END, FlagRule.REPEATED_QUICK_END),
            contract__client=contract.client_id,
            contract__freelancer=contract.freelancer_id,
        )
        .exclude(contract=contract)
        .values_list("contract_id", flat=True)
        .distinct()
    )
    rule = FlagRule.REPEATED_QUICK_END if earlier else FlagRule.QUICK_END
    lasted = contract.ended_at - contract.started_at
    explanation = (
        f"“{contract.title}” ended {lasted.days} day{'s' if lasted.days != 1 else ''} after it started; "
        f"{format_cents(plan.escrow_returned_cents)} of escrow went back to the client and nothing was paid."
    )
    if earlier:
        explanation += f" The same client and freelancer did this before on {len(earlier)} contract(s)."
    return [
        FlagDraft(
            rule=rule,
            subject=contract.ended_by,
            contract=contract,
            explanation=explanation,
            dedupe_key=f"quick_end:{contract.pk}",
            evidence={
                "contract_id": contract.pk,
                "contract_url": reverse("contract_detail", args=[contract.pk]),
                "started_at": contract.started_at.isoformat(),
                "ended_at": contract.ended_at.isoformat(),
                "escrow_returned_cents": plan.escrow_returned_cents,
                "earlier_contract_ids": earlier,
            },
        )
    ]


# Refunds.


@detector("refund_created")
def quick_large_refund(*, refund):
    """A freelancer giving back most of a payment soon after it: a way to return
    money paid through the platform and be paid outside it instead."""
    from django.db.models import Sum

    payment = refund.payment
    refunded = payment.refunds.aggregate(total=Sum("amount_cents"))["total"] or 0
    share = refunded * 100 / payment.amount_cents
    if share < settings.CIRCUMVENTION_QUICK_REFUND_PERCENT:
        return []
    if refund.created_at - payment.paid_at > timedelta(days=settings.CIRCUMVENTION_QUICK_REFUND_DAYS):
        return []
    contract = payment.contract
    return [
        FlagDraft(
            rule=FlagRule.QUICK_REFUND,
            subject=refund.created_by,
            contract=contract,
            explanation=(
                f"{format_cents(refunded)} of the {format_cents(payment.amount_cents)} payment #{payment.pk} "
                f"({share:.0f}%) was refunded within {(refund.created_at - payment.paid_at).days} days of it."
            ),
            dedupe_key=f"quick_refund:{payment.pk}",
            evidence={
                "payment_id": payment.pk,
                "paid_at": payment.paid_at.isoformat(),
                "amount_cents": payment.amount_cents,
                "refunded_cents": refunded,
                "refunded_at": refund.created_at.isoformat(),
                "contract_id": contract.pk,
                "contract_url": reverse("contract_detail", args=[contract.pk]),
            },
        )
    ]

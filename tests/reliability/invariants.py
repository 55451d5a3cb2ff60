"""What must hold of the portal's records whatever happened to them: checked after the
concurrency storm and after every step of the property-based model.

Each check returns the violations it found, as sentences (empty when all is well),
so a failing test shows every broken rule at once.
"""

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import Coalesce

from billing.models import (
    AccountKind,
    EscrowMovement,
    EscrowMovementKind,
    Invoice,
    LedgerAccount,
    LedgerEntry,
    Payment,
    Refund,
)
from billing.money import hourly_amount_cents
from billing.selectors import unbalanced_transactions
from contracts.models import (
    Contract,
    ContractKind,
    ContractState,
    DiaryEntry,
    EscrowRefundRequest,
    Feedback,
    JobKind,
    Milestone,
    MilestoneState,
    Notification,
    OutgoingEmail,
    ScheduledJob,
    StateChange,
    hourly_rates,
    week_start,
)
from offers.models import Offer, OfferState

CONTRACT_EDGES = {
    ("active", "paused"),
    ("paused", "active"),
    ("active", "ending"),
    ("paused", "ending"),
    ("ending", "active"),
    ("active", "ended"),
    ("paused", "ended"),
    ("ending", "ended"),
    # propose_end and expire_end_proposal keep the state
    ("active", "active"),
    ("paused", "paused"),
    ("ending", "ending"),
}
MILESTONE_EDGES = {
    ("", "pending"),  # added by the client during the contract (a recorded change, no source state)
    ("pending", "funded"),
    ("funded", "submitted"),
    ("funded", "released"),
    ("submitted", "released"),
    ("funded", "refund_requested"),
    ("submitted", "refund_requested"),
    ("refund_requested", "refunded"),
    ("refund_requested", "released"),
    ("funded", "refunded"),
    ("submitted", "refunded"),
    ("pending", "cancelled"),
}
MILESTONE_OPEN = {MilestoneState.PENDING, MilestoneState.FUNDED, MilestoneState.SUBMITTED}
OFFER_EDGES = {
    ("draft", "sent"),
    ("sent", "sent"),  # the person invited by e-mail took the offer
    ("sent", "accepted"),
    ("sent", "declined"),
    ("sent", "withdrawn"),
    ("sent", "expired"),
}


def ledger_violations() -> list[str]:
    """Every transaction sums to zero with at least two entries, the whole ledger sums
    to zero, and each account's balance agrees with the records it stands for."""
    found = [
        f"ledger transaction {key} sums to {total} over {lines} entries"
        for key, total, lines in unbalanced_transactions()
    ]
    total = LedgerEntry.objects.aggregate(total=Coalesce(Sum("amount_cents"), 0))["total"]
    if total != 0:
        found.append(f"the ledger as a whole sums to {total} cents")
    balances = dict(
        LedgerAccount.objects.annotate(balance=Coalesce(Sum("entries__amount_cents"), 0)).values_list("code", "balance")
    )
    # Escrow account of a contract = funded - released - returned of its milestones.
    held = defaultdict(int)
    for contract_id, kind, amount in EscrowMovement.objects.values_list(
        "milestone__contract_id", "kind", "amount_cents"
    ):
        held[contract_id] += amount if kind == EscrowMovementKind.FUND else -amount
    for code in LedgerAccount.objects.filter(kind=AccountKind.ESCROW).values_list("code", flat=True):
        contract_id = int(code.split(":")[1])
        if balances.get(code, 0) != held[contract_id]:
            found.append(f"{code} holds {balances.get(code, 0)} cents but its milestones hold {held[contract_id]}")
        if balances.get(code, 0) < 0:
            found.append(f"{code} is negative")
    # Earnings of a freelancer = net payments - (refunds - service fee returned).
    earned = defaultdict(int)
    for freelancer_id, amount, fee in Payment.objects.values_list(
        "freelancer_id", "amount_cents", "freelancer_fee_cents"
    ):
        earned[freelancer_id] += amount - fee
    for freelancer_id, amount, fee in Refund.objects.values_list(
        "payment__freelancer_id", "amount_cents", "freelancer_fee_returned_cents"
    ):
        earned[freelancer_id] -= amount - fee
    for code in LedgerAccount.objects.filter(kind=AccountKind.FREELANCER_EARNINGS).values_list("code", flat=True):
        user_id = int(code.split(":")[1])
        if balances.get(code, 0) != earned[user_id]:
            found.append(f"{code} is {balances.get(code, 0)} cents but payments less refunds come to {earned[user_id]}")
    return found


def refund_violations() -> list[str]:
    """No payment refunded beyond its amount (nor its fees beyond theirs), and no refund
    made after the payment's 180-day window."""
    found = []
    totals = Payment.objects.annotate(
        refunded=Coalesce(Sum("refunds__amount_cents"), 0),
        fee_back=Coalesce(Sum("refunds__freelancer_fee_returned_cents"), 0),
        client_fee_back=Coalesce(Sum("refunds__client_fee_returned_cents"), 0),
    ).filter(
        Q(refunded__gt=F("amount_cents"))
        | Q(fee_back__gt=F("freelancer_fee_cents"))
        | Q(client_fee_back__gt=F("client_fee_cents"))
    )
    for payment in totals:
        found.append(f"payment #{payment.pk} of {payment.amount_cents} cents has {payment.refunded} cents refunded")
    window = timedelta(days=settings.REFUND_WINDOW_DAYS)
    for refund in Refund.objects.select_related("payment"):
        if refund.created_at > refund.payment.paid_at + window:
            age = refund.created_at - refund.payment.paid_at
            found.append(f"refund #{refund.pk} was made {age} after payment #{refund.payment_id}")
    return found


def ended_once_violations() -> list[str]:
    """Every contract ended at most once, with one settlement: an hourly contract's time
    all invoiced once at the end and none recorded or changed after it, a fixed-price
    contract's milestones each settled, escrow funded once and never paid out twice."""
    found = []
    ended_changes = dict(
        StateChange.objects.filter(subject="contract", target=ContractState.ENDED)
        .values("contract_id")
        .annotate(n=Count("id"))
        .values_list("contract_id", "n")
    )
    for contract_id, state in Contract.objects.values_list("id", "state"):
        changes = ended_changes.get(contract_id, 0)
        if changes != (1 if state == ContractState.ENDED else 0):
            found.append(f"contract #{contract_id} ({state}) has {changes} transitions to ended")
    final_invoices = (
        Invoice.objects.filter(payment__ledger_transaction__idempotency_key__endswith=":final-invoice")
        .values("contract_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    found += [f"hourly contract #{row['contract_id']} has {row['n']} final invoices" for row in final_invoices]
    ended_diaries = DiaryEntry.objects.filter(contract__state=ContractState.ENDED)
    for contract_id in ended_diaries.filter(invoice__isnull=True).values_list("contract_id", flat=True).distinct():
        found.append(f"ended hourly contract #{contract_id} has diary entries never invoiced")
    late = ended_diaries.filter(Q(created_at__gt=F("contract__ended_at")) | Q(updated_at__gt=F("contract__ended_at")))
    for contract_id in late.values_list("contract_id", flat=True).distinct():
        found.append(f"ended hourly contract #{contract_id} has diary entries recorded or changed after its end")
    escrow = Milestone.objects.annotate(
        funded=Coalesce(
            Sum("escrow_movements__amount_cents", filter=Q(escrow_movements__kind=EscrowMovementKind.FUND)), 0
        ),
        paid_out=Coalesce(
            Sum("escrow_movements__amount_cents", filter=~Q(escrow_movements__kind=EscrowMovementKind.FUND)), 0
        ),
        funds=Count("escrow_movements", filter=Q(escrow_movements__kind=EscrowMovementKind.FUND)),
        returns=Count("escrow_movements", filter=Q(escrow_movements__kind=EscrowMovementKind.RETURN)),
    )
    requested = dict(EscrowRefundRequest.objects.values_list("milestone_id", "amount_cents"))
    for milestone in escrow:
        held = milestone.funded - milestone.paid_out
        if milestone.funds > 1 or (milestone.funds and milestone.funded != milestone.amount_cents):
            found.append(f"milestone #{milestone.pk} was funded {milestone.funds} times with {milestone.funded} cents")
        if milestone.returns > 1:
            found.append(f"milestone #{milestone.pk} had its escrow returned {milestone.returns} times")
        if held < 0:
            found.append(f"milestone #{milestone.pk} paid out {milestone.paid_out} cents of {milestone.funded} funded")
        if milestone.state in (MilestoneState.RELEASED, MilestoneState.REFUNDED) and held != 0:
            found.append(f"milestone #{milestone.pk} is {milestone.state} with {held} cents still in escrow")
        if milestone.state in (MilestoneState.PENDING, MilestoneState.CANCELLED) and milestone.funds:
            found.append(f"milestone #{milestone.pk} is {milestone.state} but was funded")
        if milestone.state == MilestoneState.REFUND_REQUESTED and requested.get(milestone.pk) != held:
            found.append(f"milestone #{milestone.pk} awaits a refund request that does not match its escrow")
    return found


def transition_violations() -> list[str]:
    """Every recorded transition is an edge of the state machines, and every record is
    in a state its kind can reach."""
    found = []
    for subject, source, target, subject_id in StateChange.objects.values_list(
        "subject", "source", "target", "subject_id"
    ):
        edges = {"contract": CONTRACT_EDGES, "milestone": MILESTONE_EDGES, "offer": OFFER_EDGES}.get(subject)
        if edges is not None and (source, target) not in edges:
            found.append(f"{subject} #{subject_id} went from {source} to {target}")
    still_open = Milestone.objects.filter(contract__state=ContractState.ENDED, state__in=MILESTONE_OPEN)
    for milestone_id, contract_id, state in still_open.values_list("id", "contract_id", "state"):
        found.append(f"milestone #{milestone_id} of ended contract #{contract_id} is still {state}")
    if Contract.objects.filter(kind=ContractKind.FIXED, state=ContractState.PAUSED).exists():
        found.append("a fixed-price contract is paused")
    if Contract.objects.filter(notice_days=0, state=ContractState.ENDING).exists():
        found.append("a contract without a notice period is giving notice")
    if Contract.objects.filter(state=ContractState.ENDED, ended_at__isnull=True).exists():
        found.append("an ended contract has no end time")
    if (
        Milestone.objects.exclude(contract__state=ContractState.ENDED)
        .filter(state__in=(MilestoneState.REFUND_REQUESTED, MilestoneState.CANCELLED))
        .exists()
    ):
        found.append("a milestone of an open contract is cancelled or awaiting a refund request")
    return found


def reminder_violations() -> list[str]:
    """Every reminder sent at most once: one job per contract, recipient and kind, and
    one notification per reminder; none to someone who had left feedback before it."""
    found = []
    duplicated_jobs = (
        ScheduledJob.objects.filter(recipient__isnull=False)
        .values("kind", "contract_id", "recipient_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    for row in duplicated_jobs:
        found.append(f"{row['n']} {row['kind']} jobs for user #{row['recipient_id']} on contract #{row['contract_id']}")
    reminders = (
        Notification.objects.filter(message__startswith="A reminder: you can leave feedback")
        .values("user_id", "contract_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    for row in reminders:
        found.append(f"user #{row['user_id']} was reminded {row['n']} times about contract #{row['contract_id']}")
    earlier = Feedback.objects.filter(
        contract_id=OuterRef("contract_id"), author_id=OuterRef("recipient_id"), created_at__lt=OuterRef("due_at")
    )
    sent_anyway = ScheduledJob.objects.filter(kind=JobKind.FEEDBACK_REMINDER, state="done").filter(Exists(earlier))
    for key in sent_anyway.values_list("key", flat=True):
        found.append(f"feedback reminder {key} was sent to someone who had left feedback before it was due")
    return found


def mail_violations(delivered: list[tuple[str, str]], *, since) -> list[str]:
    """Every e-mail delivered once: no (recipient, subject) twice among what the mail
    backend received, and as many deliveries as e-mails marked sent since ``since``."""
    found = []
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for pair in delivered:
        counts[pair] += 1
    found += [f"{to} received “{subject}” {n} times" for (to, subject), n in counts.items() if n > 1]
    marked = OutgoingEmail.objects.filter(state="sent", sent_at__gte=since).count()
    if marked != len(delivered):
        found.append(f"{marked} e-mails marked sent, but the mail backend received {len(delivered)}")
    return found


def feedback_violations(*, now) -> list[str]:
    """Feedback once per party, only after the end and within the window; hidden until
    both have left it or the window has closed, then revealed together."""
    found = []
    window = timedelta(days=settings.FEEDBACK_WINDOW_DAYS)
    for feedback in Feedback.objects.select_related("contract"):
        contract = feedback.contract
        if contract.ended_at is None or not contract.ended_at <= feedback.created_at < contract.ended_at + window:
            found.append(f"feedback #{feedback.pk} was left outside the contract's feedback window")
    by_contract = defaultdict(list)
    for feedback in Feedback.objects.select_related("contract"):
        by_contract[feedback.contract_id].append(feedback)
    for contract_id, rows in by_contract.items():
        contract = rows[0].contract
        closes_at = contract.ended_at + window
        if len(rows) == 2:
            if {row.revealed_at for row in rows} == {None} or len({row.revealed_at for row in rows}) != 1:
                found.append(f"both parties left feedback on contract #{contract_id} but it is not revealed together")
        elif len(rows) == 1 and now < closes_at and rows[0].revealed_at is not None:
            found.append(f"feedback on contract #{contract_id} is revealed before the other party left theirs")
    return found


def invoice_violations() -> list[str]:
    """Every invoice bills one billing week, at the rate in force that week (the rate
    agreed, or the last one accepted for a week up to it), for exactly the minutes of
    the diary entries it billed."""
    found = []
    billed = dict(
        DiaryEntry.objects.filter(invoice__isnull=False)
        .values("invoice_id")
        .annotate(total=Sum("minutes"))
        .values_list("invoice_id", "total")
    )
    rates = {}
    for invoice in Invoice.objects.select_related("contract").order_by("id"):
        monday = week_start(invoice.period_start)
        if week_start(invoice.period_end) != monday:
            found.append(f"invoice #{invoice.pk} spans billing weeks ({invoice.period_start} to {invoice.period_end})")
        schedule = rates.setdefault(invoice.contract_id, hourly_rates(invoice.contract))
        if invoice.rate_cents != schedule.for_week(monday):
            found.append(f"invoice #{invoice.pk} bills the week of {monday} at {invoice.rate_cents}, not its rate")
        if invoice.amount_cents != hourly_amount_cents(invoice.minutes, invoice.rate_cents):
            found.append(f"invoice #{invoice.pk} charges {invoice.amount_cents} for {invoice.minutes} minutes")
        entries = billed.get(invoice.pk, 0)
        if entries != invoice.minutes:
            found.append(f"invoice #{invoice.pk} bills {invoice.minutes} minutes, its entries hold {entries}")
    return found


def offer_violations() -> list[str]:
    """Every offer answered at most once, its state the answer's; an accepted offer
    started exactly one contract on its terms, whose first milestone was funded once
    (and no other milestone at acceptance); an offer not accepted started none."""
    found = []
    answers = defaultdict(list)
    answered = StateChange.objects.filter(subject="offer").exclude(transition__in=("send", "claim"))
    for offer_id, target in answered.order_by("created_at", "id").values_list("subject_id", "target"):
        answers[offer_id].append(target)
    for offer in Offer.objects.exclude(state=OfferState.DRAFT).select_related("contract"):
        recorded = answers.get(offer.pk, [])
        if len(recorded) > 1:
            found.append(f"offer #{offer.pk} was answered {len(recorded)} times: {recorded}")
        if recorded and recorded[-1] != offer.state or (not recorded and offer.state != OfferState.SENT):
            found.append(f"offer #{offer.pk} is {offer.state} but its history says {recorded or 'sent'}")
        contract = offer.contract
        if (offer.state == OfferState.ACCEPTED) != (contract is not None):
            found.append(f"offer #{offer.pk} is {offer.state} with contract {contract}")
        if contract is None:
            continue
        terms = ("client_id", "freelancer_id", "kind", "hourly_rate_cents", "notice_days", "description")
        if any(getattr(contract, term) != getattr(offer, term) for term in terms):
            found.append(f"contract #{contract.pk} does not have the terms of offer #{offer.pk}")
        offered = list(offer.milestones.order_by("position").values_list("title", "amount_cents"))
        started = list(contract.milestones.order_by("position").values_list("title", "amount_cents"))
        if offered != started:
            found.append(f"contract #{contract.pk} has milestones {started}, offer #{offer.pk} offered {offered}")
        if offered:
            first = contract.milestones.order_by("position").first()
            funds = EscrowMovement.objects.filter(milestone=first, kind=EscrowMovementKind.FUND).count()
            if funds != 1:
                found.append(f"the first milestone of contract #{contract.pk} (offer #{offer.pk}) funded {funds} times")
    return found


def all_violations(*, now) -> dict[str, list[str]]:
    return {
        "ledger balanced, balances match their records": ledger_violations(),
        "no payment refunded beyond its amount or after 180 days": refund_violations(),
        "every contract ended at most once, settled once": ended_once_violations(),
        "state machines only in reachable states": transition_violations(),
        "every reminder and e-mail sent at most once": reminder_violations(),
        "feedback once, in its window, double-blind": feedback_violations(now=now),
        "every offer answered once; an accepted one started one contract, funded once": offer_violations(),
        "every invoice one billing week at that week's rate": invoice_violations(),
    }

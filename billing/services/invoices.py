"""Hourly time billed: recorded, unbilled diary time charged to the client and paid to
the freelancer, one invoice per billing week (Monday to Sunday, UTC) at the rate in
force that week (``contracts.models.hourly_rates``: the agreed rate, then each
accepted change from its week on). A week before a rate change is billed at the old
rate, the weeks from it at the new one."""

from datetime import date, datetime, timedelta

from ..models import Invoice, LedgerTransaction
from ..selectors import UnbilledWeek, unbilled_entries, unbilled_weeks
from .payments import charge_client_and_pay_freelancer


def _invoice_week(contract, week: UnbilledWeek, *, key: str, at: datetime, through: date | None) -> Invoice:
    payment = charge_client_and_pay_freelancer(
        contract=contract,
        amount_cents=week.amount_cents,
        key=key,
        at=at,
        memo=f"{week.minutes // 60}:{week.minutes % 60:02d} hours on {contract.title}, week of {week.monday:%Y-%m-%d}",
    )
    invoice = Invoice.objects.create(
        contract=contract,
        period_start=week.first_day,
        period_end=week.last_day,
        minutes=week.minutes,
        rate_cents=week.rate_cents,
        amount_cents=week.amount_cents,
        issued_at=at,
        payment=payment,
    )
    billed = unbilled_entries(contract, through=through)
    billed.filter(work_date__range=(week.monday, week.monday + timedelta(days=6))).update(invoice=invoice)
    return invoice


def invoice_unbilled_time(*, contract, key: str, at: datetime, through: date | None = None) -> Invoice | None:
    """Invoice the contract's recorded, unbilled time (up to ``through``): one invoice
    and payment per billing week, at that week's rate. The latest week's invoice is
    the one under ``key``, and returned; an earlier week's, when the time spans several
    (the final invoice of a contract ended before last week was invoiced), is under
    ``key`` and its Monday. A repeated ``key`` returns the invoice already made.

    The caller holds the contract's row lock and runs this before the contract's
    state changes to ended: marking entries billed is an update of the diary, which
    the lock refuses once the contract has ended. Returns None when there is no time.
    """
    existing = LedgerTransaction.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return Invoice.objects.get(payment__ledger_transaction=existing)
    weeks = unbilled_weeks(contract, through=through)
    invoice = None
    for number, week in enumerate(weeks, start=1):
        week_key = key if number == len(weeks) else f"{key}:week-of:{week.monday:%Y-%m-%d}"
        invoice = _invoice_week(contract, week, key=week_key, at=at, through=through)
    return invoice

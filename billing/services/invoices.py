from datetime import date, datetime

from django.db.models import Max, Min, Sum

from contracts.models import DiaryEntry

from ..models import Invoice, LedgerTransaction
from ..money import hourly_amount_cents
from .payments import charge_client_and_pay_freelancer


def unbilled_entries(contract, *, through: date | None = None):
    entries = DiaryEntry.objects.filter(contract=contract, invoice__isnull=True)
    if through is not None:
        entries = entries.filter(work_date__lte=through)
    return entries


def unbilled_time(contract, *, through: date | None = None) -> tuple[int, int]:
    """Minutes of recorded, unbilled time and what they cost at the contract rate."""
    minutes = unbilled_entries(contract, through=through).aggregate(total=Sum("minutes"))["total"] or 0
    return minutes, hourly_amount_cents(minutes, contract.hourly_rate_cents or 0)


def invoice_unbilled_time(*, contract, key: str, at: datetime, through: date | None = None) -> Invoice | None:
    """Invoice the contract's recorded, unbilled time (up to ``through``) at its rate.

    The caller holds the contract's row lock and runs this before the contract's
    state changes to ended: marking entries billed is an update of the diary, which
    the lock refuses once the contract has ended. Returns None when there is no time.
    """
    existing = LedgerTransaction.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return Invoice.objects.get(payment__ledger_transaction=existing)
    entries = unbilled_entries(contract, through=through)
    totals = entries.aggregate(minutes=Sum("minutes"), first=Min("work_date"), last=Max("work_date"))
    minutes = totals["minutes"] or 0
    if minutes == 0:
        return None
    amount = hourly_amount_cents(minutes, contract.hourly_rate_cents)
    payment = charge_client_and_pay_freelancer(
        contract=contract,
        amount_cents=amount,
        key=key,
        at=at,
        memo=f"{minutes // 60}:{minutes % 60:02d} hours on {contract.title}",
    )
    invoice = Invoice.objects.create(
        contract=contract,
        period_start=totals["first"],
        period_end=totals["last"],
        minutes=minutes,
        rate_cents=contract.hourly_rate_cents,
        amount_cents=amount,
        issued_at=at,
        payment=payment,
    )
    entries.update(invoice=invoice)
    return invoice

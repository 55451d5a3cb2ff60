"""The weekly invoice of an hourly contract: on Monday at noon UTC, once the
freelancer can no longer edit last week's diary, the week's unbilled time is billed
at the contract rate. ``schedule_weekly_invoices`` writes one job per contract with
unbilled time; the job runs ``contract_invoice_week``."""

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from billing.models import Invoice
from billing.services.invoices import invoice_unbilled_time
from contracts_portal.errors import DomainError

from ..models import ContractState, JobKind
from .jobs import job_handler
from .locking import lock_contract


def contract_invoice_week(*, contract_id: int, monday: date) -> Invoice | None:
    """Invoice the contract's unbilled time up to the Sunday after ``monday``, once
    (the week's idempotency key); None when there was no time to bill. An ended
    contract is refused: its final invoice covered all its time."""
    with transaction.atomic():
        contract = lock_contract(contract_id)
        if contract.state == ContractState.ENDED:
            raise DomainError("The contract has ended; its final invoice covered its time.")
        return invoice_unbilled_time(
            contract=contract,
            key=f"contract:{contract.pk}:week:{monday:%Y-%m-%d}",
            at=timezone.now(),
            through=monday + timedelta(days=6),
        )


@job_handler(JobKind.WEEKLY_INVOICE)
def _weekly_invoice(job) -> str:
    invoice = contract_invoice_week(contract_id=job.contract_id, monday=date.fromordinal(job.subject_id))
    return f"invoice #{invoice.pk}" if invoice else "no unbilled time"

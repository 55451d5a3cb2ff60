from datetime import datetime

from django.conf import settings

from contracts_portal.errors import DomainError

from ..models import EscrowMovement, EscrowMovementKind, LedgerTransaction, Payment, PaymentSource, TransactionKind
from ..money import fee_cents, format_cents, next_pro_rata_share
from ..selectors import escrow_totals
from .ledger import Line, client_funds_account, earnings_account, escrow_account, ledger_post, platform_fees_account

# Callers lock the milestone's contract and the milestone itself before any of these.


def escrow_fund(*, milestone, at: datetime) -> EscrowMovement:
    """Charge the client the milestone amount plus the marketplace fee into escrow."""
    key = f"milestone:{milestone.pk}:fund"
    existing = EscrowMovement.objects.filter(ledger_transaction__idempotency_key=key).first()
    if existing is not None:
        return existing
    contract = milestone.contract
    client_fee = fee_cents(milestone.amount_cents, settings.CLIENT_MARKETPLACE_FEE_BPS)
    ledger_transaction = ledger_post(
        key=key,
        kind=TransactionKind.ESCROW_FUND,
        contract=contract,
        milestone=milestone,
        at=at,
        memo=f"Escrow for {milestone.title}",
        lines=[
            Line(client_funds_account(contract.client), -(milestone.amount_cents + client_fee)),
            Line(escrow_account(contract), milestone.amount_cents),
            Line(platform_fees_account(), client_fee),
        ],
    )
    return EscrowMovement.objects.create(
        milestone=milestone,
        kind=EscrowMovementKind.FUND,
        amount_cents=milestone.amount_cents,
        client_fee_cents=client_fee,
        ledger_transaction=ledger_transaction,
        created_at=at,
    )


def _fee_share(totals: dict[str, int], part_cents: int) -> int:
    return next_pro_rata_share(
        total_cents=totals["fee_charged"],
        whole_cents=totals["funded"],
        done_cents=totals["released"] + totals["returned"],
        part_cents=part_cents,
        shared_cents=totals["fee_allocated"],
    )


def _check_held(milestone, totals: dict[str, int], amount_cents: int) -> None:
    if amount_cents <= 0:
        raise DomainError("The amount must be more than zero.")
    if amount_cents > totals["held"]:
        raise DomainError(
            f"Only {format_cents(totals['held'])} of “{milestone.title}” is in escrow; "
            f"{format_cents(amount_cents)} cannot be paid out of it."
        )


def escrow_release(*, milestone, amount_cents: int, key: str, at: datetime) -> Payment:
    """Pay the freelancer ``amount_cents`` out of the milestone's escrow."""
    existing = LedgerTransaction.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return Payment.objects.get(ledger_transaction=existing)
    totals = escrow_totals(milestone)
    _check_held(milestone, totals, amount_cents)
    contract = milestone.contract
    client_fee_share = _fee_share(totals, amount_cents)
    freelancer_fee = fee_cents(amount_cents, settings.FREELANCER_SERVICE_FEE_BPS)
    ledger_transaction = ledger_post(
        key=key,
        kind=TransactionKind.ESCROW_RELEASE,
        contract=contract,
        milestone=milestone,
        at=at,
        memo=f"Payment for {milestone.title}",
        lines=[
            Line(escrow_account(contract), -amount_cents),
            Line(earnings_account(contract.freelancer), amount_cents - freelancer_fee),
            Line(platform_fees_account(), freelancer_fee),
        ],
    )
    EscrowMovement.objects.create(
        milestone=milestone,
        kind=EscrowMovementKind.RELEASE,
        amount_cents=amount_cents,
        client_fee_cents=client_fee_share,
        ledger_transaction=ledger_transaction,
        created_at=at,
    )
    return Payment.objects.create(
        contract=contract,
        milestone=milestone,
        client_id=contract.client_id,
        freelancer_id=contract.freelancer_id,
        source=PaymentSource.MILESTONE_RELEASE,
        amount_cents=amount_cents,
        freelancer_fee_cents=freelancer_fee,
        client_fee_cents=client_fee_share,
        paid_at=at,
        ledger_transaction=ledger_transaction,
    )


def escrow_return(*, milestone, amount_cents: int, key: str, at: datetime) -> EscrowMovement:
    """Give ``amount_cents`` of the milestone's escrow back to the client, with the
    share of the marketplace fee charged on it: the client paid no fee for work
    that was not paid for."""
    existing = EscrowMovement.objects.filter(ledger_transaction__idempotency_key=key).first()
    if existing is not None:
        return existing
    totals = escrow_totals(milestone)
    _check_held(milestone, totals, amount_cents)
    contract = milestone.contract
    client_fee_share = _fee_share(totals, amount_cents)
    ledger_transaction = ledger_post(
        key=key,
        kind=TransactionKind.ESCROW_RETURN,
        contract=contract,
        milestone=milestone,
        at=at,
        memo=f"Escrow returned for {milestone.title}",
        lines=[
            Line(escrow_account(contract), -amount_cents),
            Line(client_funds_account(contract.client), amount_cents + client_fee_share),
            Line(platform_fees_account(), -client_fee_share),
        ],
    )
    return EscrowMovement.objects.create(
        milestone=milestone,
        kind=EscrowMovementKind.RETURN,
        amount_cents=amount_cents,
        client_fee_cents=client_fee_share,
        ledger_transaction=ledger_transaction,
        created_at=at,
    )

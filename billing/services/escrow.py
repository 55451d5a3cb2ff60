from dataclasses import dataclass
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


@dataclass(frozen=True)
class ReleasePlan:
    """What paying ``amount_cents`` of a milestone's escrow to the freelancer moves:
    the freelancer's service fee is taken on the amount and they receive the rest; the
    share of the marketplace fee the client paid on funding that this part carries
    stays with the platform (it is returned only on escrow given back)."""

    milestone: object
    amount_cents: int
    held_before_cents: int
    freelancer_fee_cents: int
    client_fee_carried_cents: int

    @property
    def net_to_freelancer_cents(self) -> int:
        return self.amount_cents - self.freelancer_fee_cents

    @property
    def left_in_escrow_cents(self) -> int:
        return self.held_before_cents - self.amount_cents

    @property
    def pays_in_full(self) -> bool:
        return self.left_in_escrow_cents == 0


def escrow_release_plan(*, milestone, amount_cents: int) -> ReleasePlan:
    """The figures of paying ``amount_cents`` out of the milestone's escrow now, or the
    refusal when that much is not held: ``escrow_release`` moves exactly these."""
    totals = escrow_totals(milestone)
    _check_held(milestone, totals, amount_cents)
    return ReleasePlan(
        milestone=milestone,
        amount_cents=amount_cents,
        held_before_cents=totals["held"],
        freelancer_fee_cents=fee_cents(amount_cents, settings.FREELANCER_SERVICE_FEE_BPS),
        client_fee_carried_cents=_fee_share(totals, amount_cents),
    )


def escrow_release(*, milestone, amount_cents: int, key: str, at: datetime) -> Payment:
    """Pay the freelancer ``amount_cents`` out of the milestone's escrow."""
    existing = LedgerTransaction.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return Payment.objects.get(ledger_transaction=existing)
    plan = escrow_release_plan(milestone=milestone, amount_cents=amount_cents)
    contract = milestone.contract
    client_fee_share = plan.client_fee_carried_cents
    freelancer_fee = plan.freelancer_fee_cents
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

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction

from contracts_portal.errors import DomainError

from ..models import AccountKind, LedgerAccount, LedgerEntry, LedgerTransaction


@dataclass(frozen=True)
class Line:
    account: LedgerAccount
    amount_cents: int


def client_funds_account(user) -> LedgerAccount:
    return _account(f"client-funds:{user.pk}", AccountKind.CLIENT_FUNDS, user=user)


def earnings_account(user) -> LedgerAccount:
    return _account(f"earnings:{user.pk}", AccountKind.FREELANCER_EARNINGS, user=user)


def escrow_account(contract) -> LedgerAccount:
    return _account(f"escrow:{contract.pk}", AccountKind.ESCROW, contract=contract)


def platform_fees_account() -> LedgerAccount:
    return _account("platform-fees", AccountKind.PLATFORM_FEES)


def _account(code: str, kind: str, **owner) -> LedgerAccount:
    try:
        with transaction.atomic():
            account, _ = LedgerAccount.objects.get_or_create(code=code, defaults={"kind": kind, **owner})
    except IntegrityError:
        account = LedgerAccount.objects.get(code=code)
    return account


# Keys sent by a person's page (a 32-character hex): with the service's prefix they
# must fit the ledger's key column (200).
REQUEST_KEY_MAX_LENGTH = 100


def request_idempotency_key(prefix: str, request_key: str) -> str:
    """The ledger key of a money movement a person asked for with ``request_key``, the
    key their page sent so that a repeated submission moves the money once."""
    if not request_key:
        raise ValueError(f"{prefix} needs an idempotency key")
    if len(request_key) > REQUEST_KEY_MAX_LENGTH:
        raise DomainError("This request cannot be matched to the page it came from: reload the page and try again.")
    return f"{prefix}:{request_key}"


def ledger_post(
    *,
    key: str,
    kind: str,
    lines: list[Line],
    at: datetime,
    contract=None,
    milestone=None,
    memo: str = "",
) -> LedgerTransaction:
    """Write one balanced money movement. Callers hold the lock of the row the money
    belongs to and look the key up first, so a retry returns what was written."""
    lines = [line for line in lines if line.amount_cents != 0]
    if not lines:
        raise DomainError("There is no money to move.")
    if sum(line.amount_cents for line in lines) != 0:
        raise ValueError(f"unbalanced ledger transaction {key}: {lines}")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger_post must run inside the caller's transaction")
    ledger_transaction = LedgerTransaction.objects.create(
        idempotency_key=key, kind=kind, contract=contract, milestone=milestone, memo=memo[:300], created_at=at
    )
    LedgerEntry.objects.bulk_create(
        LedgerEntry(transaction=ledger_transaction, account=line.account, amount_cents=line.amount_cents)
        for line in lines
    )
    return ledger_transaction

from django.db.models import Sum

from billing.models import LedgerEntry
from billing.selectors import balance_of, unbalanced_transactions


def assert_ledger_balanced() -> None:
    """Every ledger transaction has entries summing to zero, and so does the whole ledger."""
    assert unbalanced_transactions() == []
    assert (LedgerEntry.objects.aggregate(total=Sum("amount_cents"))["total"] or 0) == 0


def balances(*, client_id: int, freelancer_id: int, contract_id: int) -> dict[str, int]:
    return {
        "client": balance_of(f"client-funds:{client_id}"),
        "escrow": balance_of(f"escrow:{contract_id}"),
        "earnings": balance_of(f"earnings:{freelancer_id}"),
        "fees": balance_of("platform-fees"),
    }

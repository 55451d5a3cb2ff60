from .escrow import EscrowMovement, EscrowMovementKind
from .ledger import AccountKind, LedgerAccount, LedgerEntry, LedgerTransaction, TransactionKind
from .payments import Invoice, Payment, PaymentSource
from .refunds import Refund

__all__ = [
    "AccountKind",
    "EscrowMovement",
    "EscrowMovementKind",
    "Invoice",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerTransaction",
    "Payment",
    "PaymentSource",
    "Refund",
    "TransactionKind",
]

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from contracts_portal.append_only import AppendOnlyModel
from contracts_portal.db_guards import frozen_columns


class AccountKind(models.TextChoices):
    CLIENT_FUNDS = "client_funds", "Client funds"
    ESCROW = "escrow", "Escrow"
    FREELANCER_EARNINGS = "earnings", "Freelancer earnings"
    PLATFORM_FEES = "platform_fees", "Platform fees"


class LedgerAccount(models.Model):
    """An account of the double-entry ledger. Its balance is the sum of its entries:
    positive means money held for the account's owner. A client's funds account goes
    negative by what the client has been charged, and back up by what was returned."""

    code = models.CharField(max_length=60, unique=True)
    kind = models.CharField(max_length=20, choices=AccountKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_accounts"
    )
    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_accounts"
    )

    class Meta:
        ordering = ("code",)
        triggers = [
            frozen_columns(
                "ledger_account_frozen",
                "code",
                "kind",
                "user",
                "contract",
                message="ledger account %: whose money it holds cannot change",
            ),
            pgtrigger.Protect(name="ledger_account_kept", operation=pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return self.code


class TransactionKind(models.TextChoices):
    HOURLY_INVOICE = "hourly_invoice", "Hourly invoice"
    ESCROW_FUND = "escrow_fund", "Escrow funded"
    ESCROW_RELEASE = "escrow_release", "Escrow released"
    ESCROW_RETURN = "escrow_return", "Escrow returned"
    REFUND = "refund", "Refund"


BALANCED_SQL = """
DECLARE
    total bigint;
BEGIN
    SELECT COALESCE(SUM(amount_cents), 0) INTO total
      FROM billing_ledgerentry WHERE transaction_id = NEW.transaction_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: entries sum to % cents', NEW.transaction_id, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
"""


class LedgerTransaction(AppendOnlyModel):
    """One money movement: entries that sum to zero, written once, under a unique
    idempotency key so a retried request or task cannot move money twice."""

    idempotency_key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=TransactionKind.choices)
    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_transactions"
    )
    milestone = models.ForeignKey(
        "contracts.Milestone", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_transactions"
    )
    memo = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("created_at", "id")
        triggers = [
            pgtrigger.Protect(name="ledger_tx_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class LedgerEntry(AppendOnlyModel):
    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries")
    amount_cents = models.BigIntegerField()

    class Meta:
        ordering = ("transaction", "id")
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["account", "transaction"], name="entry_account_tx")]
        constraints = [models.CheckConstraint(condition=~Q(amount_cents=0), name="entry_not_zero")]
        triggers = [
            pgtrigger.Protect(name="ledger_entry_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
            pgtrigger.Trigger(
                name="ledger_tx_balanced",
                when=pgtrigger.After,
                operation=pgtrigger.Insert,
                timing=pgtrigger.Deferred,
                func=BALANCED_SQL,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account}: {self.amount_cents}"

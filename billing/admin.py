from datetime import UTC

from django.contrib import admin

from contracts.admin.access import ReviewersMayView
from contracts.admin.readonly import ReadOnlyAdmin, ReadOnlyInline

from .models import EscrowMovement, Invoice, LedgerAccount, LedgerEntry, LedgerTransaction, Payment, Refund
from .refund_window import refund_window_refusal, refundable_until


class LedgerEntryInline(ReadOnlyInline):
    model = LedgerEntry
    readonly_fields = ("account", "amount_cents")


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "contract", "milestone", "idempotency_key", "created_at")
    list_filter = ("kind",)
    search_fields = ("idempotency_key", "memo")
    inlines = [LedgerEntryInline]


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ("code", "kind", "user", "contract")
    list_filter = ("kind",)
    search_fields = ("code",)


@admin.register(Payment)
class PaymentAdmin(ReviewersMayView, ReadOnlyAdmin):
    list_display = ("id", "contract", "freelancer", "client", "source", "amount_cents", "paid_at", "refundable")
    list_filter = ("source",)
    list_select_related = ("contract", "freelancer", "client")

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "refundable"]

    @admin.display(description="Refundable")
    def refundable(self, payment: Payment) -> str:
        refusal = refund_window_refusal(payment)
        if refusal:
            return f"No: {refusal}"
        return f"Until {refundable_until(payment.paid_at).astimezone(UTC):%Y-%m-%d %H:%M} UTC"


@admin.register(Invoice)
class InvoiceAdmin(ReviewersMayView, ReadOnlyAdmin):
    list_display = ("id", "contract", "period_start", "period_end", "minutes", "amount_cents", "issued_at")


@admin.register(Refund)
class RefundAdmin(ReviewersMayView, ReadOnlyAdmin):
    list_display = ("id", "payment", "amount_cents", "freelancer_fee_returned_cents", "created_at")


@admin.register(EscrowMovement)
class EscrowMovementAdmin(ReviewersMayView, ReadOnlyAdmin):
    list_display = ("id", "milestone", "kind", "amount_cents", "client_fee_cents", "created_at")
    list_filter = ("kind",)

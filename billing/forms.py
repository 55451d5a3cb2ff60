from django import forms

from contracts.forms.confirmation import PreviewedForm, idempotency_key_field, previewed_cents_field
from contracts.forms.fields import DollarsField


class RefundForm(PreviewedForm):
    """A refund, previewed then confirmed. The amount is always typed (or filled in by
    the "all that is left" button): nothing is pre-filled. The confirmation carries
    what the preview showed (the amount and what had been refunded before), so a
    confirmation that no longer matches the payment is refused rather than done."""

    amount = DollarsField(label="Amount to refund", error_messages={"required": "Enter the amount to refund."})
    reason = forms.CharField(label="Reason (shown to the client)", max_length=500, required=False)
    idempotency_key = idempotency_key_field()
    previewed_amount = previewed_cents_field()
    refunded_before = previewed_cents_field()

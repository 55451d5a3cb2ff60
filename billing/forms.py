from django import forms

from contracts.forms.fields import DollarsField

from .services.ledger import REQUEST_KEY_MAX_LENGTH


class RefundForm(forms.Form):
    amount = DollarsField(label="Amount to refund")
    reason = forms.CharField(label="Reason (shown to the client)", max_length=500, required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=REQUEST_KEY_MAX_LENGTH)

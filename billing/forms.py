from django import forms

from contracts.forms.fields import DollarsField


class RefundForm(forms.Form):
    amount = DollarsField(label="Amount to refund")
    reason = forms.CharField(label="Reason (shown to the client)", max_length=500, required=False)
    # The page sends a 32-character key; the ledger's key column (200) also holds a prefix.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

from django import forms

from billing.services.ledger import REQUEST_KEY_MAX_LENGTH

from .fields import DollarsField


class SubmitWorkForm(forms.Form):
    note = forms.CharField(
        label="Message to the client", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReleaseForm(forms.Form):
    amount = DollarsField(required=False, label="Amount (leave empty to pay all of the escrow)")
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=REQUEST_KEY_MAX_LENGTH)


class DisputeForm(forms.Form):
    statement = forms.CharField(
        label="Why do you dispute the refund? An admin reads both sides.",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

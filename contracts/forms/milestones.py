from django import forms

from .confirmation import PreviewedForm, idempotency_key_field, previewed_cents_field
from .fields import DollarsField


class SubmitWorkForm(forms.Form):
    note = forms.CharField(
        label="Message to the client", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReleaseForm(PreviewedForm):
    """A payment out of a milestone's escrow, previewed then confirmed. The amount is
    always typed (or filled in by the "all in escrow" button): an empty amount is an
    error, not "pay everything". The confirmation carries what the preview showed
    (the amount and the escrow held then)."""

    amount = DollarsField(label="Amount to pay", error_messages={"required": "Enter the amount to pay."})
    idempotency_key = idempotency_key_field()
    previewed_amount = previewed_cents_field()
    held_before = previewed_cents_field()


class DisputeForm(forms.Form):
    statement = forms.CharField(
        label="Why do you dispute the refund? An admin reads both sides.",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

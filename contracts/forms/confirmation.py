"""Forms of money that cannot come back (a refund, a milestone payment): the amount is
typed, previewed with what will move, then confirmed. The confirmation carries the
figures of the preview in hidden fields, so the view can tell a confirmation of what
was shown from one of something else."""

from django import forms

from billing.services.ledger import REQUEST_KEY_MAX_LENGTH

RELOAD = "This form does not match the page it came from: reload the page and try again."


def idempotency_key_field() -> forms.CharField:
    return forms.CharField(
        widget=forms.HiddenInput,
        max_length=REQUEST_KEY_MAX_LENGTH,
        error_messages={"required": RELOAD, "max_length": RELOAD},
    )


def previewed_cents_field() -> forms.IntegerField:
    """Cents the preview showed; empty until there was a preview."""
    return forms.IntegerField(
        widget=forms.HiddenInput,
        required=False,
        min_value=0,
        max_value=10**12,
        error_messages={key: RELOAD for key in ("invalid", "min_value", "max_value")},
    )


class PreviewedForm(forms.Form):
    def top_errors(self) -> list[str]:
        """The errors shown above the form: those of no field, and those of the
        hidden fields a person cannot correct (said once)."""
        errors = list(self.non_field_errors())
        for field in self.hidden_fields():
            errors += [error for error in field.errors if error not in errors]
        return errors

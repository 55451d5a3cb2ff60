from django import forms

from billing.money import parse_dollars


class DollarsField(forms.CharField):
    """A dollar amount typed by a person, cleaned to integer cents."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 16)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("inputmode", "decimal")
        self.widget.attrs.setdefault("placeholder", "0.00")

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return None
        if not value.isascii():
            # Other scripts' digits ("١٢", "²") are not amounts people type here.
            raise forms.ValidationError("Enter an amount in dollars, such as 125.50.")
        try:
            return parse_dollars(value)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

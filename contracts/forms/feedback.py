from django import forms

from ..models import EndReason

RATINGS = [(value, str(value)) for value in range(1, 6)]


class FeedbackForm(forms.Form):
    public_comment = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Public comment (shown on their profile once feedback is revealed)",
    )
    private_reason = forms.ChoiceField(
        choices=EndReason.choices,
        widget=forms.RadioSelect,
        label="Reason for ending (private: never shown to them)",
        error_messages={"required": "Choose your reason for ending (private)."},
    )
    private_recommend = forms.TypedChoiceField(
        choices=[(value, str(value)) for value in range(0, 11)],
        coerce=int,
        label="How likely are you to recommend them, from 0 to 10? (private)",
        error_messages={"required": "Say how likely you are to recommend them, from 0 to 10."},
    )

    def __init__(self, *args, criteria=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        for code, label in criteria:
            self.fields[f"score_{code}"] = forms.TypedChoiceField(
                choices=RATINGS,
                coerce=int,
                widget=forms.RadioSelect(attrs={"class": "stars"}),
                label=label,
                error_messages={"required": f"Rate “{label}” from 1 to 5."},
            )
        self.order_fields([f"score_{code}" for code, _ in criteria])

    @property
    def score_fields(self):
        return [self[f"score_{code}"] for code, _ in self.criteria]

    def scores(self) -> dict[str, int]:
        return {code: self.cleaned_data[f"score_{code}"] for code, _ in self.criteria}


class FeedbackResponseForm(forms.Form):
    text = forms.CharField(max_length=3000, widget=forms.Textarea(attrs={"rows": 2}), label="Your public response")

from django import forms

from billing.money import format_cents

from ..models import REVIEWER_DECISIONS
from .fields import DollarsField


class FlagDecisionForm(forms.Form):
    """A reviewer's decision on a flag; the service checks everything else."""

    decision = forms.ChoiceField(
        choices=[(kind.value, kind.label) for kind in REVIEWER_DECISIONS],
        widget=forms.RadioSelect,
        label="Decision",
        error_messages={"required": "Choose dismiss, warn or suspend."},
    )
    note = forms.CharField(
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Internal note (why you decided this; reviewers read it, the user never does)",
        error_messages={"required": "Write a note: it records why you decided this."},
    )
    message_to_user = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=(
            "Message to the user (optional; with a warning or a suspension they read the rule, its public "
            "explanation and this message)"
        ),
    )


class DisputeOutcome:
    ALL_TO_CLIENT = "client"
    SPLIT = "split"
    ALL_TO_FREELANCER = "freelancer"


class DisputeDecisionForm(forms.Form):
    """The split of a disputed refund request. "All back to the client" is its own
    choice, because a typed amount must be more than zero."""

    outcome = forms.ChoiceField(
        widget=forms.RadioSelect,
        label="Decision",
        error_messages={"required": "Choose how to split the escrow."},
    )
    freelancer_share = DollarsField(required=False, label="Freelancer's share (dollars)")
    note = forms.CharField(
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Note (both parties read it)",
        error_messages={"required": "Write a note: both parties read why you decided this split."},
    )

    def __init__(self, *args, amount_cents: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.amount_cents = amount_cents
        self.fields["outcome"].choices = [
            (DisputeOutcome.ALL_TO_CLIENT, f"All {format_cents(amount_cents)} back to the client"),
            (DisputeOutcome.SPLIT, "Split: the freelancer gets the amount below, the rest goes back to the client"),
            (DisputeOutcome.ALL_TO_FREELANCER, f"All {format_cents(amount_cents)} to the freelancer"),
        ]

    def clean(self):
        cleaned = super().clean()
        split = cleaned.get("outcome") == DisputeOutcome.SPLIT
        if split and not cleaned.get("freelancer_share") and "freelancer_share" not in self.errors:
            self.add_error("freelancer_share", "Enter the freelancer's share, or choose all to one party.")
        return cleaned

    def freelancer_cents(self) -> int:
        outcome = self.cleaned_data["outcome"]
        if outcome == DisputeOutcome.ALL_TO_CLIENT:
            return 0
        if outcome == DisputeOutcome.ALL_TO_FREELANCER:
            return self.amount_cents
        return self.cleaned_data["freelancer_share"]

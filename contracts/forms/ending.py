from django import forms

from billing.money import format_cents

from ..models import EndReason
from ..services import MilestoneChoice, MilestoneDecision
from .fields import DollarsField


class EndContractForm(forms.Form):
    """The end form: a private reason, a private note, and for a client ending a
    fixed-price contract at once, a choice for every milestone still in escrow.

    ``milestones`` are the plan's ``milestones_to_decide``: the plan says whose choice
    it is. ``plan_transition`` and ``state`` carry what the preview the user read was
    for; if the contract has moved on since, the view refuses and shows the new preview.
    """

    reason = forms.ChoiceField(
        choices=EndReason.choices,
        widget=forms.RadioSelect,
        label="Why are you ending this contract? (private: the other party never sees it)",
        error_messages={"required": "Choose a reason for ending the contract."},
    )
    note = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Anything to add? (private)",
    )
    plan_transition = forms.CharField(widget=forms.HiddenInput)
    state = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, milestones=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.milestone_fields = []
        for outcome in milestones:
            milestone, held_cents = outcome.milestone, outcome.held_cents
            choice_name, amount_name = f"milestone_{milestone.pk}_choice", f"milestone_{milestone.pk}_amount"
            self.fields[choice_name] = forms.ChoiceField(
                choices=MilestoneChoice.choices,
                widget=forms.RadioSelect,
                label=f"“{milestone.title}”: {format_cents(held_cents)} in escrow",
                error_messages={"required": f"Choose how much to pay for “{milestone.title}”."},
            )
            self.fields[amount_name] = DollarsField(required=False, label="Amount to pay")
            self.milestone_fields.append((milestone, held_cents, self[choice_name], self[amount_name]))
        if self.milestone_fields:
            self.fields["message_to_freelancer"] = forms.CharField(
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
                label="Message to the freelancer about what you do not pay (shown with the refund request)",
            )

    def clean(self):
        cleaned = super().clean()
        for milestone, _held, choice, amount in self.milestone_fields:
            if cleaned.get(choice.name) == MilestoneChoice.PAY_PART and not cleaned.get(amount.name):
                self.add_error(amount.name, f"Enter how much of “{milestone.title}” to pay.")
        return cleaned

    def decisions(self) -> dict[int, MilestoneDecision]:
        """The milestone choices made so far (all of them once the form is valid)."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        decisions = {}
        for milestone, _held, choice, amount in self.milestone_fields:
            picked = data.get(choice.name)
            if picked:
                decisions[milestone.pk] = MilestoneDecision(picked, data.get(amount.name) or 0)
        return decisions


class DeclineEndForm(forms.Form):
    message = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Message to the other party (optional)",
    )

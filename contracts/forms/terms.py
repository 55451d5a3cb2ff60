from django import forms
from django.conf import settings

from .fields import DollarsField


class PrefixedIds:
    """Field ids of their own (``auto_id``), so the form sits on the contract page beside others."""

    auto_id = "id_%s"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", self.auto_id)
        super().__init__(*args, **kwargs)


class MilestoneAddForm(PrefixedIds, forms.Form):
    auto_id = "milestone-%s"
    title = forms.CharField(
        label="Milestone", max_length=200, error_messages={"required": "Give the milestone a title."}
    )
    amount = DollarsField(label="Amount", error_messages={"required": "Enter the amount of the milestone."})
    due_date = forms.DateField(
        label="Due date (optional)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class WeeklyLimitForm(PrefixedIds, forms.Form):
    """A number of hours a week, or no limit at all (``hours`` is then None)."""

    auto_id = "limit-%s"

    limit = forms.ChoiceField(
        label="The weekly limit",
        choices=(("hours", "A number of hours a week"), ("none", "No weekly limit")),
        initial="hours",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a number of hours a week or no limit."},
    )
    hours = forms.IntegerField(
        label="Hours a week", required=False, min_value=1, max_value=settings.MAX_WEEKLY_HOUR_LIMIT
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("limit") == "none":
            cleaned["hours"] = None
        elif cleaned.get("limit") == "hours" and "hours" not in self.errors and cleaned.get("hours") is None:
            self.add_error("hours", "Enter the hours a week, or choose no weekly limit.")
        return cleaned


class RateProposalForm(PrefixedIds, forms.Form):
    auto_id = "proposal-%s"
    rate = DollarsField(label="New rate an hour", error_messages={"required": "Enter the new rate an hour."})
    message = forms.CharField(
        label="Message to the other party (optional)",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RateDeclineForm(forms.Form):
    message = forms.CharField(
        label="Message to the proposer (optional)",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

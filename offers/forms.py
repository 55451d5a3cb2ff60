"""The forms of offers: sending one (its terms, and for fixed price a formset of
milestones that grows by one row with "Add a milestone", without JavaScript or through
htmx), and declining one with a reason. Each field refuses what the policy refuses,
with the sentence at the field; the service checks all of it again."""

from datetime import date, timedelta

from django import forms
from django.conf import settings
from django.forms import formset_factory

from billing.money import format_cents
from contracts.forms.fields import DollarsField
from contracts.models import ContractKind

from .services import DECLINE_REASON_MAX_LENGTH, DESCRIPTION_MAX_LENGTH

MAX_MILESTONES = 20
MILESTONES_PREFIX = "milestones"

# Where a refusal of the service is shown, by its code (the term it is about).
FIELD_OF_CODE = {
    "freelancer": "to",
    "title": "title",
    "description": "description",
    "kind": "kind",
    "hourly_rate_cents": "hourly_rate",
    "weekly_hour_limit": "weekly_hour_limit",
    "notice_days": "notice_days",
    "start_date": "start_date",
}


def _check_amount(cents: int) -> int:
    minimum, maximum = settings.MILESTONE_MINIMUM_CENTS, settings.MILESTONE_MAXIMUM_CENTS
    if cents < minimum:
        raise forms.ValidationError(f"A milestone must be at least {format_cents(minimum)}.")
    if cents > maximum:
        raise forms.ValidationError(f"A milestone can be at most {format_cents(maximum)}: split larger work.")
    return cents


class OfferForm(forms.Form):
    to = forms.CharField(
        label="Freelancer: username or e-mail address",
        max_length=254,
        help_text="Someone without an account is e-mailed an invitation to sign up that leads to the offer.",
        error_messages={"required": "Type the freelancer's username or e-mail address."},
    )
    title = forms.CharField(
        label="Title", max_length=200, error_messages={"required": "Give the offer a title: it names the contract."}
    )
    description = forms.CharField(
        label="Description of the work",
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Describe the work: the freelancer reads it before accepting."},
    )
    kind = forms.ChoiceField(
        label="Kind of contract",
        choices=ContractKind.choices,
        widget=forms.RadioSelect,
        initial=ContractKind.FIXED,
        error_messages={"required": "Choose hourly or fixed-price.", "invalid_choice": "Choose hourly or fixed-price."},
    )
    hourly_rate = DollarsField(label="Hourly rate", required=False)
    weekly_hour_limit = forms.IntegerField(
        label="Weekly limit in hours (empty: no limit)",
        required=False,
        min_value=1,
        max_value=settings.MAX_WEEKLY_HOUR_LIMIT,
        error_messages={
            "invalid": "Enter a whole number of hours, or leave it empty for no limit.",
            "min_value": f"The weekly limit must be between 1 and {settings.MAX_WEEKLY_HOUR_LIMIT} hours.",
            "max_value": f"The weekly limit must be between 1 and {settings.MAX_WEEKLY_HOUR_LIMIT} hours.",
        },
    )
    manual_time_allowed = forms.BooleanField(
        label="The freelancer may record time for earlier days (manual time)", required=False, initial=True
    )
    notice_days = forms.IntegerField(
        label="Notice period in days (0: either of you may end at once)",
        initial=0,
        min_value=0,
        max_value=settings.MAX_NOTICE_DAYS,
        error_messages={
            "required": "Enter a notice period in days (0 for none).",
            "invalid": f"Enter a whole number of days from 0 to {settings.MAX_NOTICE_DAYS}.",
            "min_value": f"The notice period must be between 0 and {settings.MAX_NOTICE_DAYS} days.",
            "max_value": f"The notice period must be between 0 and {settings.MAX_NOTICE_DAYS} days.",
        },
    )
    start_date = forms.DateField(
        label="Start date",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "Choose a start date.", "invalid": "Enter a date such as 2026-06-15."},
    )

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.horizon = today + timedelta(days=settings.OFFER_HORIZON_DAYS)
        self.fields["start_date"].initial = today

    def clean_start_date(self):
        start = self.cleaned_data["start_date"]
        if not self.today <= start <= self.horizon:
            raise forms.ValidationError(
                f"Choose a start date from today ({self.today:%Y-%m-%d}) to {self.horizon:%Y-%m-%d}."
            )
        return start

    def clean_hourly_rate(self):
        rate = self.cleaned_data["hourly_rate"]
        if rate is not None and rate > settings.MAX_HOURLY_RATE_CENTS:
            raise forms.ValidationError(
                f"The hourly rate can be at most {format_cents(settings.MAX_HOURLY_RATE_CENTS)}."
            )
        return rate

    def clean(self):
        cleaned = super().clean()
        rate_missing = cleaned.get("hourly_rate") is None and "hourly_rate" not in self.errors
        if cleaned.get("kind") == ContractKind.HOURLY and rate_missing:
            self.add_error("hourly_rate", "An hourly contract needs an hourly rate above $0.00.")
        return cleaned

    @property
    def is_hourly(self) -> bool:
        return self["kind"].value() == ContractKind.HOURLY


class OfferMilestoneForm(forms.Form):
    title = forms.CharField(
        label="Milestone", max_length=200, error_messages={"required": "Give the milestone a title."}
    )
    amount = DollarsField(label="Amount", error_messages={"required": "Enter the amount of the milestone."})
    due_date = forms.DateField(
        label="Due date (optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date such as 2026-06-15."},
    )

    def clean_amount(self):
        return _check_amount(self.cleaned_data["amount"])


class BaseMilestoneFormSet(forms.BaseFormSet):
    """The offer's milestones: at least one, empty rows left out, due dates from the
    start date (``start_date``, set by the view once the offer's form is read) on."""

    default_error_messages = {
        "missing_management_form": "This form does not match the page it came from: reload the page and try again.",
        "too_many_forms": f"An offer has at most {MAX_MILESTONES} milestones.",
        "too_few_forms": "A fixed-price offer needs at least one milestone.",
    }
    start_date: date | None = None
    horizon: date | None = None

    def clean(self):
        if any(self.errors):
            return
        if not any(form.cleaned_data for form in self.forms):
            raise forms.ValidationError(self.error_messages["too_few_forms"], code="too_few_forms")
        for form in self.forms:
            due = form.cleaned_data.get("due_date")
            if due is None:
                continue
            if self.start_date and due < self.start_date:
                form.add_error(
                    "due_date", f"Choose a due date on or after the start date ({self.start_date:%Y-%m-%d})."
                )
            elif self.horizon and due > self.horizon:
                form.add_error("due_date", f"Choose a due date until {self.horizon:%Y-%m-%d}.")

    def milestones(self) -> list[tuple]:
        return [
            (form.cleaned_data["title"], form.cleaned_data["amount"], form.cleaned_data.get("due_date"))
            for form in self.forms
            if form.cleaned_data
        ]


MilestoneFormSet = formset_factory(
    OfferMilestoneForm,
    formset=BaseMilestoneFormSet,
    extra=1,
    max_num=MAX_MILESTONES,
    validate_max=True,
    absolute_max=MAX_MILESTONES,
)


def milestone_formset(data=None, *, start_date=None, horizon=None, rows: int | None = None) -> BaseMilestoneFormSet:
    """The milestones' formset; ``rows`` asks for that many rows (one more than was
    sent, for "Add a milestone"), never more than ``MAX_MILESTONES``."""
    if data is not None and rows is not None:
        data = data.copy()
        data[f"{MILESTONES_PREFIX}-TOTAL_FORMS"] = str(max(1, min(rows, MAX_MILESTONES)))
    formset = MilestoneFormSet(data, prefix=MILESTONES_PREFIX)
    formset.start_date, formset.horizon = start_date, horizon
    return formset


def rows_sent(data) -> int:
    """How many milestone rows the form had, from its management form (1 when unreadable)."""
    try:
        return max(1, int(data.get(f"{MILESTONES_PREFIX}-TOTAL_FORMS", "1")))
    except (TypeError, ValueError):
        return 1


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="Why do you decline? The client reads it.",
        max_length=DECLINE_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Tell the client why you decline: they read your reason."},
    )

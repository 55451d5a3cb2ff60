from django import forms

from contracts_portal.errors import DomainError

from .models import DISPLAY_NAME_MAX_LENGTH, HEADLINE_MAX_LENGTH, EmailTopic
from .profiles import public_line
from .time_zones import time_zone_choices


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(
        label="Time zone",
        help_text="Dates you type, such as work diary days, are in this zone, and every time is shown in it.",
        error_messages={
            "required": "Choose your time zone.",
            "invalid_choice": "Choose a time zone from the list, such as Europe/Paris.",
        },
    )

    def __init__(self, *args, current: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = time_zone_choices(current=current)


class PublicProfileForm(forms.Form):
    display_name = forms.CharField(
        label="Display name",
        required=False,
        max_length=DISPLAY_NAME_MAX_LENGTH,
        help_text="How others see you named on contracts, in notifications and e-mails, and on your public profile. "
        "Leave it empty to show your name or username.",
        error_messages={"max_length": f"Keep your display name to {DISPLAY_NAME_MAX_LENGTH} characters."},
    )
    headline = forms.CharField(
        label="Headline",
        required=False,
        max_length=HEADLINE_MAX_LENGTH,
        help_text="One line on your public profile, such as “Python developer, Django and PostgreSQL”.",
        error_messages={"max_length": f"Keep your headline to {HEADLINE_MAX_LENGTH} characters."},
    )

    def _line(self, name: str, *, label: str, max_length: int) -> str:
        try:
            return public_line(self.cleaned_data[name], label=label, max_length=max_length)
        except DomainError as error:
            raise forms.ValidationError(error.message) from None

    def clean_display_name(self) -> str:
        return self._line("display_name", label="display name", max_length=DISPLAY_NAME_MAX_LENGTH)

    def clean_headline(self) -> str:
        return self._line("headline", label="headline", max_length=HEADLINE_MAX_LENGTH)


EMAIL_CHOICES = [("on", "E-mail me"), ("off", "Only notify me in the portal")]


class EmailPreferencesForm(forms.Form):
    """For each kind of e-mail a person may turn off (``EmailTopic``): e-mail them, or
    only the in-app notification."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for topic in EmailTopic:
            self.fields[topic.value] = forms.ChoiceField(
                label=topic.label,
                choices=EMAIL_CHOICES,
                widget=forms.RadioSelect,
                error_messages={
                    "required": "Choose whether you want these e-mails.",
                    "invalid_choice": "Choose “E-mail me” or “Only notify me in the portal”.",
                },
            )

    def topics(self) -> dict[str, bool]:
        return {topic.value: self.cleaned_data[topic.value] == "on" for topic in EmailTopic}

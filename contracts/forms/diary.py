from datetime import date

from django import forms


class DiaryEntryForm(forms.Form):
    work_date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    hours = forms.IntegerField(label="Hours", min_value=0, max_value=24, initial=0)
    minutes = forms.IntegerField(label="Minutes", min_value=0, max_value=59, initial=0)
    memo = forms.CharField(label="What did you work on?", max_length=500)

    def __init__(self, *args, today: date, only_today: bool = False, **kwargs):
        """``today`` is the freelancer's own date (accounts.profiles.user_today): the
        form starts there, and the date picker offers no later day, nor, on a contract
        without manual time (``only_today``), an earlier one."""
        super().__init__(*args, **kwargs)
        self.fields["work_date"].initial = today
        self.fields["work_date"].widget.attrs["max"] = today.isoformat()
        if only_today:
            self.fields["work_date"].widget.attrs["min"] = today.isoformat()

    def clean(self):
        cleaned = super().clean()
        hours, minutes = cleaned.get("hours"), cleaned.get("minutes")
        if hours is not None and minutes is not None:
            cleaned["total_minutes"] = hours * 60 + minutes
            if cleaned["total_minutes"] == 0:
                raise forms.ValidationError("Record at least one minute.")
        return cleaned

    @classmethod
    def for_entry(cls, entry, *, today: date):
        return cls(
            today=today,
            only_today=not entry.contract.manual_time_allowed,
            initial={
                "work_date": entry.work_date,
                "hours": entry.minutes // 60,
                "minutes": entry.minutes % 60,
                "memo": entry.memo,
            }
        )

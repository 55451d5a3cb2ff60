"""The weekly billing cycle as the diary page shows it: fixed in UTC, whatever the
viewer's time zone."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from .models import week_edit_deadline, week_start


@dataclass(frozen=True)
class BillingWeek:
    monday: date  # from 00:00 UTC
    sunday: date  # to 23:59 UTC
    closes_at: datetime  # the Monday after it, at the invoice hour: invoiced, its time no longer changes
    last_week_closes_at: datetime  # this week's Monday, at the invoice hour
    last_week_open: bool  # last week's time can still change


def billing_week(at: datetime) -> BillingWeek:
    """The billing week (Monday 00:00 to Sunday 23:59 UTC) holding the moment ``at``."""
    monday = week_start(at.astimezone(UTC).date())
    last_week_closes_at = week_edit_deadline(monday - timedelta(days=1))
    return BillingWeek(
        monday=monday,
        sunday=monday + timedelta(days=6),
        closes_at=week_edit_deadline(monday),
        last_week_closes_at=last_week_closes_at,
        last_week_open=at < last_week_closes_at,
    )

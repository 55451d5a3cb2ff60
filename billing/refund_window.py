"""The refund window: the one definition the refund service, the Refunds page, the
selectors and the admin all read.

A payment can be refunded for ``REFUND_WINDOW_DAYS`` (180) days counted to the second
from the instant it was made: paid at 10:00 on day 0, it is refundable until 10:00 on
day 180 and refused a minute later. 180 days is about as long as a client's bank still
accepts a dispute of the charge, so a freelancer can always settle a complaint in the
portal rather than by chargeback; past it, a refund would move money nobody can
dispute any more.
"""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone


def refund_window() -> timedelta:
    return timedelta(days=settings.REFUND_WINDOW_DAYS)


def refundable_until(paid_at: datetime) -> datetime:
    """The last instant at which a payment made at ``paid_at`` can be refunded."""
    return paid_at + refund_window()


def refund_window_is_open(paid_at: datetime, now: datetime | None = None) -> bool:
    return (now or timezone.now()) <= refundable_until(paid_at)


def oldest_refundable_paid_at(now: datetime | None = None) -> datetime:
    """Payments made at or after this instant are still refundable (for querysets:
    ``paid_at__gte=oldest_refundable_paid_at(now)``)."""
    return (now or timezone.now()) - refund_window()


def refund_window_refusal(payment, now: datetime | None = None) -> str | None:
    """Why ``payment`` can no longer be refunded, or None while it can."""
    if refund_window_is_open(payment.paid_at, now):
        return None
    paid_at = payment.paid_at.astimezone(UTC)
    closed_at = refundable_until(paid_at)
    return (
        f"Refunds are possible for {settings.REFUND_WINDOW_DAYS} days after a payment: this one was made on "
        f"{paid_at:%Y-%m-%d %H:%M} UTC and could be refunded until {closed_at:%Y-%m-%d %H:%M} UTC."
    )

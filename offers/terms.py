"""What an offer's terms mean, in figures, for the person who reads them before
accepting: the fees on both sides and what the freelancer nets, and the policy that
applies at the end (notice, escrow, weekly billing, reviews). Every number comes from
the offer and the policy settings, and every amount from ``billing.money``."""

from dataclasses import dataclass

from django.conf import settings

from billing.money import fee_cents


def percent(basis_points: int) -> str:
    """Basis points as a person reads them: 1000 → "10%", 750 → "7.5%"."""
    whole, rest = divmod(basis_points, 100)
    return f"{whole}%" if not rest else f"{whole}.{rest:02d}".rstrip("0") + "%"


@dataclass(frozen=True)
class MilestoneFigures:
    position: int
    title: str
    amount_cents: int
    due_date: object
    service_fee_cents: int

    @property
    def net_cents(self) -> int:
        return self.amount_cents - self.service_fee_cents


@dataclass(frozen=True)
class OfferTerms:
    """An offer's figures: for fixed price, its milestones (the first funded when the
    offer is accepted, charged with the client's marketplace fee) and their total; for
    hourly, the rate and, with a weekly limit, the most a week can bill. The
    freelancer's service fee is taken on every payment, so the net is the gross less it."""

    is_hourly: bool
    service_fee: str  # "10%"
    marketplace_fee: str  # "5%"
    notice_days: int
    milestones: tuple[MilestoneFigures, ...]
    total_cents: int
    total_service_fee_cents: int
    first_funding_cents: int  # the first milestone, into escrow when the offer is accepted
    first_marketplace_fee_cents: int  # charged to the client on top of it
    rate_cents: int | None
    rate_service_fee_cents: int
    weekly_hour_limit: int | None
    weekly_max_cents: int
    weekly_max_service_fee_cents: int
    manual_time_allowed: bool
    auto_release_days: int
    refund_request_response_days: int
    invoice_hour_utc: int

    @property
    def total_net_cents(self) -> int:
        return self.total_cents - self.total_service_fee_cents

    @property
    def first_charge_cents(self) -> int:
        return self.first_funding_cents + self.first_marketplace_fee_cents

    @property
    def rate_net_cents(self) -> int:
        return (self.rate_cents or 0) - self.rate_service_fee_cents

    @property
    def weekly_max_net_cents(self) -> int:
        return self.weekly_max_cents - self.weekly_max_service_fee_cents


def offer_terms(offer) -> OfferTerms:
    service_bps, marketplace_bps = settings.FREELANCER_SERVICE_FEE_BPS, settings.CLIENT_MARKETPLACE_FEE_BPS
    milestones = tuple(
        MilestoneFigures(
            position=milestone.position,
            title=milestone.title,
            amount_cents=milestone.amount_cents,
            due_date=milestone.due_date,
            service_fee_cents=fee_cents(milestone.amount_cents, service_bps),
        )
        for milestone in offer.milestones.order_by("position")
    )
    first = milestones[0].amount_cents if milestones else 0
    rate = offer.hourly_rate_cents
    weekly_max = rate * offer.weekly_hour_limit if rate and offer.weekly_hour_limit else 0
    return OfferTerms(
        is_hourly=offer.is_hourly,
        service_fee=percent(service_bps),
        marketplace_fee=percent(marketplace_bps),
        notice_days=offer.notice_days,
        milestones=milestones,
        total_cents=sum(milestone.amount_cents for milestone in milestones),
        total_service_fee_cents=sum(milestone.service_fee_cents for milestone in milestones),
        first_funding_cents=first,
        first_marketplace_fee_cents=fee_cents(first, marketplace_bps),
        rate_cents=rate,
        rate_service_fee_cents=fee_cents(rate, service_bps) if rate else 0,
        weekly_hour_limit=offer.weekly_hour_limit,
        weekly_max_cents=weekly_max,
        weekly_max_service_fee_cents=fee_cents(weekly_max, service_bps),
        manual_time_allowed=offer.manual_time_allowed,
        auto_release_days=settings.MILESTONE_AUTO_RELEASE_DAYS,
        refund_request_response_days=settings.REFUND_REQUEST_RESPONSE_DAYS,
        invoice_hour_utc=settings.HOURLY_WEEK_INVOICE_HOUR_UTC,
    )

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.profiles import user_today
from billing.money import format_cents
from contracts_portal.errors import DomainError

from ..models import Contract, ContractKind, Milestone
from ..models.terms import MILESTONE_ADDED
from .locking import lock_contract
from .transitions import record


def _check_milestone_amount(amount_cents: int) -> None:
    minimum = settings.MILESTONE_MINIMUM_CENTS
    if amount_cents < minimum:
        raise DomainError(f"A milestone must be at least {format_cents(minimum)}.", code="amount")
    maximum = settings.MILESTONE_MAXIMUM_CENTS
    if amount_cents > maximum:
        raise DomainError(
            f"A milestone can be at most {format_cents(maximum)}: split larger work into several.", code="amount"
        )


def contract_terms_check(
    *,
    client,
    freelancer,
    kind: str,
    title: str,
    hourly_rate_cents: int | None = None,
    weekly_hour_limit: int | None = None,
    notice_days: int = 0,
    milestones: list[tuple] | tuple = (),
) -> None:
    """Refuse terms a contract cannot start on, with the reason (a ``DomainError``
    whose ``code`` names the term). ``freelancer`` is None while it is not known yet
    (an offer to someone invited by e-mail)."""
    if freelancer is not None and client.pk == freelancer.pk:
        raise DomainError(
            "A contract needs two different people: the client cannot be the freelancer.", code="freelancer"
        )
    if not title.strip():
        raise DomainError("Give the contract a title.", code="title")
    if not 0 <= notice_days <= settings.MAX_NOTICE_DAYS:
        raise DomainError(
            f"The notice period must be between 0 and {settings.MAX_NOTICE_DAYS} days.", code="notice_days"
        )
    if kind == ContractKind.HOURLY:
        if not hourly_rate_cents or hourly_rate_cents <= 0:
            raise DomainError("An hourly contract needs an hourly rate above $0.00.", code="hourly_rate_cents")
        if hourly_rate_cents > settings.MAX_HOURLY_RATE_CENTS:
            raise DomainError(
                f"The hourly rate can be at most {format_cents(settings.MAX_HOURLY_RATE_CENTS)}.",
                code="hourly_rate_cents",
            )
        if weekly_hour_limit is not None and not 0 < weekly_hour_limit <= settings.MAX_WEEKLY_HOUR_LIMIT:
            raise DomainError(
                f"The weekly limit must be between 1 and {settings.MAX_WEEKLY_HOUR_LIMIT} hours.",
                code="weekly_hour_limit",
            )
        if milestones:
            raise DomainError("Hourly contracts have no milestones.", code="milestones")
    elif kind == ContractKind.FIXED:
        if hourly_rate_cents is not None or weekly_hour_limit is not None:
            raise DomainError(
                "A fixed-price contract has milestones, not an hourly rate or weekly limit.", code="hourly_rate_cents"
            )
        for milestone in milestones:
            _check_milestone_amount(milestone[1])
    else:
        raise DomainError("Choose hourly or fixed-price.", code="kind")


def contract_create(
    *,
    client,
    freelancer,
    kind: str,
    title: str,
    description: str = "",
    hourly_rate_cents: int | None = None,
    weekly_hour_limit: int | None = None,
    notice_days: int = 0,
    milestones: list[tuple] | tuple = (),
    started_at=None,
    manual_time_allowed: bool = True,
) -> Contract:
    """Start a contract on agreed terms; fixed-price contracts start with their milestones
    (title, amount in cents, and optionally a due date). The parties and the agreed
    terms never change afterwards (``Contract.FROZEN_TERMS``)."""
    contract_terms_check(
        client=client,
        freelancer=freelancer,
        kind=kind,
        title=title,
        hourly_rate_cents=hourly_rate_cents,
        weekly_hour_limit=weekly_hour_limit,
        notice_days=notice_days,
        milestones=milestones,
    )
    with transaction.atomic():
        contract = Contract.objects.create(
            client=client,
            freelancer=freelancer,
            kind=kind,
            title=title.strip(),
            description=description,
            hourly_rate_cents=hourly_rate_cents,
            weekly_hour_limit=weekly_hour_limit,
            notice_days=notice_days,
            started_at=started_at or timezone.now(),
            manual_time_allowed=manual_time_allowed,
        )
        Milestone.objects.bulk_create(
            Milestone(
                contract=contract,
                position=position,
                title=milestone[0],
                amount_cents=milestone[1],
                due_date=milestone[2] if len(milestone) > 2 else None,
            )
            for position, milestone in enumerate(milestones, start=1)
        )
    return contract


def _may_add_milestones(contract: Contract, by) -> None:
    if by is None or (by.pk != contract.client_id and not by.has_perm("contracts.add_milestone")):
        raise DomainError("Only the client of this contract can add milestones.")
    if contract.is_hourly:
        raise DomainError("Hourly contracts have no milestones.")
    if not contract.is_open:
        raise DomainError("This contract has ended; no milestones can be added.")


def milestone_add_refusal(*, contract: Contract, by) -> str | None:
    """Why ``by`` cannot add any milestone to the contract now, or None."""
    try:
        _may_add_milestones(contract, by)
    except DomainError as error:
        return error.message
    return None


def milestone_add_check(*, contract: Contract, by, title: str, amount_cents: int, due_date: date | None = None) -> None:
    _may_add_milestones(contract, by)
    if not title.strip():
        raise DomainError("Give the milestone a title.", code="title")
    _check_milestone_amount(amount_cents)
    if due_date is not None:
        today = user_today(by)
        if due_date < today:
            raise DomainError("The due date has passed: choose today or a later day.", code="due_date")
        if due_date > today + timedelta(days=settings.OFFER_HORIZON_DAYS):
            raise DomainError(f"Choose a due date at most {settings.OFFER_HORIZON_DAYS} days ahead.", code="due_date")


def milestone_add(*, contract: Contract, by, title: str, amount_cents: int, due_date: date | None = None) -> Milestone:
    """Add a milestone to an open fixed-price contract: by its client, or by platform
    staff allowed to add milestones (in the admin). It goes into the contract's history
    and the freelancer is told; the client funds it as any other."""
    with transaction.atomic():
        contract = lock_contract(contract.pk)
        milestone_add_check(contract=contract, by=by, title=title, amount_cents=amount_cents, due_date=due_date)
        position = contract.milestones.count() + 1
        milestone = Milestone.objects.create(
            contract=contract, position=position, title=title.strip(), amount_cents=amount_cents, due_date=due_date
        )
        milestone.contract = contract
        due = f", due {due_date:%Y-%m-%d}" if due_date else ""
        reason = f"“{milestone.title}”, {format_cents(amount_cents)}{due}"
        record(milestone, MILESTONE_ADDED, by=by, at=timezone.now(), reason=reason)
        return milestone

"""Changing the terms of a running hourly contract: the client's weekly limit, and a
new rate proposed by one party and accepted (or declined) by the other. Each applies
from the next billing week (``contracts.models.terms``); each is a history row with
its notifications, written in the transaction of the change.

A proposed rate waits at most ``RATE_CHANGE_EXPIRY_DAYS`` for an answer, as a proposal
to end the contract does: then the deadline sweep lets it lapse (once), and the rate
stays as it was. A proposal is also taken as lapsed by anyone who acts on the contract
after that moment and before the sweep.
"""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.money import format_cents
from contracts_portal.errors import DomainError

from ..models import (
    Contract,
    JobKind,
    RateChange,
    RateChangeProposal,
    RateChangeState,
    WeeklyLimitChange,
    hourly_rates,
    next_billing_week,
    weekly_limits,
)
from ..models.terms import RATE_CHANGE_PROPOSED, WEEKLY_LIMIT_CHANGED, describe_limit, describe_week
from .jobs import job_handler
from .locking import lock_contract
from .transitions import record, take

MESSAGE_MAX_LENGTH = 2000


def _open_hourly_contract(contract: Contract, *, term: str, article: str) -> None:
    if not contract.is_hourly:
        raise DomainError(f"Only hourly contracts have {article} {term}.")
    if not contract.is_open:
        raise DomainError(f"This contract has ended, so its {term} can no longer change.")


def _refusal(check, *args) -> str | None:
    try:
        check(*args)
    except DomainError as error:
        return error.message
    return None


def _may_change_weekly_limit(contract: Contract, by) -> None:
    if not (by and by.is_authenticated and by.pk == contract.client_id):
        raise DomainError("Only the client of this contract can change its weekly limit.")
    _open_hourly_contract(contract, term="weekly limit", article="a")


def weekly_limit_change_refusal(*, contract: Contract, by) -> str | None:
    """Why ``by`` cannot change the contract's weekly limit now, or None."""
    return _refusal(_may_change_weekly_limit, contract, by)


def weekly_limit_change_check(*, contract: Contract, by, hours: int | None) -> None:
    _may_change_weekly_limit(contract, by)
    if hours is not None and not 0 < hours <= settings.MAX_WEEKLY_HOUR_LIMIT:
        raise DomainError(
            f"The weekly limit must be between 1 and {settings.MAX_WEEKLY_HOUR_LIMIT} hours, or no limit.",
            code="hours",
        )


def contract_weekly_limit_change(*, contract: Contract, by, hours: int | None) -> WeeklyLimitChange:
    """The client sets the weekly limit (``None``: no limit) for the billing weeks from
    the next one on; the week in progress keeps its limit. The freelancer is told."""
    with transaction.atomic():
        contract = lock_contract(contract.pk)
        weekly_limit_change_check(contract=contract, by=by, hours=hours)
        at = timezone.now()
        starts = next_billing_week(at)
        limits = weekly_limits(contract)
        if limits.for_week(starts) == hours:
            raise DomainError(
                f"The weekly limit from the week of {describe_week(starts)} is already {describe_limit(hours)}.",
                code="hours",
            )
        change = WeeklyLimitChange.objects.create(
            contract=contract, hours=hours, effective_from=starts, changed_by=by, created_at=at
        )
        change.contract = contract
        record(
            change,
            WEEKLY_LIMIT_CHANGED,
            by=by,
            at=at,
            reason=f"{describe_limit(hours)} from the week of {starts:%Y-%m-%d} "
            f"(was {describe_limit(limits.for_week(starts))})",
        )
    return change


# A new hourly rate.


def _lapse_if_due(contract: Contract, *, at) -> None:
    """Let a proposal whose time is up lapse now, before anything else is done on the
    contract's rate (the sweep would do it; this does not wait for it)."""
    proposal = (
        RateChangeProposal.objects.select_for_update().filter(contract=contract, state=RateChangeState.PROPOSED).first()
    )
    if proposal is not None and at >= proposal.expires_at:
        proposal.contract = contract
        take(proposal, "expire", by=None, at=at, as_platform=True, reason="Not answered in time")


def _may_propose_rate(contract: Contract, by) -> None:
    if not contract.is_party(by):
        raise DomainError("Only the client and the freelancer of this contract can propose a new rate.")
    _open_hourly_contract(contract, term="rate", article="an hourly")


def rate_change_propose_refusal(*, contract: Contract, by) -> str | None:
    """Why ``by`` cannot propose a new rate for the contract at all now, or None (a
    proposal waiting for an answer is said by ``rate_change_propose``)."""
    return _refusal(_may_propose_rate, contract, by)


def rate_change_propose_check(*, contract: Contract, by, rate_cents: int, message: str = "") -> None:
    _may_propose_rate(contract, by)
    if not 0 < rate_cents <= settings.MAX_HOURLY_RATE_CENTS:
        raise DomainError(
            f"Enter a rate above $0.00 and at most {format_cents(settings.MAX_HOURLY_RATE_CENTS)} an hour.",
            code="rate",
        )
    if len(message) > MESSAGE_MAX_LENGTH:
        raise DomainError(f"Keep the message to {MESSAGE_MAX_LENGTH} characters.", code="message")


def rate_change_propose(*, contract: Contract, by, rate_cents: int, message: str = "") -> RateChangeProposal:
    """Either party proposes a new hourly rate; the other has
    ``RATE_CHANGE_EXPIRY_DAYS`` to accept or decline it. At most one proposal of a
    contract waits for an answer."""
    message = message.strip()
    with transaction.atomic():
        contract = lock_contract(contract.pk)
        rate_change_propose_check(contract=contract, by=by, rate_cents=rate_cents, message=message)
        at = timezone.now()
        _lapse_if_due(contract, at=at)
        waiting = RateChangeProposal.objects.filter(contract=contract, state=RateChangeState.PROPOSED).first()
        if waiting is not None:
            whose = "Your" if waiting.proposed_by_id == by.pk else "The other party's"
            raise DomainError(
                f"{whose} proposal of {format_cents(waiting.rate_cents)} an hour is still waiting for an answer: "
                "it must be answered, withdrawn or lapse before another rate is proposed."
            )
        in_force = hourly_rates(contract).for_week(next_billing_week(at))
        if in_force == rate_cents:
            raise DomainError(f"The rate is already {format_cents(rate_cents)} an hour.", code="rate")
        proposal = RateChangeProposal.objects.create(
            contract=contract, proposed_by=by, rate_cents=rate_cents, message=message, proposed_at=at
        )
        proposal.contract = contract
        record(
            proposal,
            RATE_CHANGE_PROPOSED,
            by=by,
            at=at,
            reason=f"{format_cents(rate_cents)} an hour (now {format_cents(in_force)})",
        )
    return proposal


def _locked_proposal(proposal_id: int) -> RateChangeProposal:
    contract_id = RateChangeProposal.objects.filter(pk=proposal_id).values_list("contract_id", flat=True).first()
    if contract_id is None:
        raise DomainError("This rate change does not exist.")
    contract = lock_contract(contract_id)
    proposal = RateChangeProposal.objects.select_for_update().get(pk=proposal_id)
    proposal.contract = contract
    return proposal


def rate_change_accept(*, proposal: RateChangeProposal, by) -> RateChange:
    """The other party accepts: the rate applies from the next billing week, and the
    time of the weeks before is billed at the rate before."""
    with transaction.atomic():
        proposal = _locked_proposal(proposal.pk)
        at = timezone.now()
        take(
            proposal,
            "accept",
            by=by,
            at=at,
            reason=f"{format_cents(proposal.rate_cents)} an hour from the week of {next_billing_week(at):%Y-%m-%d}",
        )
        return RateChange.objects.create(
            contract=proposal.contract,
            rate_cents=proposal.rate_cents,
            effective_from=proposal.effective_from,
            proposal=proposal,
            created_at=at,
        )


def rate_change_decline(*, proposal: RateChangeProposal, by, message: str = "") -> RateChangeProposal:
    """The other party declines, with an optional message to the proposer."""
    message = message.strip()
    if len(message) > MESSAGE_MAX_LENGTH:
        raise DomainError(f"Keep the message to {MESSAGE_MAX_LENGTH} characters.")
    with transaction.atomic():
        proposal = _locked_proposal(proposal.pk)
        take(proposal, "decline", by=by, at=timezone.now(), reason=message)
    return proposal


def rate_change_withdraw(*, proposal: RateChangeProposal, by) -> RateChangeProposal:
    with transaction.atomic():
        proposal = _locked_proposal(proposal.pk)
        take(proposal, "withdraw", by=by, at=timezone.now(), reason="Proposal withdrawn")
    return proposal


def rate_change_expire(*, proposal_id: int) -> RateChangeProposal:
    """Let a proposal nobody answered within ``RATE_CHANGE_EXPIRY_DAYS`` lapse
    (deadline sweep); refused once it was answered, withdrawn or already lapsed."""
    with transaction.atomic():
        proposal = _locked_proposal(proposal_id)
        take(proposal, "expire", by=None, at=timezone.now(), as_platform=True, reason="Not answered in time")
    return proposal


@job_handler(JobKind.RATE_CHANGE_EXPIRY)
def _rate_change_expiry(job) -> str:
    rate_change_expire(proposal_id=job.subject_id)
    return "proposal lapsed"

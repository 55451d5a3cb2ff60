"""Ending a contract: one plan computed by the same code for the preview the user
reads before confirming and for the end itself, so what is shown is what is done."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from billing.money import fee_cents, format_cents
from billing.selectors import escrow_held_by_milestone, unbilled_weeks
from billing.services.escrow import escrow_return
from billing.services.invoices import invoice_unbilled_time
from contracts_portal.errors import DomainError

from ..models import (
    HELD_IN_ESCROW,
    Contract,
    ContractState,
    EndReason,
    EscrowRefundRequest,
    JobKind,
    Milestone,
    MilestoneState,
    hourly_rates,
)
from . import effects
from .jobs import job_handler
from .locking import lock_contract
from .milestones import milestone_pay
from .transitions import check, take

CIRCUMVENTION_WARNING = (
    "Ending a contract to pay or be paid outside the portal, to avoid fees, breaks the "
    "terms of service and can lead to the account being closed."
)


class MilestoneChoice(models.TextChoices):
    PAY_IN_FULL = "full", "Pay in full"
    PAY_PART = "part", "Pay part"
    PAY_NOTHING = "nothing", "Pay nothing"


@dataclass(frozen=True)
class MilestoneDecision:
    """A client's choice, when ending a fixed-price contract, for one funded milestone."""

    choice: str
    pay_cents: int = 0


@dataclass(frozen=True)
class MilestoneOutcome:
    milestone: Milestone
    held_cents: int
    pay_cents: int = 0
    return_cents: int = 0
    requested_cents: int = 0
    choice: str | None = None

    @property
    def undecided(self) -> bool:
        return self.pay_cents + self.return_cents + self.requested_cents != self.held_cents


@dataclass(frozen=True)
class EndPlan:
    contract: Contract
    by: object
    transition: str
    computed_at: datetime
    takes_effect_at: datetime
    unbilled_minutes: int = 0
    unbilled_cents: int = 0
    unbilled_rates: tuple[int, ...] = ()  # the hourly rates of the weeks billed, in order
    client_fee_on_unbilled_cents: int = 0
    milestones: tuple[MilestoneOutcome, ...] = field(default_factory=tuple)
    cancelled_milestones: tuple[Milestone, ...] = field(default_factory=tuple)
    chooses_milestones: bool = False

    @property
    def milestones_to_decide(self) -> tuple[MilestoneOutcome, ...]:
        """The milestones in escrow whose payment the person ending chooses now (pay in
        full, part or nothing): all of them for a client ending a fixed-price contract at
        once, none otherwise (a freelancer's end returns the escrow; at the end of a
        client's notice what is unreleased becomes a refund request)."""
        return self.milestones if self.chooses_milestones else ()

    @property
    def ends_now(self) -> bool:
        return self.transition != "give_notice"

    @property
    def cuts_notice_short(self) -> bool:
        """Ending while notice runs: the end comes now, before the notice's effective time."""
        return self.transition == "end" and self.contract.state == ContractState.ENDING

    @property
    def locks_diary(self) -> bool:
        return self.contract.is_hourly

    @property
    def needs_milestone_choices(self) -> bool:
        return any(outcome.undecided for outcome in self.milestones)

    @property
    def feedback_closes_at(self) -> datetime:
        return self.takes_effect_at + timedelta(days=settings.FEEDBACK_WINDOW_DAYS)

    @property
    def escrow_released_cents(self) -> int:
        return sum(outcome.pay_cents for outcome in self.milestones)

    @property
    def escrow_returned_cents(self) -> int:
        return sum(outcome.return_cents for outcome in self.milestones)

    @property
    def refund_requested_cents(self) -> int:
        return sum(outcome.requested_cents for outcome in self.milestones)

    @property
    def circumvention_warning(self) -> str:
        return CIRCUMVENTION_WARNING


def _outcome(milestone, held, *, returned: bool, decision: MilestoneDecision | None) -> MilestoneOutcome:
    if returned:
        return MilestoneOutcome(milestone, held, return_cents=held)
    if decision is None:
        return MilestoneOutcome(milestone, held)
    if decision.choice == MilestoneChoice.PAY_IN_FULL:
        return MilestoneOutcome(milestone, held, pay_cents=held, choice=decision.choice)
    if decision.choice == MilestoneChoice.PAY_NOTHING:
        return MilestoneOutcome(milestone, held, requested_cents=held, choice=decision.choice)
    if decision.choice == MilestoneChoice.PAY_PART:
        if not 0 < decision.pay_cents < held:
            raise DomainError(
                f"To pay part of “{milestone.title}”, enter an amount above $0.00 and below "
                f"{format_cents(held)}, the amount in escrow."
            )
        return MilestoneOutcome(
            milestone,
            held,
            pay_cents=decision.pay_cents,
            requested_cents=held - decision.pay_cents,
            choice=decision.choice,
        )
    raise DomainError(f"Choose whether to pay in full, in part or nothing for “{milestone.title}”.")


def _client_settles(contract: Contract, *, by, transition: str) -> bool:
    """Whether the client is the one ending, so unreleased escrow is the client's to
    settle (pay in full, part or nothing) rather than returned to the client."""
    if transition in ("end", "give_notice"):
        return by is not None and by.pk == contract.client_id
    return transition == "elapse_notice" and contract.notice_given_by_id == contract.client_id


def _plan(contract: Contract, *, by, transition: str, at: datetime, decisions=None, strict: bool) -> EndPlan:
    if transition == "give_notice":
        takes_effect_at = at + timedelta(days=contract.notice_days)
    elif transition == "elapse_notice":
        takes_effect_at = contract.notice_effective_at
    else:
        takes_effect_at = at
    minutes = cents = 0
    rates: tuple[int, ...] = ()
    if contract.is_hourly:
        weeks = unbilled_weeks(contract)
        minutes, cents = sum(week.minutes for week in weeks), sum(week.amount_cents for week in weeks)
        rates = tuple(dict.fromkeys(week.rate_cents for week in weeks)) or (hourly_rates(contract).for_moment(at),)
    outcomes, cancelled = [], []
    client_settles = not contract.is_hourly and _client_settles(contract, by=by, transition=transition)
    # Only a client ending at once is there to choose; at the end of a client's
    # notice every milestone still in escrow becomes a refund request.
    client_chooses_now = client_settles and transition == "end"
    if not contract.is_hourly:
        decisions = decisions or {}
        held_by_milestone = escrow_held_by_milestone(contract)
        for milestone in contract.milestones.order_by("position", "id"):
            if milestone.state == MilestoneState.PENDING:
                cancelled.append(milestone)
                continue
            if milestone.state not in HELD_IN_ESCROW:
                continue
            held = held_by_milestone.get(milestone.pk, 0)
            if not client_settles:
                decision, returned = None, True
            elif client_chooses_now:
                decision, returned = decisions.get(milestone.pk), False
                if decision is None and strict:
                    raise DomainError(
                        f"Choose whether to pay in full, in part or nothing for “{milestone.title}” "
                        f"({format_cents(held)} in escrow)."
                    )
            else:
                decision, returned = MilestoneDecision(MilestoneChoice.PAY_NOTHING), False
            outcomes.append(_outcome(milestone, held, returned=returned, decision=decision))
    return EndPlan(
        contract=contract,
        by=by,
        transition=transition,
        computed_at=at,
        takes_effect_at=takes_effect_at,
        unbilled_minutes=minutes,
        unbilled_cents=cents,
        unbilled_rates=rates,
        client_fee_on_unbilled_cents=fee_cents(cents, settings.CLIENT_MARKETPLACE_FEE_BPS),
        milestones=tuple(outcomes),
        cancelled_milestones=tuple(cancelled),
        chooses_milestones=client_chooses_now,
    )


def contract_end_preview(*, contract: Contract, by, decisions: dict | None = None) -> EndPlan:
    """What ending the contract now would do, computed by the code that will do it.

    With a notice period, ending means giving notice: the plan shows when the end
    takes effect and what would be billed or returned if it ended today.
    """
    transition = "give_notice" if contract.notice_days > 0 and contract.state != ContractState.ENDING else "end"
    if contract.has_open_end_proposal() and contract.end_proposed_by_id not in (None, getattr(by, "pk", None)):
        transition = "accept_end"
    check(contract, transition, by=by)
    return _plan(contract, by=by, transition=transition, at=timezone.now(), decisions=decisions, strict=False)


NOTICE_REFUND_STATEMENT = "The client's notice period ended with this escrow not released."


def _carry_out(
    plan: EndPlan, *, at: datetime, statement: str = "", as_platform: bool = False, **transition_kwargs
) -> EndPlan:
    contract = plan.contract
    by = plan.by
    if contract.is_hourly:
        invoice_unbilled_time(contract=contract, key=f"contract:{contract.pk}:final-invoice", at=at)
    for outcome in plan.milestones:
        milestone = outcome.milestone
        milestone.contract = contract
        if outcome.pay_cents:
            milestone_pay(
                milestone=milestone, amount_cents=outcome.pay_cents, key=f"milestone:{milestone.pk}:end-release", at=at
            )
        if outcome.return_cents:
            escrow_return(
                milestone=milestone,
                amount_cents=outcome.return_cents,
                key=f"milestone:{milestone.pk}:end-return",
                at=at,
            )
            take(milestone, "return_escrow", by=by, at=at, as_platform=True, reason="Contract ended")
        elif outcome.requested_cents:
            take(milestone, "request_refund", by=by, at=at, as_platform=True, reason="Contract ended by the client")
            refund_request = EscrowRefundRequest.objects.create(
                contract=contract,
                milestone=milestone,
                amount_cents=outcome.requested_cents,
                client_statement=statement,
                created_at=at,
                respond_by=EscrowRefundRequest.respond_by_for(at),
            )
            effects.refund_request_opened(refund_request)
        elif outcome.pay_cents:
            take(milestone, "release", by=by, at=at, as_platform=True, reason="Paid in full at the end of the contract")
    for milestone in plan.cancelled_milestones:
        milestone.contract = contract
        take(milestone, "cancel", by=by, at=at, as_platform=True, reason="Contract ended before funding")
    as_platform = as_platform or plan.transition == "elapse_notice"
    take(contract, plan.transition, by=by, at=at, as_platform=as_platform, event={"plan": plan}, **transition_kwargs)
    return plan


def _locked_plan(contract_id: int, *, by, transition: str, decisions=None, as_platform: bool = False):
    contract = lock_contract(contract_id)
    check(contract, transition, by=by, as_platform=as_platform)
    # Lock the milestones by id alone: model instances deferred to ``only("id")`` would
    # each load their FSM state in a query of its own (one per milestone).
    list(Milestone.objects.select_for_update().filter(contract=contract).order_by("pk").values_list("pk", flat=True))
    at = timezone.now()
    return _plan(contract, by=by, transition=transition, at=at, decisions=decisions, strict=True), at


def reason_code(reason: str) -> str:
    if reason not in EndReason.values:
        raise DomainError("Choose a reason for ending the contract.")
    return reason


def contract_end(
    *,
    contract: Contract,
    by,
    reason: str,
    note: str = "",
    milestone_decisions: dict | None = None,
    message_to_freelancer: str = "",
) -> EndPlan:
    """End the contract at once, for a party: when its terms set no notice period, or
    while notice is running, which the end cuts short (anyone can end at any time).

    Hourly: recorded unbilled time is invoiced and the diary locks. Fixed-price: a
    freelancer ending returns all escrow to the client; a client ending decides per
    funded milestone (``milestone_decisions``: milestone id → MilestoneDecision) to pay
    in full, in part or nothing, and what is not paid becomes a refund request that
    carries ``message_to_freelancer``. ``reason`` and ``note`` stay private.
    """
    reason = reason_code(reason)
    with transaction.atomic():
        plan, at = _locked_plan(contract.pk, by=by, transition="end", decisions=milestone_decisions)
        return _carry_out(plan, at=at, statement=message_to_freelancer.strip(), reason=reason, note=note)


def contract_accept_end(*, contract: Contract, by, reason: str, note: str = "") -> EndPlan:
    """Accept the other party's proposal: a mutual, no-fault end, at once, notice waived.
    Unreleased escrow goes back to the client."""
    reason = reason_code(reason)
    with transaction.atomic():
        plan, at = _locked_plan(contract.pk, by=by, transition="accept_end")
        return _carry_out(plan, at=at, reason=reason, note=note)


def contract_elapse_notice(*, contract_id: int) -> EndPlan:
    """End a contract whose notice period is over (run by the deadline sweep).

    The ending rules apply as if the party who gave notice ended it then. A client's
    notice cannot ask which milestones to pay at that moment, so every milestone still
    in escrow becomes a refund request the freelancer may dispute; the client can
    release payments at any time during the notice period.
    """
    with transaction.atomic():
        plan, at = _locked_plan(contract_id, by=None, transition="elapse_notice", as_platform=True)
        return _carry_out(plan, at=at, statement=NOTICE_REFUND_STATEMENT)


@job_handler(JobKind.NOTICE_ELAPSE)
def _notice_elapse(job) -> str:
    contract_elapse_notice(contract_id=job.contract_id)
    return "contract ended at the end of the notice period"


def contract_force_end_preview(*, contract: Contract, by) -> EndPlan:
    """What force-ending the contract now would do, for the admin's confirmation page:
    the plan ``contract_force_end`` carries out, or the refusal if ``by`` may not."""
    check(contract, "force_end", by=by)
    return _plan(contract, by=by, transition="force_end", at=timezone.now(), strict=True)


def contract_force_end(*, contract: Contract, by, reason: str, on_suspension: bool = False) -> EndPlan:
    """End a contract by platform decision: hourly time is billed, and all unreleased
    escrow goes back to the client. ``on_suspension`` is the account suspension's own
    authority (a reviewer's decision) in place of the force-end permission."""
    if not reason.strip():
        raise DomainError("Say why the contract is being ended.")
    with transaction.atomic():
        plan, at = _locked_plan(contract.pk, by=by, transition="force_end", as_platform=on_suspension)
        return _carry_out(plan, at=at, as_platform=on_suspension, reason=reason)

"""Terms during the contract, from the portal: the client adds a milestone or sets the
weekly limit for the weeks to come; either party proposes a new rate and the other
accepts or declines it. Each form sits on the contract page too; its own page shows
it again, with what was typed and the refusal at its field, when it is refused.
Someone who may not make the change at all is sent back to the contract page with
the reason."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.time_zones import format_moment
from billing.money import format_cents
from contracts_portal.errors import DomainError

from .. import selectors, services
from ..forms.terms import MilestoneAddForm, RateDeclineForm, RateProposalForm, WeeklyLimitForm
from ..models import RateChangeProposal
from ..models.terms import describe_week
from ..services.creation import milestone_add_refusal
from ..services.terms import rate_change_propose_refusal, weekly_limit_change_refusal
from .access import party_contract_or_404, party_contracts


def _contract_page(contract, anchor: str = "terms"):
    return redirect(f"{reverse('contract_detail', args=[contract.pk])}#{anchor}")


def _refused(request, contract, refusal: str):
    messages.error(request, refusal)
    return _contract_page(contract)


def _done(form, service, fields: dict[str, str], **arguments):
    """Run ``service`` with the valid form's values; a refusal goes to the field its
    code names (else the top of the form) and the result is None."""
    try:
        return service(**arguments)
    except DomainError as error:
        form.add_error(fields.get(error.code), error.message)
        return None


@login_required
def milestone_add_view(request, contract_id: int):
    contract = party_contract_or_404(request.user, contract_id)
    refusal = milestone_add_refusal(contract=contract, by=request.user)
    if refusal:
        return _refused(request, contract, refusal)
    form = MilestoneAddForm(request.POST) if request.method == "POST" else MilestoneAddForm()
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        milestone = _done(
            form,
            services.milestone_add,
            {"amount": "amount", "title": "title", "due_date": "due_date"},
            contract=contract,
            by=request.user,
            title=data["title"],
            amount_cents=data["amount"],
            due_date=data["due_date"],
        )
        if milestone is not None:
            messages.success(
                request,
                f"The milestone “{milestone.title}” ({format_cents(milestone.amount_cents)}) is added; "
                "fund it to put the money in escrow.",
            )
            return _contract_page(contract, f"milestone-{milestone.pk}")
    return render(
        request,
        "contracts/milestone_add.html",
        {"contract": contract, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def weekly_limit_view(request, contract_id: int):
    contract = party_contract_or_404(request.user, contract_id)
    refusal = weekly_limit_change_refusal(contract=contract, by=request.user)
    if refusal:
        return _refused(request, contract, refusal)
    form = WeeklyLimitForm(request.POST) if request.method == "POST" else WeeklyLimitForm()
    if request.method == "POST" and form.is_valid():
        change = _done(
            form,
            services.contract_weekly_limit_change,
            {"hours": "hours"},
            contract=contract,
            by=request.user,
            hours=form.cleaned_data["hours"],
        )
        if change is not None:
            limit = "there is no weekly limit" if change.hours is None else f"the weekly limit is {change.hours} hours"
            messages.success(
                request,
                f"From the billing week of {describe_week(change.effective_from)} {limit}; this week keeps its limit.",
            )
            return _contract_page(contract)
    return render(
        request,
        "contracts/weekly_limit.html",
        {"contract": contract, "form": form, "terms": selectors.hourly_terms(contract)},
        status=400 if form.errors else 200,
    )


@login_required
def rate_change_view(request, contract_id: int):
    """The contract's rate: this week's, what was agreed since, the proposal waiting
    for an answer, and the form to propose a new one."""
    contract = party_contract_or_404(request.user, contract_id)
    refusal = rate_change_propose_refusal(contract=contract, by=request.user)
    if refusal:
        return _refused(request, contract, refusal)
    form = RateProposalForm(request.POST) if request.method == "POST" else RateProposalForm()
    if request.method == "POST" and form.is_valid():
        proposal = _done(
            form,
            services.rate_change_propose,
            {"rate": "rate", "message": "message"},
            contract=contract,
            by=request.user,
            rate_cents=form.cleaned_data["rate"],
            message=form.cleaned_data["message"],
        )
        if proposal is not None:
            other = contract.other_party(request.user)
            messages.success(
                request,
                f"You proposed {format_cents(proposal.rate_cents)} an hour. "
                f"{other.get_full_name() or other.get_username()} can accept it until "
                f"{format_moment(proposal.expires_at)}; it applies from the billing week after they do.",
            )
            return _contract_page(contract, "rate-change")
    return render(
        request,
        "contracts/rate_change.html",
        {
            "contract": contract,
            "form": form,
            "terms": selectors.hourly_terms(contract),
            "other_party": contract.other_party(request.user),
        },
        status=400 if form.errors else 200,
    )


def _accept(request, proposal) -> str:
    change = services.rate_change_accept(proposal=proposal, by=request.user)
    return (
        f"The new rate of {format_cents(change.rate_cents)} an hour applies from the billing week of "
        f"{describe_week(change.effective_from)}; the time of earlier weeks is billed at the rate before."
    )


def _decline(request, proposal) -> str:
    form = RateDeclineForm(request.POST)
    if not form.is_valid():
        raise DomainError(next(iter(form.errors.values()))[0])
    services.rate_change_decline(proposal=proposal, by=request.user, message=form.cleaned_data["message"])
    return "You declined the proposed rate; the rate stays as it was."


def _withdraw(request, proposal) -> str:
    services.rate_change_withdraw(proposal=proposal, by=request.user)
    return "Your proposal is withdrawn; the rate stays as it was."


RATE_CHANGE_ACTIONS = {"accept": _accept, "decline": _decline, "withdraw": _withdraw}


@login_required
@require_POST
def rate_change_action(request, proposal_id: int, action: str):
    if action not in RATE_CHANGE_ACTIONS:
        raise Http404("No such action.")
    proposal = RateChangeProposal.objects.filter(pk=proposal_id, contract__in=party_contracts(request.user)).first()
    if proposal is None:
        raise Http404("No such rate change.")
    try:
        messages.success(request, RATE_CHANGE_ACTIONS[action](request, proposal))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect(f"{reverse('contract_detail', args=[proposal.contract_id])}#terms")

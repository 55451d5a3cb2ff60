import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from billing import selectors as billing_selectors
from contracts_portal.errors import DomainError

from .. import selectors, services
from ..forms.ending import DeclineEndForm
from ..forms.terms import MilestoneAddForm, RateProposalForm, WeeklyLimitForm
from ..models import ChecklistItem, Contract, ContractState
from ..models.rules import declaration
from ..reputation import contract_feedback
from ..services.creation import milestone_add_refusal
from ..services.terms import rate_change_propose_refusal, weekly_limit_change_refusal
from .access import party_contract_or_404

# In the order the menu prefers them: accepting a proposal, ending, giving notice.
END_ACTIONS = ("accept_end", "end", "give_notice")

# The menu's actions that need no form: the service that takes each, and what the
# person is told once it is done (``{settings.…}`` is the policy when it is shown).
# Their labels are the transitions' own.
SIMPLE_ACTIONS = {
    "pause": (services.contract_pause, "The contract is paused: no new time can be recorded."),
    "resume": (services.contract_resume, "The contract is active again."),
    "withdraw_notice": (services.contract_withdraw_notice, "Your notice is withdrawn."),
    "propose_end": (
        services.contract_propose_end,
        "You proposed ending the contract by mutual agreement; the other party has "
        "{settings.END_PROPOSAL_EXPIRY_DAYS} days to accept.",
    ),
    "withdraw_end_proposal": (
        services.contract_withdraw_end_proposal,
        "Your proposal to end the contract is withdrawn; it continues as before.",
    ),
    "decline_end": (
        services.contract_decline_end,
        "You declined the proposal to end the contract; it continues as before.",
    ),
}


def menu_for(contract: Contract, user) -> dict:
    """The (…) options menu: only what the transitions' permissions and conditions
    allow this user now, each under the transition's own label."""
    allowed = contract.actions_for(user)
    end_action = next((name for name in END_ACTIONS if name in allowed), None)
    end_label = ""
    if end_action == "give_notice":
        end_label = declaration(Contract, "end")["label"]  # the dialog explains that ending means notice
    elif end_action:
        declared = declaration(Contract, end_action)
        while_ending = declared.get("label_while_ending")
        end_label = while_ending if while_ending and contract.state == ContractState.ENDING else declared["label"]
    return {
        "allowed": allowed,
        "simple": [(name, declaration(Contract, name)["label"]) for name in SIMPLE_ACTIONS if name in allowed],
        "end_action": end_action,
        "end_label": end_label,
    }


def _offer_url(contract: Contract) -> str:
    """The page of the offer the contract started from, if it started from one (the
    offers app's ``Offer.contract``; a contract made otherwise has none)."""
    offer = getattr(contract, "offer", None)
    return reverse("offer_detail", args=[offer.pk]) if offer is not None else ""


def _terms_forms(contract: Contract, user) -> dict:
    """What the person may change of the terms now, with the forms to do it."""
    if not contract.is_hourly:
        return {
            "can_add_milestone": milestone_add_refusal(contract=contract, by=user) is None,
            "milestone_form": MilestoneAddForm(),
        }
    terms = selectors.hourly_terms(contract)
    waiting = terms.proposal is not None and terms.proposal.is_open
    return {
        "terms": terms,
        "can_change_limit": weekly_limit_change_refusal(contract=contract, by=user) is None,
        "limit_form": WeeklyLimitForm(),
        "can_propose_rate": not waiting and rate_change_propose_refusal(contract=contract, by=user) is None,
        "rate_form": RateProposalForm(),
    }


def _rows_page(request, queryset, param: str):
    return Paginator(queryset, selectors.CONTRACT_PAGE_ROWS).get_page(request.GET.get(param))


@login_required
def contract_detail(request, contract_id: int):
    contract = party_contract_or_404(
        request.user,
        contract_id,
        Contract.objects.select_related("notice_given_by", "end_proposed_by", "ended_by"),
    )
    user = request.user
    context = {
        "contract": contract,
        "is_client": user.pk == contract.client_id,
        "other_party": contract.other_party(user),
        "menu": menu_for(contract, user),
        "history": selectors.contract_history(contract, user),
        "payments_page": _rows_page(request, billing_selectors.contract_payments(contract), "payments_page"),
        "checklists": selectors.closure_checklists(contract, user),
        "feedback": contract_feedback(contract, user),
        "offer_url": _offer_url(contract),
        **_terms_forms(contract, user),
    }
    context["payments"] = list(context["payments_page"].object_list)
    if contract.is_hourly:
        context["diary"] = selectors.diary_summary(contract)
        context["invoices_page"] = _rows_page(request, billing_selectors.contract_invoices(contract), "invoices_page")
        context["invoices"] = list(context["invoices_page"].object_list)
    else:
        context["milestones"] = selectors.contract_milestones(contract)
        context["refund_requests"] = selectors.contract_refund_requests(contract)
        context["release_key"] = uuid.uuid4().hex
    return render(request, "contracts/contract_detail.html", context)


@login_required
@require_POST
def contract_action(request, contract_id: int, action: str):
    if action not in SIMPLE_ACTIONS:
        raise Http404("No such action.")
    contract = party_contract_or_404(request.user, contract_id)
    service, success = SIMPLE_ACTIONS[action]
    extra = {}
    if action == "decline_end":
        form = DeclineEndForm(request.POST)
        if not form.is_valid():
            messages.error(request, next(iter(form.errors.values()))[0])
            return redirect("contract_detail", contract_id=contract.pk)
        extra["message"] = form.cleaned_data["message"]
    try:
        service(contract=contract, by=request.user, **extra)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success.format(settings=settings))
    return redirect("contract_detail", contract_id=contract.pk)


@login_required
@require_POST
def checklist_item_toggle(request, contract_id: int, item_id: int):
    contract = party_contract_or_404(request.user, contract_id)
    item = ChecklistItem.objects.filter(pk=item_id, contract=contract, user=request.user).first()
    if item is None:
        raise Http404("No such checklist step.")
    done = request.POST.get("done") == "1"
    try:
        services.checklist_item_tick(item=item, by=request.user, done=done)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"“{item.label}” {'done' if done else 'marked as not done'}.")
    return redirect(f"{reverse('contract_detail', args=[contract.pk])}#checklist")

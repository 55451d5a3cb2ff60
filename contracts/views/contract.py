import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from contracts_portal.errors import DomainError

from .. import selectors, services
from ..forms.ending import DeclineEndForm
from ..models import ChecklistItem, Contract, ContractState
from ..reputation import contract_feedback
from .access import party_contract_or_404

END_ACTIONS = ("end", "give_notice", "accept_end")

SIMPLE_ACTIONS = {
    "pause": (services.contract_pause, "Pause contract", "The contract is paused: no new time can be recorded."),
    "resume": (services.contract_resume, "Resume contract", "The contract is active again."),
    "withdraw_notice": (services.contract_withdraw_notice, "Withdraw notice", "Your notice is withdrawn."),
    "propose_end": (
        services.contract_propose_end,
        "Propose ending by mutual agreement",
        "You proposed ending the contract by mutual agreement; the other party has 7 days to accept.",
    ),
    "withdraw_end_proposal": (
        services.contract_withdraw_end_proposal,
        "Withdraw your proposal to end",
        "Your proposal to end the contract is withdrawn; it continues as before.",
    ),
    "decline_end": (
        services.contract_decline_end,
        "Decline the proposed end",
        "You declined the proposal to end the contract; it continues as before.",
    ),
}


def menu_for(contract: Contract, user) -> dict:
    """The (…) options menu: only what the transitions' permissions and conditions
    allow this user now."""
    allowed = contract.actions_for(user)
    end_action = next((name for name in ("accept_end", "end", "give_notice") if name in allowed), None)
    end_labels = {"accept_end": "Accept the proposed end", "end": "End contract", "give_notice": "End contract"}
    if contract.state == ContractState.ENDING:
        end_labels["end"] = "End now (cut the notice short)"
    return {
        "allowed": allowed,
        "simple": [(name, SIMPLE_ACTIONS[name][1]) for name in SIMPLE_ACTIONS if name in allowed],
        "end_action": end_action,
        "end_label": end_labels.get(end_action, ""),
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
        "payments_page": _rows_page(request, selectors.contract_payments(contract), "payments_page"),
        "checklists": selectors.closure_checklists(contract, user),
        "feedback": contract_feedback(contract, user),
    }
    context["payments"] = list(context["payments_page"].object_list)
    if contract.is_hourly:
        context["diary"] = selectors.diary_summary(contract)
        context["invoices_page"] = _rows_page(request, selectors.contract_invoices(contract), "invoices_page")
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
    service, _label, success = SIMPLE_ACTIONS[action]
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
        messages.success(request, success)
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

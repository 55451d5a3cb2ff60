from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from contracts_portal.errors import DomainError

from .. import services
from ..forms.ending import EndContractForm
from ..models import Contract
from ..models.rules import declaration
from ..reputation import feedback_score
from .access import party_contract_or_404

STALE_PAGE = "This contract changed since you opened this page. Read the new preview before you confirm."


def _leave(request, contract) -> HttpResponse:
    url = reverse("contract_detail", args=[contract.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _render(request, contract, form, plan, status=200):
    template = "contracts/partials/end_dialog.html" if request.htmx else "contracts/contract_end.html"
    return render(
        request,
        template,
        {
            "contract": contract,
            "form": form,
            "plan": plan,
            "confirm_label": declaration(Contract, plan.transition)["confirm"],
            "score_basis": feedback_score(request.user).contracts
            if request.user.pk == contract.freelancer_id
            else None,
        },
        # htmx swaps only successful responses; the dialog shows the errors itself.
        status=200 if request.htmx else status,
    )


@login_required
def contract_end_view(request, contract_id: int):
    """The End-contract form with a preview of what ending does, computed by the
    service that will do it. A dialog with htmx, a page without JavaScript."""
    contract = party_contract_or_404(request.user, contract_id)
    try:
        plan = services.contract_end_preview(contract=contract, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return _leave(request, contract)

    if request.method != "POST":
        form = EndContractForm(
            initial={"plan_transition": plan.transition, "state": contract.state},
            milestones=plan.milestones_to_decide,
        )
        return _render(request, contract, form, plan)

    form = EndContractForm(request.POST, milestones=plan.milestones_to_decide)
    valid = form.is_valid()
    try:
        plan = services.contract_end_preview(contract=contract, by=request.user, decisions=form.decisions())
    except DomainError as error:
        form.add_error(None, error.message)
        return _render(request, contract, form, plan, status=400)
    if "preview" in request.POST:
        form.errors.pop("reason", None)  # a preview is not a confirmation: no reason needed yet
        return _render(request, contract, form, plan, status=400 if form.errors else 200)
    if not valid:
        return _render(request, contract, form, plan, status=400)
    if form.cleaned_data["plan_transition"] != plan.transition or form.cleaned_data["state"] != contract.state:
        data = request.POST.copy()
        data["plan_transition"], data["state"] = plan.transition, contract.state
        form = EndContractForm(data, milestones=plan.milestones_to_decide)
        form.is_valid()
        form.add_error(None, STALE_PAGE)
        return _render(request, contract, form, plan, status=409)

    reason, note = form.cleaned_data["reason"], form.cleaned_data["note"]
    try:
        if plan.transition == "give_notice":
            contract = services.contract_give_notice(contract=contract, by=request.user, reason=reason, note=note)
            messages.success(
                request,
                f"Notice given: the contract ends on {contract.notice_effective_at:%Y-%m-%d %H:%M} UTC.",
            )
        elif plan.transition == "accept_end":
            services.contract_accept_end(contract=contract, by=request.user, reason=reason, note=note)
            messages.success(request, "The contract has ended by mutual agreement (no fault).")
        else:
            services.contract_end(
                contract=contract,
                by=request.user,
                reason=reason,
                note=note,
                milestone_decisions=form.decisions(),
                message_to_freelancer=form.cleaned_data.get("message_to_freelancer", ""),
            )
            messages.success(request, "The contract has ended.")
    except DomainError as error:
        form.add_error(None, error.message)
        return _render(request, contract, form, plan, status=409)
    return _leave(request, contract)

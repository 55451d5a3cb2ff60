from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from billing.money import format_cents
from contracts_portal.errors import DomainError

from .. import services
from ..forms.milestones import DisputeForm, ReleaseForm, SubmitWorkForm
from ..models import EscrowRefundRequest, Milestone
from .access import party_contracts


def _first_error(form) -> str:
    return next(iter(form.errors.values()))[0]


def _fund(request, milestone):
    services.milestone_fund(milestone=milestone, by=request.user)
    return f"“{milestone.title}” is funded: {format_cents(milestone.amount_cents)} is in escrow."


def _submit(request, milestone):
    form = SubmitWorkForm(request.POST)
    if not form.is_valid():
        raise DomainError(_first_error(form))
    services.milestone_submit(milestone=milestone, by=request.user, note=form.cleaned_data["note"])
    return f"Work for “{milestone.title}” is submitted; the client has 14 days to review it."


def _release(request, milestone):
    form = ReleaseForm(request.POST)
    if not form.is_valid():
        raise DomainError(_first_error(form))
    payment = services.milestone_release(
        milestone=milestone,
        by=request.user,
        amount_cents=form.cleaned_data["amount"],
        idempotency_key=form.cleaned_data["idempotency_key"],
    )
    return f"{format_cents(payment.amount_cents)} paid to the freelancer for “{milestone.title}”."


MILESTONE_ACTIONS = {"fund": _fund, "submit": _submit, "release": _release}


@login_required
@require_POST
def milestone_action(request, milestone_id: int, action: str):
    if action not in MILESTONE_ACTIONS:
        raise Http404("No such action.")
    milestone = Milestone.objects.filter(pk=milestone_id, contract__in=party_contracts(request.user)).first()
    if milestone is None:
        raise Http404("No such milestone.")
    try:
        messages.success(request, MILESTONE_ACTIONS[action](request, milestone))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("contract_detail", contract_id=milestone.contract_id)


@login_required
@require_POST
def refund_request_action(request, request_id: int, action: str):
    refund_request = EscrowRefundRequest.objects.filter(
        pk=request_id, contract__in=party_contracts(request.user)
    ).first()
    if refund_request is None or action not in ("approve", "dispute"):
        raise Http404("No such refund request.")
    try:
        if action == "approve":
            services.refund_request_approve(request=refund_request, by=request.user)
            messages.success(
                request, f"Refund approved: {format_cents(refund_request.amount_cents)} goes back to the client."
            )
        else:
            form = DisputeForm(request.POST)
            if not form.is_valid():
                raise DomainError(_first_error(form))
            services.refund_request_dispute(
                request=refund_request, by=request.user, statement=form.cleaned_data["statement"]
            )
            messages.success(request, "Refund disputed: an admin will read both sides and decide the split.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("contract_detail", contract_id=refund_request.contract_id)

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from billing.money import format_cents
from billing.selectors import escrow_held_cents
from contracts_portal.errors import DomainError

from .. import services
from ..forms.milestones import DisputeForm, ReleaseForm, SubmitWorkForm
from ..models import EscrowRefundRequest, Milestone
from ..services.milestones import milestone_release_plan
from .access import party_contracts

NOT_PREVIEWED = "The amount is not the one in the figures shown: read the new figures, then confirm."


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
    return (
        f"Work for “{milestone.title}” is submitted; the client has "
        f"{settings.MILESTONE_AUTO_RELEASE_DAYS} days to review it."
    )


def _release_form(data, plan=None) -> ReleaseForm:
    """The form of the preview, carrying the figures ``plan`` shows so that the
    confirmation can be checked against them."""
    data = data.copy()
    data["previewed_amount"] = plan.amount_cents if plan else ""
    data["held_before"] = plan.held_before_cents if plan else ""
    form = ReleaseForm(data, auto_id="release-%s")
    form.is_valid()
    return form


def _release_planned(request, milestone, data):
    """The preview of the amount in ``data``: the form, and the plan (None with the
    refusal shown at its field)."""
    form = _release_form(data)
    if form.errors:
        return form, None
    try:
        plan = milestone_release_plan(milestone=milestone, by=request.user, amount_cents=form.cleaned_data["amount"])
    except DomainError as error:
        form.add_error("amount" if error.code == "amount" else None, error.message)
        return form, None
    return _release_form(data, plan), plan


def _render_release(request, milestone, form, plan, *, status: int) -> HttpResponse:
    held = plan.held_before_cents if plan else escrow_held_cents(milestone)
    template = "contracts/partials/release_dialog.html" if request.htmx else "contracts/milestone_release.html"
    context = {"milestone": milestone, "contract": milestone.contract, "form": form, "plan": plan, "held_cents": held}
    return render(request, template, context, status=status)


def _not_released(request, form) -> None:
    """On the page without JavaScript, a refused confirmation is also said at the top."""
    if not request.htmx:
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))


def _confirms_a_preview(form: ReleaseForm) -> bool:
    data = form.cleaned_data
    return data["previewed_amount"] == data["amount"] and data["held_before"] is not None


def _back_to_contract(request, milestone) -> HttpResponse:
    url = reverse("contract_detail", args=[milestone.contract_id])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _release(request, milestone) -> HttpResponse:
    """Preview a payment of the typed amount out of the milestone's escrow (the
    default), or make it when the preview is confirmed. A confirmation whose figures
    no longer hold, because the escrow changed in the meantime, gets 409 and the new
    figures. Someone who may not release at all is told so on the contract page, and
    so is the client when the milestone can no longer be paid (unless the request
    confirms a payment already made: that is answered as made)."""
    data = request.POST.copy()
    whole = request.POST.get("whole")
    if whole:
        data["amount"] = whole
    confirm = "confirm" in request.POST and not whole
    refusal = milestone.refusal("release", request.user)
    # The platform is refused only for the milestone's state: any other refusal is
    # about who this person is.
    refused_the_person = refusal is not None and refusal != milestone.refusal("release", None)
    if refused_the_person or (refusal and not confirm):
        messages.error(request, refusal)
        return _back_to_contract(request, milestone)
    form = ReleaseForm(data)
    if not confirm or not form.is_valid() or not _confirms_a_preview(form):
        form, plan = _release_planned(request, milestone, data)
        if confirm and plan is not None:
            form.add_error(None, NOT_PREVIEWED)
        if confirm:
            _not_released(request, form)
        return _render_release(request, milestone, form, plan, status=400 if form.errors else 200)

    try:
        payment = services.milestone_release(
            milestone=milestone,
            by=request.user,
            amount_cents=form.cleaned_data["amount"],
            idempotency_key=form.cleaned_data["idempotency_key"],
            held_before_cents=form.cleaned_data["held_before"],
        )
    except DomainError as error:
        form, plan = _release_planned(request, milestone, data)
        if error.code == "stale" or not form.errors:
            form.add_error(None, error.message)
        _not_released(request, form)
        return _render_release(request, milestone, form, plan, status=409 if error.code == "stale" else 400)
    messages.success(request, f"{format_cents(payment.amount_cents)} paid to the freelancer for “{milestone.title}”.")
    return _back_to_contract(request, milestone)


MILESTONE_ACTIONS = {"fund": _fund, "submit": _submit}


@login_required
@require_POST
def milestone_action(request, milestone_id: int, action: str):
    if action not in MILESTONE_ACTIONS and action != "release":
        raise Http404("No such action.")
    milestone = Milestone.objects.filter(pk=milestone_id, contract__in=party_contracts(request.user)).first()
    if milestone is None:
        raise Http404("No such milestone.")
    if action == "release":
        return _release(request, milestone)
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

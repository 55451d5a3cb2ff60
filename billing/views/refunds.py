"""The Refunds page and the refund of one payment: the freelancer types an amount,
reads what will move (computed by the service that moves it) and confirms. With htmx
the preview is a dialog over the Refunds page; without JavaScript it is a page."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from contracts_portal.errors import DomainError

from ..forms import RefundForm
from ..models import Payment
from ..money import format_cents
from ..refund_window import refund_window_refusal
from ..selectors import refundable_payments, refunded_cents
from ..services.refunds import refund_create, refund_plan

NOT_PREVIEWED = "The amount is not the one in the figures shown: read the new figures, then confirm."


def _render_refunds(request):
    now = timezone.now()
    page = Paginator(refundable_payments(request.user, now=now), 25).get_page(request.GET.get("page"))
    rows = []
    for payment in page.object_list:
        left = payment.amount_cents - payment.refunded_cents
        refusal = refund_window_refusal(payment, now) or ("Refunded in full." if left == 0 else None)
        form = None
        if not refusal:
            form = RefundForm(initial={"idempotency_key": uuid.uuid4().hex}, prefix=_prefix(payment))
        rows.append({"payment": payment, "left_cents": left, "refusal": refusal, "form": form})
    return render(request, "billing/refunds.html", {"page": page, "rows": rows})


@login_required
def refund_list(request):
    """A freelancer's payments: those inside the refund window with what is left to
    refund, older ones shown with the reason they can no longer be refunded."""
    return _render_refunds(request)


def _prefix(payment: Payment) -> str:
    return f"p{payment.pk}"


def _refund_form(data, payment: Payment, plan=None) -> RefundForm:
    """The form of the preview, carrying the figures ``plan`` shows so that the
    confirmation can be checked against them."""
    prefix = _prefix(payment)
    data = data.copy()
    data[f"{prefix}-previewed_amount"] = plan.amount_cents if plan else ""
    data[f"{prefix}-refunded_before"] = plan.refunded_before_cents if plan else ""
    form = RefundForm(data, prefix=prefix, auto_id="refund-%s")
    form.is_valid()
    return form


def _add_refusal(form: RefundForm, error: DomainError) -> None:
    form.add_error("amount" if error.code == "amount" else None, error.message)


def _planned(request, payment: Payment, data):
    """The preview of the amount in ``data``: the form, and the plan (None with the
    refusal shown at its field)."""
    form = _refund_form(data, payment)
    if form.errors:
        return form, None
    try:
        plan = refund_plan(payment=payment, by=request.user, amount_cents=form.cleaned_data["amount"])
    except DomainError as error:
        _add_refusal(form, error)
        return form, None
    return _refund_form(data, payment, plan), plan


def _render_preview(request, payment: Payment, form: RefundForm, plan, *, status: int) -> HttpResponse:
    left = plan.left_before_cents if plan else payment.amount_cents - refunded_cents(payment)
    template = "billing/partials/refund_dialog.html" if request.htmx else "billing/refund_payment.html"
    context = {"payment": payment, "form": form, "plan": plan, "left_cents": left}
    return render(request, template, context, status=status)


def _not_refunded(request, payment: Payment, form: RefundForm) -> None:
    """On the page without JavaScript, a refused confirmation is also said at the top."""
    if not request.htmx:
        errors = " ".join(error for errors in form.errors.values() for error in errors)
        messages.error(request, f"Payment #{payment.pk} was not refunded: {errors}")


def _confirmed(form: RefundForm) -> bool:
    """Whether the confirmation carries the figures of a preview of this amount."""
    data = form.cleaned_data
    return data["previewed_amount"] == data["amount"] and data["refunded_before"] is not None


@login_required
@require_POST
def refund_payment(request, payment_id: int):
    """Preview a refund of the typed amount (the default), or carry it out when the
    preview is confirmed. A confirmation whose figures no longer hold, because the
    payment was refunded in the meantime, gets 409 and the new figures."""
    payment = (
        Payment.objects.select_related("contract", "client", "freelancer")
        .filter(pk=payment_id, freelancer=request.user)
        .first()
    )
    if payment is None:
        raise Http404("No such payment.")
    prefix = _prefix(payment)
    data = request.POST.copy()
    whole = request.POST.get(f"{prefix}-whole")
    if whole:
        data[f"{prefix}-amount"] = whole
    confirm = "confirm" in request.POST and not whole
    form = RefundForm(data, prefix=prefix)
    if not confirm or not form.is_valid() or not _confirmed(form):
        form, plan = _planned(request, payment, data)
        if confirm and plan is not None:
            form.add_error(None, NOT_PREVIEWED)
        if confirm:
            _not_refunded(request, payment, form)
        return _render_preview(request, payment, form, plan, status=400 if form.errors else 200)

    try:
        refund = refund_create(
            payment=payment,
            by=request.user,
            amount_cents=form.cleaned_data["amount"],
            idempotency_key=form.cleaned_data["idempotency_key"],
            reason=form.cleaned_data["reason"],
            refunded_before_cents=form.cleaned_data["refunded_before"],
        )
    except DomainError as error:
        form, plan = _planned(request, payment, data)
        if error.code == "stale" or not form.errors:
            form.add_error(None, error.message)
        _not_refunded(request, payment, form)
        return _render_preview(request, payment, form, plan, status=409 if error.code == "stale" else 400)
    messages.success(request, f"Refunded {format_cents(refund.amount_cents)} of payment #{payment.pk} to the client.")
    url = reverse("refunds")
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from contracts.selectors import refundable_payments
from contracts_portal.errors import DomainError

from ..forms import RefundForm
from ..models import Payment
from ..money import format_cents
from ..services.refunds import refund_create, refund_window_refusal


def _render_refunds(request, *, bound_form=None, status=200):
    now = timezone.now()
    page = Paginator(refundable_payments(request.user, now=now), 25).get_page(request.GET.get("page"))
    rows = []
    for payment in page.object_list:
        left = payment.amount_cents - payment.refunded_cents
        refusal = refund_window_refusal(payment, now) or ("Refunded in full." if left == 0 else None)
        form = None
        if not refusal:
            prefix = f"p{payment.pk}"
            if bound_form is not None and bound_form.prefix == prefix:
                form = bound_form
            else:
                form = RefundForm(
                    initial={"amount": format_cents(left).lstrip("$"), "idempotency_key": uuid.uuid4().hex},
                    prefix=prefix,
                )
        rows.append({"payment": payment, "left_cents": left, "refusal": refusal, "form": form})
    return render(request, "billing/refunds.html", {"page": page, "rows": rows}, status=status)


@login_required
def refund_list(request):
    """A freelancer's payments: those of the last 180 days with what is left to
    refund, older ones shown with the reason they can no longer be refunded."""
    return _render_refunds(request)


@login_required
@require_POST
def refund_payment(request, payment_id: int):
    payment = Payment.objects.filter(pk=payment_id, freelancer=request.user).first()
    if payment is None:
        raise Http404("No such payment.")
    form = RefundForm(request.POST, prefix=f"p{payment.pk}")
    if form.is_valid():
        try:
            refund = refund_create(
                payment=payment,
                by=request.user,
                amount_cents=form.cleaned_data["amount"],
                idempotency_key=form.cleaned_data["idempotency_key"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, f"Refunded {format_cents(refund.amount_cents)} of payment #{payment.pk} to the client."
            )
            return redirect("refunds")
    messages.error(request, f"Payment #{payment.pk} was not refunded: {' '.join(_errors(form))}")
    return _render_refunds(request, bound_form=form, status=400)


def _errors(form) -> list[str]:
    return [error for errors in form.errors.values() for error in errors]

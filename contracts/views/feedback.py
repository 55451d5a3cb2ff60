from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from contracts_portal.errors import DomainError

from .. import services
from ..forms.feedback import FeedbackForm, FeedbackResponseForm
from ..models import Feedback
from ..services.feedback import criteria_for, feedback_closes_at, feedback_refusal
from .access import party_contract_or_404, party_contracts


def _back_to_feedback(contract_id: int):
    return redirect(f"{reverse('contract_detail', args=[contract_id])}#feedback")


@login_required
def feedback_form(request, contract_id: int):
    """Leave feedback on an ended contract, once, within ``FEEDBACK_WINDOW_DAYS``."""
    contract = party_contract_or_404(request.user, contract_id)
    refusal = feedback_refusal(contract, request.user)
    if refusal:
        messages.error(request, refusal)
        return _back_to_feedback(contract.pk)
    criteria = criteria_for(contract, request.user)
    # A POST is always validated, even an empty one (a JSON body): it shows what is missing.
    form = FeedbackForm(request.POST if request.method == "POST" else None, criteria=criteria)
    if request.method == "POST" and form.is_valid():
        try:
            feedback = services.feedback_submit(
                contract=contract,
                by=request.user,
                scores=form.scores(),
                public_comment=form.cleaned_data["public_comment"],
                private_reason=form.cleaned_data["private_reason"],
                private_recommend=form.cleaned_data["private_recommend"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            if feedback.revealed_at:
                messages.success(request, "Thank you. You have both left feedback, so both are now visible.")
            else:
                messages.success(
                    request,
                    "Thank you. Your feedback stays hidden until the other party leaves theirs or the window closes.",
                )
            return _back_to_feedback(contract.pk)
    return render(
        request,
        "contracts/feedback_form.html",
        {
            "contract": contract,
            "form": form,
            "other_party": contract.other_party(request.user),
            "closes_at": feedback_closes_at(contract),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def feedback_respond_view(request, feedback_id: int):
    feedback = Feedback.objects.filter(pk=feedback_id, contract__in=party_contracts(request.user)).first()
    if feedback is None:
        raise Http404("No such feedback.")
    form = FeedbackResponseForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError("Write your response.")
        services.feedback_respond(feedback=feedback, by=request.user, text=form.cleaned_data["text"])
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Your response is posted.")
    return _back_to_feedback(feedback.contract_id)

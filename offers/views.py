"""The pages of offers: sending one, reading one (both parties; the freelancer also
reads what its terms mean at the end) and answering it, and the invitation link an
address without an account is e-mailed."""

from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from accounts.profiles import user_today
from accounts.time_zones import format_moment
from accounts.verification import email_is_verified
from billing.money import format_cents
from contracts.models import ContractKind
from contracts.notifications import display_name
from contracts_portal.errors import DomainError

from . import selectors, services
from .effects import freelancer_name
from .forms import FIELD_OF_CODE, DeclineForm, OfferForm, milestone_formset, rows_sent
from .models import Offer
from .terms import offer_terms

UNVERIFIED = "Verify your e-mail address before you send an offer: follow the link we e-mailed you when you signed up."


def _render_send(request, form, milestones, *, status: int = 200, quiet: bool = False):
    """The "Send an offer" page, or only its form for htmx (a row added): ``quiet``
    shows what was typed without judging it yet."""
    template = "offers/partials/offer_form.html" if request.htmx else "offers/send.html"
    context = {
        "form": form,
        "milestones": milestones,
        "quiet": quiet,
        "verified": email_is_verified(request.user),
        "can_add_milestone": milestones.total_form_count() < milestones.max_num,
    }
    return render(request, template, context, status=status)


def _send(request, form, milestones) -> Offer | None:
    """The offer sent from a valid form, or None with the refusal at its field."""
    data = form.cleaned_data
    fixed = data["kind"] == ContractKind.FIXED
    try:
        return services.offer_send(
            client=request.user,
            to=data["to"],
            title=data["title"],
            description=data["description"],
            kind=data["kind"],
            start_date=data["start_date"],
            hourly_rate_cents=None if fixed else data["hourly_rate"],
            weekly_hour_limit=None if fixed else data["weekly_hour_limit"],
            manual_time_allowed=True if fixed else data["manual_time_allowed"],
            notice_days=data["notice_days"],
            milestones=milestones.milestones() if fixed else (),
        )
    except DomainError as error:
        form.add_error(FIELD_OF_CODE.get(error.code), error.message)
        return None


@login_required
def offer_send_view(request):
    """Send an offer. "Add a milestone" posts the form back with one more row (htmx
    swaps in the form alone) without sending anything."""
    today = user_today(request.user)
    if request.method != "POST":
        form = OfferForm(initial={"to": request.GET.get("to", "")[:254]}, today=today)
        return _render_send(request, form, milestone_formset())
    form = OfferForm(request.POST, today=today)
    if "add_milestone" in request.POST:
        milestones = milestone_formset(request.POST, rows=rows_sent(request.POST) + 1)
        return _render_send(request, form, milestones, quiet=True)
    milestones = milestone_formset(request.POST, horizon=form.horizon)
    if not email_is_verified(request.user):
        form.add_error(None, UNVERIFIED)
        return _render_send(request, form, milestones, status=400)
    fixed = form.is_valid() and form.cleaned_data["kind"] == ContractKind.FIXED
    if fixed:
        milestones.start_date = form.cleaned_data["start_date"]
    if form.is_valid() and (not fixed or milestones.is_valid()):
        offer = _send(request, form, milestones)
        if offer is not None:
            sent_to = (
                f"an invitation to sign up is e-mailed to {offer.invited_email}"
                if offer.is_invitation
                else f"{freelancer_name(offer)} is told and e-mailed"
            )
            messages.success(
                request,
                f"Your offer “{offer.title}” is sent: {sent_to}. It expires on {format_moment(offer.expires_at)}.",
            )
            return redirect("offer_detail", offer_id=offer.pk)
    return _render_send(request, form, milestones, status=400)


def _detail(request, offer, *, decline_form=None, status: int = 200):
    user = request.user
    context = {
        "offer": offer,
        "is_client": user.pk == offer.client_id,
        "freelancer_name": freelancer_name(offer),
        "actions": offer.actions_for(user),
        "terms": offer_terms(offer),
        "history": selectors.offer_history(offer),
        "decline_form": decline_form or DeclineForm(auto_id="decline-%s"),
    }
    return render(request, "offers/detail.html", context, status=status)


@login_required
@require_GET
def offer_detail(request, offer_id: int):
    return _detail(request, selectors.party_offer_or_404(request.user, offer_id))


def _accept(request, offer):
    contract = services.offer_accept(offer=offer, by=request.user)
    first = contract.milestones.order_by("position").first()
    funded = f"; its first milestone is funded: {format_cents(first.amount_cents)} is in escrow" if first else ""
    messages.success(request, f"You accepted the offer: the contract has started{funded}.")
    return redirect("contract_detail", contract_id=contract.pk)


def _decline(request, offer):
    form = DeclineForm(request.POST, auto_id="decline-%s")
    if not form.is_valid():
        return _detail(request, offer, decline_form=form, status=400)
    services.offer_decline(offer=offer, by=request.user, reason=form.cleaned_data["reason"])
    messages.success(request, f"You declined the offer; {display_name(offer.client)} is told why.")
    return redirect("offer_detail", offer_id=offer.pk)


def _withdraw(request, offer):
    services.offer_withdraw(offer=offer, by=request.user)
    messages.success(request, "Your offer is withdrawn: it can no longer be accepted.")
    return redirect("offer_detail", offer_id=offer.pk)


OFFER_ACTIONS = {"accept": _accept, "decline": _decline, "withdraw": _withdraw}


@login_required
@require_POST
def offer_action(request, offer_id: int, action: str):
    if action not in OFFER_ACTIONS:
        raise Http404("No such action.")
    offer = selectors.party_offer_or_404(request.user, offer_id)
    try:
        return OFFER_ACTIONS[action](request, offer)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("offer_detail", offer_id=offer.pk)


@require_GET
def offer_invitation(request, token: str):
    """The link e-mailed to an address without an account. Signed out, the page
    offers to sign up with that address (the link proves it, so it needs no second
    verification) or to sign in, and either leads back here; signed in with that
    address, verified, the offer becomes the person's and opens.

    A plain link (GET), like a notification's: taking the offer is its only effect,
    done once and only for the person invited, whose verified address is the one the
    offer was sent to; to anyone else the link shows why it is not theirs."""
    offer = Offer.objects.filter(invitation_token=token).select_related("client", "freelancer").first()
    if offer is None:
        raise Http404("No such invitation.")
    user = request.user
    here = reverse("offer_invitation", args=[token])
    if user.is_authenticated and offer.is_party(user):
        return redirect("offer_detail", offer_id=offer.pk)
    open_invitation = offer.is_open and offer.is_invitation
    refusal = None
    if user.is_authenticated and open_invitation:
        try:
            services.offer_claim(offer=offer, by=user)
        except DomainError as error:
            refusal = error.message
        else:
            messages.success(request, f"The offer from {display_name(offer.client)} is yours to answer.")
            return redirect("offer_detail", offer_id=offer.pk)
    elif open_invitation:
        get_adapter(request).stash_verified_email(request, offer.invited_email)
    elif offer.is_open:
        refusal = "The person this offer was sent to has already opened it: sign in with their account to read it."
    else:
        refusal = offer.closed_state_refusal or offer.refusal("claim") or "This invitation can no longer be used."
    context = {
        "offer": offer,
        "open_invitation": open_invitation,
        "refusal": refusal,
        "signup_url": f"{reverse('account_signup')}?{urlencode({'email': offer.invited_email, 'next': here})}",
        "login_url": f"{reverse('login')}?{urlencode({'next': here})}",
    }
    return render(request, "offers/invitation.html", context)

"""What an offer's transitions do besides changing its state, registered with the
contracts' machinery (``contracts.services.transitions``), which carries them out
as it does a contract's: how an offer is read before it is a contract (its own
parties, its page, what its sentences name), the e-mails its transitions declare,
and its expiry job."""

from datetime import UTC

from django.conf import settings
from django.urls import reverse

from billing.money import format_cents
from contracts.models import JobKind
from contracts.notifications import display_name, quoted
from contracts.services.deadline_mail import absolute_url, fit_subject, send_with_deadline
from contracts.services.mail import queue_email
from contracts.services.scheduling import schedule_job
from contracts.services.transitions import (
    Occasion,
    Standalone,
    register_email,
    register_scheduler,
    register_standalone,
)

from .models import Offer
from .terms import offer_terms


def offer_path(offer: Offer) -> str:
    return reverse("offer_detail", args=[offer.pk])


def invitation_path(offer: Offer) -> str:
    return reverse("offer_invitation", args=[offer.invitation_token])


def freelancer_name(offer: Offer) -> str:
    """The freelancer as the client knows them: their name, or the address invited."""
    return display_name(offer.freelancer) if offer.freelancer_id else offer.invited_email


def _first_funded(offer: Offer) -> str:
    if offer.is_hourly or offer.contract_id is None:
        return ""
    first = offer.milestones.order_by("position").first()
    return f", and its first milestone, {quoted(first.title)}, is funded: {format_cents(first.amount_cents)} in escrow"


def _context(offer: Offer) -> dict:
    return {
        "title": quoted(offer.title),
        "client": display_name(offer.client),
        "freelancer": freelancer_name(offer),
        "expires": f"{offer.expires_at.astimezone(UTC):%Y-%m-%d %H:%M}",
        "first_funded": _first_funded(offer),
    }


def _about(offer: Offer) -> dict:
    return {"title": offer.title, "evidence": {"offer_id": offer.pk, "offer_url": offer_path(offer)}}


register_standalone(
    Offer,
    Standalone(
        name="offer",
        page=offer_path,
        context=_context,
        about=_about,
        invitees=lambda offer: [offer.invited_email] if offer.freelancer_id is None else [],
    ),
)


@register_scheduler("offer_expiry")
def schedule_offer_expiry(occasion: Occasion) -> None:
    """Sent: the offer expires at its expiry time unless it was answered before (the job then skips)."""
    offer = occasion.instance
    schedule_job(
        kind=JobKind.OFFER_EXPIRY,
        key=f"{JobKind.OFFER_EXPIRY}:{offer.pk}",
        contract=None,
        subject_id=offer.pk,
        due_at=offer.expires_at,
    )


# E-mails. Like the contracts' deadline e-mails, each is recorded once under a key of
# the event, names its deadline in the recipient's time zone and links to the page
# where the person acts; none carries text a party wrote.


def _offer_context(offer: Offer) -> dict:
    return {
        "offer": offer,
        "terms": offer_terms(offer),
        "client_name": display_name(offer.client),
        "freelancer_name": freelancer_name(offer),
        "offer_url": absolute_url(offer_path(offer)),
        "expiry_days": settings.OFFER_EXPIRY_DAYS,
    }


@register_email("offer_received")
def email_offer_received(occasion: Occasion, recipient) -> None:
    """To the freelancer: an offer to read and answer by its expiry."""
    offer = occasion.instance
    send_with_deadline(
        key=f"email:offer-received:{offer.pk}:{recipient.pk}",
        user=recipient,
        subject=lambda day: f"{display_name(offer.client)} sent you an offer: “{offer.title}” (answer by {day})",
        template="offer_received",
        deadline=offer.expires_at,
        context=_offer_context(offer),
    )


@register_email("offer_invitation")
def email_offer_invitation(occasion: Occasion, address: str) -> None:
    """To an address with no account: the offer, and a link to sign up with that
    address that leads to it."""
    offer = occasion.instance
    queue_email(
        key=f"email:offer-invitation:{offer.pk}",
        user=None,
        to=address,
        subject=fit_subject(f"{display_name(offer.client)} invites you to an offer: “{offer.title}”"),
        template="offer_invitation",
        context={**_offer_context(offer), "deadline": offer.expires_at, "invitation_url": _invitation_url(offer)},
    )


def _invitation_url(offer: Offer) -> str:
    return absolute_url(invitation_path(offer))


@register_email("offer_accepted")
def email_offer_accepted(occasion: Occasion, recipient) -> None:
    """To both: the contract has started on the offer's terms (and its first milestone is funded)."""
    offer = occasion.instance
    contract = offer.contract
    queue_email(
        key=f"email:offer-accepted:{offer.pk}:{recipient.pk}",
        user=recipient,
        subject=fit_subject(f"“{offer.title}” is accepted: the contract has started"),
        template="offer_accepted",
        context={
            **_offer_context(offer),
            "contract": contract,
            "contract_url": absolute_url(reverse("contract_detail", args=[contract.pk])),
            "recipient_is_client": recipient.pk == offer.client_id,
        },
    )


@register_email("offer_declined")
def email_offer_declined(occasion: Occasion, recipient) -> None:
    """To the client: the freelancer declined (their reason is on the offer page)."""
    offer = occasion.instance
    queue_email(
        key=f"email:offer-declined:{offer.pk}",
        user=recipient,
        subject=fit_subject(f"{freelancer_name(offer)} declined your offer “{offer.title}”"),
        template="offer_declined",
        context=_offer_context(offer),
    )

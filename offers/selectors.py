"""Read-side queries of offers: a person's offers (My Jobs), the offers waiting for a
freelancer's answer, an offer as one of its parties sees it, and its history. Each
is a fixed number of queries, whatever the number of offers."""

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from contracts.models import StateChange

from .models import Offer, OfferState


def offers_of(user) -> QuerySet:
    """Offers the user sent or received, newest first (drafts never leave their transaction)."""
    return (
        Offer.objects.filter(Q(client=user) | Q(freelancer=user))
        .exclude(state=OfferState.DRAFT)
        .select_related("client", "freelancer", "contract")
        .order_by("-created_at", "-id")
    )


def offers_waiting_for(user) -> list[Offer]:
    """Offers sent to the user that they can still answer, the soonest to expire first."""
    return list(
        Offer.objects.filter(freelancer=user, state=OfferState.SENT, expires_at__gt=timezone.now())
        .select_related("client")
        .order_by("expires_at", "id")
    )


def offer_counts(user) -> dict[str, int]:
    """How many offers the user has, and how many of them wait for an answer (theirs or the other party's)."""
    now = timezone.now()
    return (
        Offer.objects.filter(Q(client=user) | Q(freelancer=user))
        .exclude(state=OfferState.DRAFT)
        .aggregate(
            total=Count("id"),
            open=Count("id", filter=Q(state=OfferState.SENT, expires_at__gt=now)),
        )
    )


def party_offer_or_404(user, offer_id: int) -> Offer:
    """An offer the user sent or received; anyone else's is a 404, never a 403."""
    offer = (
        Offer.objects.filter(Q(client=user) | Q(freelancer=user), pk=offer_id)
        .exclude(state=OfferState.DRAFT)
        .select_related("client", "freelancer", "contract")
        .first()
    )
    if offer is None:
        raise Http404("No such offer.")
    return offer


def offer_history(offer: Offer) -> list[StateChange]:
    return list(
        StateChange.objects.filter(subject="offer", subject_id=offer.pk)
        .select_related("actor")
        .order_by("created_at", "id")
    )

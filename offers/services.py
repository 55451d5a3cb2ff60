"""Everything that changes an offer: keyword-only arguments, one ``transaction.atomic``,
the offer's row locked first, a ``DomainError`` with a readable message (and, where
it is about one term, that term's name as its ``code``) when something is refused.

Accepting, withdrawing and the expiry lock the same row, so whichever comes first
wins and the others are refused with what happened: an offer has exactly one outcome,
and accepting it starts exactly one contract and funds its first milestone once.
"""

import secrets
from datetime import date, datetime, time, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from accounts.profiles import user_time_zone, user_today
from accounts.verification import email_is_verified
from contracts.models import Contract, ContractKind, JobKind
from contracts.services import contract_create, milestone_fund
from contracts.services.creation import contract_terms_check
from contracts.services.jobs import job_handler
from contracts.services.transitions import check, take
from contracts_portal.errors import DomainError

from . import effects  # noqa: F401  (registers what an offer's transitions do)
from .models import Offer, OfferMilestone, OfferState

DESCRIPTION_MAX_LENGTH = 10_000
DECLINE_REASON_MAX_LENGTH = 2000


def lock_offer(offer_id: int) -> Offer:
    """The offer's row, locked for the rest of the transaction: every change of an
    offer takes this lock first."""
    try:
        return Offer.objects.select_for_update(of=("self",)).select_related("client", "freelancer").get(pk=offer_id)
    except Offer.DoesNotExist:
        raise DomainError("This offer does not exist.") from None


# Sending.


def find_freelancer(*, client, to: str):
    """The person an offer is for, from what the client typed: a username, or an
    e-mail address. Returns (user, None) for an account, or (None, address) for an
    address no account has verified: that person is invited to sign up."""
    to = to.strip()
    if not to:
        raise DomainError("Type the freelancer's username or e-mail address.", code="freelancer")
    if "@" in to:
        try:
            validate_email(to)
        except ValidationError:
            raise DomainError(
                "That is not an e-mail address: check it, or type a username.", code="freelancer"
            ) from None
        address = EmailAddress.objects.filter(email__iexact=to, verified=True).select_related("user").first()
        user = address.user if address else None
        if user is None and client.email and client.email.lower() == to.lower():
            user = client
        found = (user, None) if user else (None, to.lower())
    else:
        users = get_user_model().objects.filter(username__iexact=to)
        user = next((user for user in users if user.username == to), None) or (users[0] if len(users) == 1 else None)
        if user is None:
            raise DomainError(
                f"No one has the username “{to}”. To invite someone without an account, type their e-mail address.",
                code="freelancer",
            )
        found = (user, None)
    user = found[0]
    if user is not None and user.pk == client.pk:
        raise DomainError("You cannot send an offer to yourself.", code="freelancer")
    if user is not None and not user.is_active:
        raise DomainError("This account is closed: it cannot receive offers.", code="freelancer")
    return found


def _check_dates(*, client, start_date: date, milestones) -> None:
    today = user_today(client)
    horizon = today + timedelta(days=settings.OFFER_HORIZON_DAYS)
    if not today <= start_date <= horizon:
        raise DomainError(
            f"Choose a start date from today ({today:%Y-%m-%d}) to {horizon:%Y-%m-%d}.", code="start_date"
        )
    for milestone in milestones:
        due = milestone[2] if len(milestone) > 2 else None
        if due is not None and not start_date <= due <= horizon:
            raise DomainError(
                f"A milestone's due date must be from the start date ({start_date:%Y-%m-%d}) to {horizon:%Y-%m-%d}.",
                code="milestones",
            )


def offer_send_check(
    *,
    client,
    freelancer,
    kind: str,
    title: str,
    description: str,
    start_date: date,
    hourly_rate_cents: int | None = None,
    weekly_hour_limit: int | None = None,
    notice_days: int = 0,
    milestones=(),
) -> None:
    """Refuse an offer the contract could not start on, or that says too little to be
    answered: the contract's own terms check, and a description, milestones with titles
    for fixed price, and dates from today on."""
    if not email_is_verified(client):
        raise DomainError(
            "Verify your e-mail address before you send an offer: follow the link we e-mailed you when you signed up.",
            code="unverified",
        )
    if not description.strip():
        raise DomainError("Describe the work: the freelancer reads it before accepting.", code="description")
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise DomainError(f"Keep the description under {DESCRIPTION_MAX_LENGTH:,} characters.", code="description")
    if kind == ContractKind.FIXED:
        if not milestones:
            raise DomainError("A fixed-price offer needs at least one milestone.", code="milestones")
        if any(not milestone[0].strip() for milestone in milestones):
            raise DomainError("Give every milestone a title.", code="milestones")
    contract_terms_check(
        client=client,
        freelancer=freelancer,
        kind=kind,
        title=title,
        hourly_rate_cents=hourly_rate_cents,
        weekly_hour_limit=weekly_hour_limit,
        notice_days=notice_days,
        milestones=milestones,
    )
    _check_dates(client=client, start_date=start_date, milestones=milestones)


def offer_send(
    *,
    client,
    to: str,
    title: str,
    description: str,
    kind: str,
    start_date: date,
    hourly_rate_cents: int | None = None,
    weekly_hour_limit: int | None = None,
    manual_time_allowed: bool = True,
    notice_days: int = 0,
    milestones=(),
    expires_at: datetime | None = None,
) -> Offer:
    """The client sends an offer to ``to`` (a username or an e-mail address): its
    terms are written once and never change. An address without an account is sent an
    invitation to sign up with it, which leads to the offer. Fixed-price ``milestones``
    are (title, amount in cents[, due date]); the offer expires ``OFFER_EXPIRY_DAYS``
    from now unless ``expires_at`` says otherwise."""
    if kind not in ContractKind.values:
        raise DomainError("Choose hourly or fixed-price.", code="kind")
    freelancer, invited_email = find_freelancer(client=client, to=to)
    if kind == ContractKind.HOURLY:
        milestones = ()
    else:
        hourly_rate_cents = weekly_hour_limit = None
        manual_time_allowed = True
    milestones = [(milestone[0].strip(), *milestone[1:]) for milestone in milestones]
    offer_send_check(
        client=client,
        freelancer=freelancer,
        kind=kind,
        title=title,
        description=description,
        start_date=start_date,
        hourly_rate_cents=hourly_rate_cents,
        weekly_hour_limit=weekly_hour_limit,
        notice_days=notice_days,
        milestones=milestones,
    )
    now = timezone.now()
    with transaction.atomic():
        offer = Offer.objects.create(
            client=client,
            freelancer=freelancer,
            invited_email=invited_email or "",
            invitation_token=secrets.token_urlsafe(32) if invited_email else None,
            title=title.strip(),
            description=description.strip(),
            kind=kind,
            hourly_rate_cents=hourly_rate_cents,
            weekly_hour_limit=weekly_hour_limit,
            manual_time_allowed=manual_time_allowed,
            notice_days=notice_days,
            start_date=start_date,
            expires_at=expires_at or now + timedelta(days=settings.OFFER_EXPIRY_DAYS),
            created_at=now,
        )
        OfferMilestone.objects.bulk_create(
            OfferMilestone(
                offer=offer,
                position=position,
                title=milestone[0],
                amount_cents=milestone[1],
                due_date=milestone[2] if len(milestone) > 2 else None,
            )
            for position, milestone in enumerate(milestones, start=1)
        )
        take(offer, "send", by=client, at=now)
    return offer


# Answering.


def contract_start(offer: Offer, *, accepted_at: datetime) -> datetime:
    """When the contract starts: at acceptance, or at the start of the start date in
    the freelancer's time zone when that is later (their diary opens that day)."""
    start = timezone.make_aware(datetime.combine(offer.start_date, time.min), user_time_zone(offer.freelancer))
    return max(accepted_at, start)


def offer_accept(*, offer: Offer, by) -> Contract:
    """The freelancer accepts: in one transaction the contract starts on exactly the
    offer's terms (description, milestones and manual-time rule included), the first
    milestone of a fixed-price offer is funded into escrow (the client charged its
    amount and the marketplace fee), and both parties are told and e-mailed."""
    with transaction.atomic():
        offer = lock_offer(offer.pk)
        at = timezone.now()
        check(offer, "accept", by=by)
        if not offer.client.is_active:
            raise DomainError("The client's account is closed, so this offer can no longer be accepted.")
        milestones = list(offer.milestones.order_by("position"))
        contract = contract_create(
            client=offer.client,
            freelancer=offer.freelancer,
            kind=offer.kind,
            title=offer.title,
            description=offer.description,
            hourly_rate_cents=offer.hourly_rate_cents,
            weekly_hour_limit=offer.weekly_hour_limit,
            notice_days=offer.notice_days,
            milestones=[(milestone.title, milestone.amount_cents, milestone.due_date) for milestone in milestones],
            started_at=contract_start(offer, accepted_at=at),
            manual_time_allowed=offer.manual_time_allowed,
        )
        if milestones:
            milestone_fund(milestone=contract.milestones.order_by("position").first(), by=offer.client)
        take(offer, "accept", by=by, at=at, contract=contract)
    return contract


def offer_decline(*, offer: Offer, by, reason: str) -> Offer:
    """The freelancer declines, saying why: the client reads the reason."""
    reason = reason.strip()
    if not reason:
        raise DomainError("Tell the client why you decline: they read your reason.", code="reason")
    if len(reason) > DECLINE_REASON_MAX_LENGTH:
        raise DomainError(f"Keep the reason under {DECLINE_REASON_MAX_LENGTH:,} characters.", code="reason")
    with transaction.atomic():
        offer = lock_offer(offer.pk)
        take(offer, "decline", by=by, at=timezone.now(), reason=reason)
    return offer


def offer_withdraw(*, offer: Offer, by) -> Offer:
    """The client takes the offer back before it is answered."""
    with transaction.atomic():
        offer = lock_offer(offer.pk)
        take(offer, "withdraw", by=by, at=timezone.now())
    return offer


def offer_expire(*, offer_id: int) -> Offer:
    """An offer nobody answered expires, at its expiry time whenever the sweep runs;
    refused (the job skipped) when it was answered first."""
    with transaction.atomic():
        offer = lock_offer(offer_id)
        take(offer, "expire", by=None, at=offer.expires_at, as_platform=True)
    return offer


@job_handler(JobKind.OFFER_EXPIRY)
def _offer_expiry(job) -> str:
    offer_expire(offer_id=job.subject_id)
    return f"offer #{job.subject_id} expired"


# Invitations.


def offer_claim(*, offer: Offer, by) -> Offer:
    """The person invited by e-mail has an account with that address, verified: the
    offer is theirs to answer."""
    with transaction.atomic():
        offer = lock_offer(offer.pk)
        take(offer, "claim", by=by, at=timezone.now())
    return offer


def offers_claim_invited(*, user) -> list[Offer]:
    """Every open offer sent to the user's address before they had an account becomes
    theirs, once that address is verified (when they verify it, or sign up through
    the invitation link). Offers that can no longer be claimed are left as they are."""
    if not email_is_verified(user):
        return []
    claimed = []
    waiting = Offer.objects.filter(
        freelancer__isnull=True, invited_email=user.email.lower(), state=OfferState.SENT, expires_at__gt=timezone.now()
    )
    for offer in list(waiting):
        try:
            claimed.append(offer_claim(offer=offer, by=user))
        except DomainError:
            continue
    return claimed

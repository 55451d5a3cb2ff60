"""E-mails for deadlines a person must act on: a refund request to answer, submitted
work to review, notice that ends a contract, a proposal to end it by mutual agreement,
a proposed hourly rate to accept or decline.

The effects of the transitions and rows concerned (``contracts.services.effects``)
call these in the transaction of the event, next to the in-app notification, so a
rolled-back action e-mails nobody. Each
e-mail is recorded under a key unique to the event (``queue_email``): an action that
is retried or delivered twice cannot e-mail twice. Each names its deadline in the
recipient's time zone, the zone named, and links, absolutely (``PORTAL_BASE_URL``),
to the page where the person acts.

Like the notifications, the e-mails never carry free text a party wrote (an end
note, a proposal note, a statement) nor the private reason for ending.
"""

from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import dateformat, timezone

from accounts.profiles import user_time_zone
from billing.money import format_cents

from ..models import Contract, EscrowRefundRequest, Milestone
from ..notifications import display_name
from .mail import queue_email

SUBJECT_MAX_LENGTH = 200  # OutgoingEmail.subject


def absolute_url(path: str) -> str:
    """A link for an e-mail: the path on the address the portal is served on."""
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def contract_url(contract: Contract, anchor: str = "") -> str:
    return absolute_url(reverse("contract_detail", args=[contract.pk]) + (f"#{anchor}" if anchor else ""))


def fit_subject(subject: str) -> str:
    if len(subject) <= SUBJECT_MAX_LENGTH:
        return subject
    return subject[: SUBJECT_MAX_LENGTH - 1] + "…"


def send_with_deadline(
    *, key: str, user, subject: Callable[[str], str], template: str, deadline: datetime, context: dict
) -> None:
    """Queue one e-mail with a deadline: its day in the subject (``subject`` is given
    it) and the moment in the body (``deadline``), both in the recipient's time zone."""
    day = dateformat.format(timezone.localtime(deadline, user_time_zone(user)), "M j")
    queue_email(
        key=key,
        user=user,
        subject=fit_subject(subject(day)),
        template=template,
        context={**context, "deadline": deadline},
    )


def email_refund_requested(*, request: EscrowRefundRequest, contract: Contract, milestone: Milestone) -> None:
    """The client ended the contract without paying a funded milestone in full: the
    freelancer approves or disputes the refund by ``respond_by``, or it is approved."""
    amount = format_cents(request.amount_cents)
    send_with_deadline(
        key=f"email:refund-request:{request.pk}:opened",
        user=contract.freelancer,
        subject=lambda day: f"Refund request on “{milestone.title}” of “{contract.title}”: answer by {day}",
        template="refund_request_opened",
        deadline=request.respond_by,
        context={
            "contract": contract,
            "contract_url": contract_url(contract, "refund-requests"),
            "client_name": display_name(contract.client),
            "milestone": milestone,
            "amount": amount,
            "days": settings.REFUND_REQUEST_RESPONSE_DAYS,
            "has_statement": bool(request.client_statement.strip()),
        },
    )


def email_work_submitted(*, milestone: Milestone, contract: Contract, key: str, deadline: datetime) -> None:
    """The freelancer submitted work: the client reviews it by ``deadline``, or the
    escrow is released to the freelancer automatically."""
    send_with_deadline(
        key=key,
        user=contract.client,
        subject=lambda day: f"Review the work on “{milestone.title}” of “{contract.title}” by {day}",
        template="work_submitted",
        deadline=deadline,
        context={
            "contract": contract,
            "contract_url": contract_url(contract, f"milestone-{milestone.pk}"),
            "freelancer_name": display_name(contract.freelancer),
            "milestone": milestone,
            "amount": format_cents(milestone.amount_cents),
            "days": settings.MILESTONE_AUTO_RELEASE_DAYS,
        },
    )


def email_notice_given(*, contract: Contract, recipient, actor_name: str, key: str, effective_at: datetime) -> None:
    """Notice was given: the contract ends at ``effective_at``, whatever is unfinished."""
    send_with_deadline(
        key=key,
        user=recipient,
        subject=lambda day: f"Notice given on “{contract.title}”: it ends on {day}",
        template="notice_given",
        deadline=effective_at,
        context={
            "contract": contract,
            "contract_url": contract_url(contract),
            "actor_name": actor_name,
            "notice_days": contract.notice_days,
            "recipient_is_freelancer": recipient.pk == contract.freelancer_id,
        },
    )


def email_end_proposed(*, contract: Contract, recipient, actor_name: str, key: str, expires_at: datetime) -> None:
    """A mutual, no-fault end was proposed: the other party accepts it by ``expires_at``."""
    send_with_deadline(
        key=key,
        user=recipient,
        subject=lambda day: f"{actor_name} proposes ending “{contract.title}”: answer by {day}",
        template="end_proposed",
        deadline=expires_at,
        context={
            "contract": contract,
            "contract_url": contract_url(contract),
            "actor_name": actor_name,
            "days": settings.END_PROPOSAL_EXPIRY_DAYS,
        },
    )


def email_rate_change_proposed(*, proposal, contract: Contract, recipient, actor_name: str, key: str) -> None:
    """A new hourly rate was proposed: the other party accepts or declines it by its
    expiry, or it lapses and the rate stays as it was."""
    rate = format_cents(proposal.rate_cents)
    send_with_deadline(
        key=key,
        user=recipient,
        subject=lambda day: f"{actor_name} proposes {rate} an hour on “{contract.title}”: answer by {day}",
        template="rate_change_proposed",
        deadline=proposal.expires_at,
        context={
            "contract": contract,
            "contract_url": contract_url(contract, "rate-change"),
            "actor_name": actor_name,
            "rate": rate,
            "days": settings.RATE_CHANGE_EXPIRY_DAYS,
        },
    )

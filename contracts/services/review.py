"""Reviewers' decisions: on circumvention flags (dismiss, warn, suspend) and on
disputed refund requests (the split of the escrow)."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing.money import format_cents
from billing.services.escrow import escrow_return
from contracts_portal.errors import DomainError

from ..models import (
    OPEN_STATES,
    REVIEWER_DECISIONS,
    AccountSuspension,
    Contract,
    EscrowRefundRequest,
    Flag,
    FlagDecision,
    FlagDecisionKind,
    Notification,
    NotificationKind,
    is_reviewer,
    rule_public_explanation,
)
from .account_mail import email_account_closed, email_warning
from .ending import contract_force_end
from .locking import lock_refund_request
from .milestones import milestone_pay
from .transitions import take


def _check_reviewer(by) -> None:
    if not is_reviewer(by):
        raise DomainError("Only reviewers can decide this.")


def may_suspend(user) -> bool:
    """Reviewers (from the review queue) and staff allowed to add suspensions (the admin)."""
    return is_reviewer(user) or bool(
        user and user.is_active and user.has_perm("contracts.add_accountsuspension")
    )


def account_suspend(
    *, user, by, rule: str, explanation: str, internal_note: str = "", message_to_user: str = ""
) -> AccountSuspension:
    """Close the account for good, the one way there is (the review queue and the admin
    both call this): it can no longer sign in, every open contract it is party to is
    ended by the platform (hourly time billed, escrow returned to the client), and its
    other open flags are closed with it. The person is shown the rule, ``explanation``
    (the rule's public explanation) and ``message_to_user``; ``internal_note`` stays
    with the reviewers. The suspension returned carries ``contracts_ended``, how many
    open contracts it ended, for the reviewer's confirmation."""
    if not may_suspend(by):
        raise DomainError("Only reviewers and administrators allowed to close accounts can do this.")
    if by.pk == user.pk:
        raise DomainError("You cannot close your own account.")
    if not rule.strip() or not explanation.strip():
        raise DomainError("Name the rule that was broken and explain it: the account holder reads both.")
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().get(pk=user.pk)
        if AccountSuspension.objects.filter(user=user).exists():
            raise DomainError("This account is already closed.")
        at = timezone.now()
        suspension = AccountSuspension.objects.create(
            user=user,
            rule=rule.strip(),
            explanation=explanation.strip(),
            internal_note=internal_note.strip(),
            message_to_user=message_to_user.strip(),
            created_by=by,
            created_at=at,
        )
        get_user_model().objects.filter(pk=user.pk).update(is_active=False)
        open_contracts = Contract.objects.filter(Q(client=user) | Q(freelancer=user), state__in=OPEN_STATES)
        suspension.contracts_ended = 0
        for contract in open_contracts.order_by("pk"):
            contract_force_end(contract=contract, by=by, reason=f"Account closed: {rule}", on_suspension=True)
            suspension.contracts_ended += 1
        _close_open_flags(user, by=by, at=at, rule=rule.strip())
        email_account_closed(suspension=suspension)
        return suspension


def _close_open_flags(user, *, by, at, rule: str) -> int:
    """Flags about the user still waiting for a decision: nothing is left to decide once
    the account is closed, so each gets a decision that says why it closed."""
    open_flags = Flag.objects.filter(subject=user, decisions__isnull=True).order_by("pk")
    note = f"Closed without review: the account was suspended on {at:%Y-%m-%d} ({rule})."
    closed = [
        FlagDecision(flag=flag, decision=FlagDecisionKind.CLOSED_WITH_ACCOUNT, note=note, decided_by=by, created_at=at)
        for flag in open_flags
    ]
    return len(FlagDecision.objects.bulk_create(closed))


def flag_decide(*, flag: Flag, by, decision: str, note: str, message_to_user: str = "") -> FlagDecision:
    """Record a reviewer's decision on a flag, and carry it out. Decisions are never
    edited: a later decision follows an earlier one. ``note`` is internal (reviewers
    read it); a warned or suspended user reads the rule, its public explanation and
    ``message_to_user``. A decision to suspend carries the ``suspension`` it made (with
    its ``contracts_ended``)."""
    _check_reviewer(by)
    if decision not in REVIEWER_DECISIONS:
        raise DomainError("Choose dismiss, warn or suspend.")
    if not note.strip():
        raise DomainError("Write a note: it records why you decided this.")
    with transaction.atomic():
        flag = Flag.objects.select_for_update().select_related("subject").get(pk=flag.pk)
        if flag.subject_id == by.pk:
            raise DomainError("You cannot review a flag about yourself; another reviewer must decide it.")
        made = FlagDecision.objects.create(flag=flag, decision=decision, note=note.strip(), decided_by=by)
        message_to_user = message_to_user.strip()
        if decision == FlagDecisionKind.WARN:
            told = f" Message from the platform: {message_to_user}" if message_to_user else ""
            Notification.objects.create(
                user=flag.subject,
                contract=flag.contract,
                kind=NotificationKind.CONTRACT,
                message=(
                    f"Warning from the platform: {flag.get_rule_display()}. {rule_public_explanation(flag.rule)}"
                    f"{told} Another breach can close your account."
                ),
            )
            email_warning(decision=made, message_to_user=message_to_user)
        elif decision == FlagDecisionKind.SUSPEND:
            made.suspension = account_suspend(
                user=flag.subject,
                by=by,
                rule=flag.get_rule_display(),
                explanation=rule_public_explanation(flag.rule),
                internal_note=note.strip(),
                message_to_user=message_to_user,
            )
        return made


def refund_request_resolve(
    *, request: EscrowRefundRequest, by, freelancer_cents: int, note: str
) -> EscrowRefundRequest:
    """Decide a disputed refund request: ``freelancer_cents`` of the requested escrow
    is paid to the freelancer and the rest goes back to the client, once."""
    _check_reviewer(by)
    if not note.strip():
        raise DomainError("Write a note: both parties read why you decided this split.")
    with transaction.atomic():
        request = lock_refund_request(request.pk)
        if by.pk in (request.contract.client_id, request.contract.freelancer_id):
            raise DomainError("You cannot decide a dispute on your own contract.")
        if not 0 <= freelancer_cents <= request.amount_cents:
            raise DomainError(f"The freelancer's share must be between $0.00 and {format_cents(request.amount_cents)}.")
        at = timezone.now()
        take(request, "resolve", by=by, at=at, reason=note.strip(), freelancer_share_cents=freelancer_cents)
        milestone = request.milestone
        if freelancer_cents:
            milestone_pay(
                milestone=milestone,
                amount_cents=freelancer_cents,
                key=f"refund-request:{request.pk}:decision-release",
                at=at,
            )
        client_cents = request.amount_cents - freelancer_cents
        if client_cents:
            escrow_return(
                milestone=milestone,
                amount_cents=client_cents,
                key=f"refund-request:{request.pk}:decision-return",
                at=at,
            )
            take(milestone, "settle_refund", by=by, at=at, as_platform=True, reason="Dispute decided")
        else:
            take(milestone, "release_after_dispute", by=by, at=at, as_platform=True, reason="Dispute decided")
        message = (
            f"The dispute on “{milestone.title}” is decided: {format_cents(freelancer_cents)} to the freelancer, "
            f"{format_cents(client_cents)} back to the client. {note.strip()}"
        )
        for user in (request.contract.client, request.contract.freelancer):
            Notification.objects.create(
                user=user,
                contract=request.contract,
                kind=NotificationKind.REFUND_REQUEST,
                message=message,
                created_at=at,
            )
        return request

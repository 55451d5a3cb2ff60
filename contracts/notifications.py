"""In-app notifications: who is told what when a contract, a milestone or a refund
request changes, or when a freelancer refunds a payment.

The receivers run inside the transaction that made the change (``StateChange`` is
written by the ``post_transition`` receiver in ``contracts.signals``), so a
rolled-back action leaves no notification behind. A deadline the person must act
on (a refund request, submitted work, notice, a proposal to end) is e-mailed to them
as well, in the same transaction (``contracts.services.deadline_mail``).

The reason a party gives for ending a contract is private feedback: for ``end``,
``accept_end`` and ``give_notice`` ``StateChange.reason`` holds that reason and it
is never put into a notification. Neither are free-text notes (a proposal's note, a
dispute statement): notifications say what happened; the contract page has the rest.
The one exception is a refund's reason, which the freelancer writes for the client.
"""

from datetime import UTC, timedelta

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.urls import reverse

from billing.models import Payment, PaymentSource, Refund
from billing.money import format_cents

from .models import Contract, EscrowRefundRequest, Milestone, Notification, NotificationKind, StateChange

# Transitions a party takes that the other party is told about, and the sentence.
# {actor} is the party's name, {title} the contract title in quotes.
CONTRACT_BY_PARTY = {
    "pause": "{actor} paused the contract {title}; no new time can be recorded until it is resumed.",
    "resume": "{actor} resumed the contract {title}.",
    "give_notice": "{actor} gave notice on the contract {title}; it ends on {effective:%Y-%m-%d} UTC.",
    "withdraw_notice": "{actor} withdrew notice on the contract {title}; it continues as before.",
    "propose_end": (
        "{actor} proposed ending the contract {title} by mutual agreement; accept it within {expiry_days} days."
    ),
    "accept_end": "{actor} accepted ending the contract {title} by mutual agreement; it has ended.",
    "withdraw_end_proposal": "{actor} withdrew the proposal to end the contract {title}; it continues as before.",
    "decline_end": "{actor} declined ending the contract {title} by mutual agreement; it continues as before.",
    "end": "{actor} ended the contract {title}.",
}
# Ending while notice runs cuts the notice period short.
END_DURING_NOTICE = "{actor} ended the contract {title} at once, cutting the notice period short."
# Free text the actor wrote for the other party, quoted in the notification.
MESSAGE_TO_THE_OTHER_PARTY = {"decline_end"}


def display_name(user) -> str:
    return user.get_full_name().strip() or user.get_username()


def quoted(title: str) -> str:
    return f"“{title}”"


def _notify(users, *, contract_id: int | None, kind: str, message: str, at=None, link: str = "") -> None:
    extra = {"created_at": at} if at is not None else {}
    Notification.objects.bulk_create(
        Notification(user=user, contract_id=contract_id, kind=kind, message=message, link=link, **extra)
        for user in users
    )


def _parties(contract: Contract) -> dict:
    """The contract's two users by id, to name the actor without another query."""
    return {contract.client_id: contract.client, contract.freelancer_id: contract.freelancer}


@receiver(post_save, sender=StateChange, dispatch_uid="contracts.notifications.state_change")
def notify_state_change(sender, instance: StateChange, created: bool, raw: bool = False, **kwargs) -> None:
    if not created or raw:
        return
    contract = Contract.objects.select_related("client", "freelancer").get(pk=instance.contract_id)
    if instance.subject == "contract":
        _contract_changed(instance, contract)
    elif instance.subject == "milestone":
        _milestone_changed(instance, contract)
    elif instance.subject == "refund request":
        _refund_request_changed(instance, contract)


def _contract_changed(change: StateChange, contract: Contract) -> None:
    parties = _parties(contract)
    title = quoted(contract.title)
    both = (contract.client, contract.freelancer)
    notify = {"contract_id": contract.pk, "kind": NotificationKind.CONTRACT, "at": change.created_at}
    if change.transition == "elapse_notice":
        _notify(both, message=f"The notice period is over: the contract {title} has ended.", **notify)
        return
    if change.transition == "force_end":
        reason = change.reason.strip().rstrip(".")
        message = f"The platform ended the contract {title}" + (f": {reason}." if reason else ".")
        _notify(both, message=message, **notify)
        return
    template = CONTRACT_BY_PARTY.get(change.transition)
    if template is None:
        return
    if change.transition == "end" and change.source == "ending":
        template = END_DURING_NOTICE
    if change.transition in MESSAGE_TO_THE_OTHER_PARTY and change.reason:
        template += f" Their message: {quoted(change.reason)}.".replace("{", "{{").replace("}", "}}")
    if change.actor_id not in parties:
        # Taken by the platform on a party's behalf (an admin): both parties are told.
        message = template.format(
            actor="The platform",
            title=title,
            effective=(change.created_at + timedelta(days=contract.notice_days)).astimezone(UTC),
            expiry_days=settings.END_PROPOSAL_EXPIRY_DAYS,
        )
        _notify(both, message=message, **notify)
        _email_deadline(change, contract, recipients=both, actor_name="The platform")
        return
    actor = parties[change.actor_id]
    other = contract.freelancer if actor.pk == contract.client_id else contract.client
    # The contract row is saved after its log row, so the effective time of notice
    # is computed here the way the transition computes it.
    message = template.format(
        actor=display_name(actor),
        title=title,
        effective=(change.created_at + timedelta(days=contract.notice_days)).astimezone(UTC),
        expiry_days=settings.END_PROPOSAL_EXPIRY_DAYS,
    )
    _notify([other], message=message, **notify)
    _email_deadline(change, contract, recipients=[other], actor_name=display_name(actor))


def _email_deadline(change: StateChange, contract: Contract, *, recipients, actor_name: str) -> None:
    """Notice and a proposal to end set a deadline the other party acts on: they are
    e-mailed too, once per event."""
    from .services import deadline_mail  # not at the top: contracts.services imports this module

    if change.transition == "give_notice":
        effective_at = change.created_at + timedelta(days=contract.notice_days)
        for user in recipients:
            deadline_mail.email_notice_given(
                contract=contract,
                recipient=user,
                actor_name=actor_name,
                key=f"email:notice-given:{change.pk}:{user.pk}",
                effective_at=effective_at,
            )
    elif change.transition == "propose_end":
        expires_at = change.created_at + timedelta(days=settings.END_PROPOSAL_EXPIRY_DAYS)
        for user in recipients:
            deadline_mail.email_end_proposed(
                contract=contract,
                recipient=user,
                actor_name=actor_name,
                key=f"email:end-proposed:{change.pk}:{user.pk}",
                expires_at=expires_at,
            )


def _milestone_changed(change: StateChange, contract: Contract) -> None:
    if change.transition not in ("fund", "submit"):
        # Payments are announced when the payment row is written, with the amount
        # paid (a release may be partial); a refund request when its row is written
        # (the amount is known only then); escrow returned or milestones cancelled at
        # the end of a contract are part of the contract's own notification.
        return
    milestone = Milestone.objects.only("title", "amount_cents").get(pk=change.subject_id)
    actor = _parties(contract).get(change.actor_id)
    who = display_name(actor) if actor else "The platform"
    what = f"the milestone {quoted(milestone.title)} on {quoted(contract.title)}"
    if change.transition == "fund":
        recipient = contract.freelancer
        message = f"{who} funded {what}: {format_cents(milestone.amount_cents)} is in escrow."
    else:
        recipient = contract.client
        message = (
            f"{who} submitted work for {what}; review it within {settings.MILESTONE_AUTO_RELEASE_DAYS} days "
            "or the payment is released automatically."
        )
    _notify(
        [recipient],
        contract_id=contract.pk,
        kind=NotificationKind.MILESTONE,
        message=message,
        at=change.created_at,
        link=reverse("contract_detail", args=[contract.pk]) + f"#milestone-{milestone.pk}",
    )
    if change.transition == "submit":
        from .services.deadline_mail import email_work_submitted  # contracts.services imports this module

        email_work_submitted(
            milestone=milestone,
            contract=contract,
            key=f"email:work-submitted:{change.pk}",
            deadline=change.created_at + timedelta(days=settings.MILESTONE_AUTO_RELEASE_DAYS),
        )


def _refund_request_changed(change: StateChange, contract: Contract) -> None:
    request = EscrowRefundRequest.objects.select_related("milestone").get(pk=change.subject_id)
    amount = format_cents(request.amount_cents)
    what = f"{amount} on the milestone {quoted(request.milestone.title)} of {quoted(contract.title)}"
    freelancer = display_name(contract.freelancer)
    days = settings.REFUND_REQUEST_RESPONSE_DAYS
    notify = {"contract_id": contract.pk, "kind": NotificationKind.REFUND_REQUEST, "at": change.created_at}
    if change.transition == "approve":
        message = f"{freelancer} approved your refund request of {what}; the escrow goes back to you."
        _notify([contract.client], message=message, **notify)
    elif change.transition == "dispute":
        message = f"{freelancer} disputed your refund request of {what}; an admin will decide how to split it."
        _notify([contract.client], message=message, **notify)
    elif change.transition == "approve_unanswered":
        _notify(
            [contract.client],
            message=f"Your refund request of {what} was approved automatically: "
            f"{freelancer} did not answer within {days} days. The escrow goes back to you.",
            **notify,
        )
        _notify(
            [contract.freelancer],
            message=f"The refund request of {what} was approved automatically: "
            f"it was not answered within {days} days. The escrow goes back to the client.",
            **notify,
        )
    elif change.target == "resolved":
        message = f"The platform decided the disputed refund request of {what}; see the contract for the split."
        _notify([contract.client, contract.freelancer], message=message, **notify)


@receiver(post_save, sender=EscrowRefundRequest, dispatch_uid="contracts.notifications.refund_request")
def notify_refund_requested(sender, instance: EscrowRefundRequest, created: bool, raw: bool = False, **kwargs) -> None:
    """The milestone's ``request_refund`` transition is logged before the request
    row (and so its amount) exists; the freelancer is told when the row is written."""
    if not created or raw:
        return
    contract = Contract.objects.select_related("client", "freelancer").get(pk=instance.contract_id)
    milestone = Milestone.objects.only("title").get(pk=instance.milestone_id)
    message = (
        f"{display_name(contract.client)} asks for {format_cents(instance.amount_cents)} back on the milestone "
        f"{quoted(milestone.title)} of {quoted(contract.title)}; approve or dispute within "
        f"{settings.REFUND_REQUEST_RESPONSE_DAYS} days, or it is approved automatically."
    )
    _notify(
        [contract.freelancer],
        contract_id=contract.pk,
        kind=NotificationKind.REFUND_REQUEST,
        message=message,
        at=instance.created_at,
        link=reverse("contract_detail", args=[contract.pk]) + "#refund-requests",
    )
    from .services.deadline_mail import email_refund_requested  # contracts.services imports this module

    email_refund_requested(request=instance, contract=contract, milestone=milestone)


@receiver(post_save, sender=Payment, dispatch_uid="contracts.notifications.milestone_payment")
def notify_milestone_payment(sender, instance: Payment, created: bool, raw: bool = False, **kwargs) -> None:
    """Escrow paid out to the freelancer, in full or in part, by the client's release
    or as the client's choice when ending the contract."""
    if not created or raw or instance.source != PaymentSource.MILESTONE_RELEASE:
        return
    contract = Contract.objects.select_related("client", "freelancer").get(pk=instance.contract_id)
    milestone = Milestone.objects.only("title").get(pk=instance.milestone_id)
    message = (
        f"{display_name(contract.client)} released {format_cents(instance.amount_cents)} for the milestone "
        f"{quoted(milestone.title)} on {quoted(contract.title)}."
    )
    _notify(
        [contract.freelancer],
        contract_id=contract.pk,
        kind=NotificationKind.MILESTONE,
        message=message,
        at=instance.paid_at,
    )


@receiver(post_save, sender=Refund, dispatch_uid="contracts.notifications.refund")
def notify_refund(sender, instance: Refund, created: bool, raw: bool = False, **kwargs) -> None:
    """A freelancer refunded (part of) a payment: the client is told, in the portal
    and by e-mail, with the freelancer's reason, which the refund form says is shown
    to the client."""
    if not created or raw:
        return
    payment = instance.payment  # loaded with its contract and parties by refund_create
    message = (
        f"{display_name(payment.freelancer)} refunded {format_cents(instance.amount_cents)} of payment "
        f"#{payment.pk} on {quoted(payment.contract.title)}."
    )
    if instance.reason:
        message += f" Their reason: {quoted(instance.reason)}."
    _notify(
        [payment.client],
        contract_id=payment.contract_id,
        kind=NotificationKind.REFUND,
        message=message,
        at=instance.created_at,
        link=reverse("contract_detail", args=[payment.contract_id]) + "#payments",
    )
    from .services.refund_mail import email_refund_made  # contracts.services imports this module

    email_refund_made(refund=instance)

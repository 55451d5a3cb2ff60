from django.db import connection
from django.dispatch import receiver
from django_fsm.signals import post_transition

from .models import Contract, EscrowRefundRequest, Milestone, StateChange

SUBJECTS = {Contract: "contract", Milestone: "milestone", EscrowRefundRequest: "refund request"}


@receiver(post_transition)
def record_state_change(sender, instance, name, source, target, method_kwargs, **kwargs) -> None:
    """Write the transition log row for every transition of the portal's state machines.

    It runs before the caller saves the new state, so it insists on an open
    transaction: a failed save then rolls the log row back with it.
    """
    subject = SUBJECTS.get(sender)
    if subject is None:
        return
    if not connection.in_atomic_block:
        raise RuntimeError("State transitions must run inside transaction.atomic(); use the services.")
    contract_id = instance.pk if sender is Contract else instance.contract_id
    at = method_kwargs.get("at")
    StateChange.objects.create(
        contract_id=contract_id,
        subject=subject,
        subject_id=instance.pk,
        transition=name,
        source=source,
        target=target if target is not None else source,
        actor=method_kwargs.get("by"),
        reason=str(method_kwargs.get("reason") or ""),
        **({"created_at": at} if at is not None else {}),
    )

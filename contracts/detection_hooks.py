"""Where the detectors listen: in the transaction of each event."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from billing.models import Refund

from .detection import raise_flags
from .events import contract_ended
from .models import Contract, EndKind, EscrowRefundRequest, Feedback, StateChange


def contract_end_event(contract_id: int) -> str:
    """What a contract's end writes (the end note, the message of its refund requests)
    is one event: the detectors raise one flag per rule and person for all of it."""
    return f"contract-end:{contract_id}"


# Transitions whose reason is free text a person wrote (not a reason code).
TEXT_TRANSITIONS = {
    "submit": "A milestone note",
    "dispute": "A dispute statement",
    "propose_end": "A proposal note",
    "decline_end": "A message declining a proposed end",
}


@receiver(contract_ended, sender=Contract, dispatch_uid="contracts.detection.contract_ended")
def detect_on_end(sender, contract: Contract, plan, **kwargs) -> None:
    raise_flags("contract_ended", contract=contract, plan=plan)
    if contract.end_reason_note and contract.ended_by is not None and contract.end_kind != EndKind.FORCED:
        raise_flags(
            "text_written",
            text=contract.end_reason_note,
            author=contract.ended_by,
            contract=contract,
            source="The reason given for ending",
            source_key=contract_end_event(contract.pk),
        )


@receiver(post_save, sender=StateChange, dispatch_uid="contracts.detection.state_change")
def detect_in_transition_text(sender, instance: StateChange, created: bool, raw: bool = False, **kwargs) -> None:
    if not created or raw or instance.transition not in TEXT_TRANSITIONS or not instance.reason:
        return
    raise_flags(
        "text_written",
        text=instance.reason,
        author=instance.actor,
        contract=Contract.objects.get(pk=instance.contract_id),
        source=TEXT_TRANSITIONS[instance.transition],
        source_key=f"state-change:{instance.pk}",
    )


@receiver(post_save, sender=Feedback, dispatch_uid="contracts.detection.feedback")
def detect_in_feedback(sender, instance: Feedback, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw and instance.public_comment:
        raise_flags(
            "text_written",
            text=instance.public_comment,
            author=instance.author,
            contract=instance.contract,
            source="A feedback comment",
            source_key=f"feedback:{instance.pk}",
        )


@receiver(post_save, sender=EscrowRefundRequest, dispatch_uid="contracts.detection.refund_request")
def detect_in_refund_request(sender, instance: EscrowRefundRequest, created: bool, raw: bool = False, **kwargs):
    if created and not raw and instance.client_statement:
        raise_flags(
            "text_written",
            text=instance.client_statement,
            author=instance.contract.client,
            contract=instance.contract,
            source="A refund request message",
            # Refund requests are made by the contract's end, one per milestone, all
            # with the same message: one event, one flag.
            source_key=contract_end_event(instance.contract_id),
        )


@receiver(post_save, sender=Refund, dispatch_uid="contracts.detection.refund")
def detect_on_refund(sender, instance: Refund, created: bool, raw: bool = False, **kwargs) -> None:
    if not created or raw:
        return
    raise_flags("refund_created", refund=instance)
    if instance.reason:
        raise_flags(
            "text_written",
            text=instance.reason,
            author=instance.created_by,
            contract=instance.payment.contract,
            source="A refund reason",
            source_key=f"refund:{instance.pk}",
        )

from contracts_portal.errors import DomainError

from ..models import Contract, EscrowRefundRequest, Milestone


def lock_contract(contract_id: int) -> Contract:
    """The contract row, locked for the rest of the transaction. Every service that
    changes a contract or anything under it takes this lock first, so concurrent
    actions on one contract run one after the other and see each other's result."""
    try:
        return (
            Contract.objects.select_for_update(of=("self",)).select_related("client", "freelancer").get(pk=contract_id)
        )
    except Contract.DoesNotExist:
        raise DomainError("This contract does not exist.") from None


def lock_milestone(milestone_id: int) -> Milestone:
    contract_id = Milestone.objects.filter(pk=milestone_id).values_list("contract_id", flat=True).first()
    if contract_id is None:
        raise DomainError("This milestone does not exist.")
    contract = lock_contract(contract_id)
    milestone = Milestone.objects.select_for_update().get(pk=milestone_id)
    milestone.contract = contract
    return milestone


def lock_refund_request(request_id: int) -> EscrowRefundRequest:
    milestone_id = EscrowRefundRequest.objects.filter(pk=request_id).values_list("milestone_id", flat=True).first()
    if milestone_id is None:
        raise DomainError("This refund request does not exist.")
    milestone = lock_milestone(milestone_id)
    request = EscrowRefundRequest.objects.select_for_update().get(pk=request_id)
    request.contract = milestone.contract
    request.milestone = milestone
    return request

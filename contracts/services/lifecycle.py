from django.db import transaction
from django.utils import timezone

from ..models import Contract, JobKind
from .ending import reason_code
from .jobs import job_handler
from .locking import lock_contract
from .transitions import take


def contract_pause(*, contract: Contract, by, reason: str = "") -> Contract:
    with transaction.atomic():
        contract = lock_contract(contract.pk)
        take(contract, "pause", by=by, at=timezone.now(), reason=reason)
    return contract


def contract_resume(*, contract: Contract, by, reason: str = "") -> Contract:
    with transaction.atomic():
        contract = lock_contract(contract.pk)
        take(contract, "resume", by=by, at=timezone.now(), reason=reason)
    return contract


def contract_give_notice(*, contract: Contract, by, reason: str, note: str = "") -> Contract:
    """Start the contract's notice period; it ends when the period is over, and the
    ending rules (billing, escrow) apply then, as if the giver had ended it."""
    reason = reason_code(reason)
    with transaction.atomic():
        contract = lock_contract(contract.pk)
        take(contract, "give_notice", by=by, at=timezone.now(), reason=reason, note=note)
    return contract


def contract_withdraw_notice(*, contract: Contract, by) -> Contract:
    with transaction.atomic():
        contract = lock_contract(contract.pk)
        take(contract, "withdraw_notice", by=by, at=timezone.now(), reason="Notice withdrawn")
    return contract


def contract_propose_end(*, contract: Contract, by, note: str = "") -> Contract:
    """Propose a mutual, no-fault end; the other party has ``END_PROPOSAL_EXPIRY_DAYS`` to
    accept it."""
    with transaction.atomic():
        contract = lock_contract(contract.pk)
        take(contract, "propose_end", by=by, at=timezone.now(), reason=note)
    return contract


def contract_withdraw_end_proposal(*, contract: Contract, by) -> Contract:
    """The proposer takes back an open proposal to end; the contract goes on as before."""
    with transaction.atomic():
        contract = lock_contract(contract.pk)
        take(contract, "withdraw_end_proposal", by=by, at=timezone.now(), reason="Proposal withdrawn")
    return contract


def contract_decline_end(*, contract: Contract, by, message: str = "") -> Contract:
    """The other party declines an open proposal to end, with an optional message to
    the proposer; the contract goes on as before."""
    with transaction.atomic():
        contract = lock_contract(contract.pk)
        take(contract, "decline_end", by=by, at=timezone.now(), reason=message.strip())
    return contract


def contract_expire_end_proposal(*, contract_id: int) -> Contract:
    """Clear a proposal to end that was not accepted within ``END_PROPOSAL_EXPIRY_DAYS``
    (deadline sweep)."""
    with transaction.atomic():
        contract = lock_contract(contract_id)
        take(
            contract, "expire_end_proposal", by=None, at=timezone.now(), as_platform=True, reason="Not accepted in time"
        )
    return contract


@job_handler(JobKind.END_PROPOSAL_EXPIRY)
def _end_proposal_expiry(job) -> str:
    contract_expire_end_proposal(contract_id=job.contract_id)
    return "proposal expired"

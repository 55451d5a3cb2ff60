from .contract import OPEN_STATES, Contract, ContractKind, ContractState, EndKind, EndReason
from .diary import DiaryEntry, week_edit_deadline, week_start
from .milestone import HELD_IN_ESCROW, Milestone, MilestoneState
from .refund_request import EscrowRefundRequest, RefundRequestState
from .state_change import StateChange

__all__ = [
    "HELD_IN_ESCROW",
    "OPEN_STATES",
    "Contract",
    "ContractKind",
    "ContractState",
    "DiaryEntry",
    "EndKind",
    "EndReason",
    "EscrowRefundRequest",
    "Milestone",
    "MilestoneState",
    "RefundRequestState",
    "StateChange",
    "week_edit_deadline",
    "week_start",
]

from .contract import OPEN_STATES, Contract, ContractKind, ContractState, EndKind, EndReason
from .diary import DiaryEntry, week_edit_deadline, week_start
from .milestone import HELD_IN_ESCROW, Milestone, MilestoneState
from .notification import Notification, NotificationKind
from .refund_request import EscrowRefundRequest, RefundRequestState
from .state_change import StateChange
from .suspension import AccountSuspension

__all__ = [
    "HELD_IN_ESCROW",
    "OPEN_STATES",
    "AccountSuspension",
    "Contract",
    "ContractKind",
    "ContractState",
    "DiaryEntry",
    "EndKind",
    "EndReason",
    "EscrowRefundRequest",
    "Milestone",
    "MilestoneState",
    "Notification",
    "NotificationKind",
    "RefundRequestState",
    "StateChange",
    "week_edit_deadline",
    "week_start",
]

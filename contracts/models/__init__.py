from .checklist import CLIENT_CHECKLIST, FREELANCER_CHECKLIST, ChecklistItem
from .contract import OPEN_STATES, Contract, ContractKind, ContractState, EndKind, EndReason
from .diary import DiaryEntry, week_edit_deadline, week_start
from .feedback import CLIENT_RATES_FREELANCER, FREELANCER_RATES_CLIENT, Feedback, FeedbackResponse
from .flags import (
    REVIEWER_DECISIONS,
    Flag,
    FlagDecision,
    FlagDecisionKind,
    FlagRule,
    is_reviewer,
    rule_public_explanation,
)
from .milestone import HELD_IN_ESCROW, Milestone, MilestoneState
from .notification import Notification, NotificationKind
from .refund_request import EscrowRefundRequest, RefundRequestState
from .scheduling import EmailState, JobKind, JobState, OutgoingEmail, ScheduledJob
from .state_change import StateChange
from .suspension import AccountSuspension
from .terms import (
    RECORDED_CHANGES,
    RateChange,
    RateChangeProposal,
    RateChangeState,
    TermSchedule,
    WeeklyLimitChange,
    hourly_rates,
    next_billing_week,
    weekly_limits,
)

__all__ = [
    "HELD_IN_ESCROW",
    "OPEN_STATES",
    "CLIENT_CHECKLIST",
    "CLIENT_RATES_FREELANCER",
    "FREELANCER_RATES_CLIENT",
    "Feedback",
    "Flag",
    "REVIEWER_DECISIONS",
    "is_reviewer",
    "rule_public_explanation",
    "FlagDecision",
    "FlagDecisionKind",
    "FlagRule",
    "FeedbackResponse",
    "FREELANCER_CHECKLIST",
    "AccountSuspension",
    "ChecklistItem",
    "EmailState",
    "JobKind",
    "JobState",
    "OutgoingEmail",
    "ScheduledJob",
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
    "RECORDED_CHANGES",
    "RateChange",
    "RateChangeProposal",
    "RateChangeState",
    "TermSchedule",
    "WeeklyLimitChange",
    "hourly_rates",
    "next_billing_week",
    "weekly_limits",
    "week_edit_deadline",
    "week_start",
]

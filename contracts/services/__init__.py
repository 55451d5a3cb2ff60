"""Everything that changes a contract goes through these functions: keyword-only
arguments, one ``transaction.atomic``, the contract row locked first (then its
milestones), and a ``DomainError`` with a readable message for a refused action."""

from .checklist import checklist_item_tick
from .creation import contract_create, milestone_add
from .diary import diary_entry_add, diary_entry_change_refusal, diary_entry_delete, diary_entry_edit
from .ending import (
    EndPlan,
    MilestoneChoice,
    MilestoneDecision,
    contract_accept_end,
    contract_elapse_notice,
    contract_end,
    contract_end_preview,
    contract_force_end,
)
from .feedback import feedback_respond, feedback_reveal_pending, feedback_submit
from .lifecycle import (
    contract_decline_end,
    contract_expire_end_proposal,
    contract_give_notice,
    contract_pause,
    contract_propose_end,
    contract_resume,
    contract_withdraw_end_proposal,
    contract_withdraw_notice,
)
from .milestones import milestone_fund, milestone_release, milestone_release_unreviewed, milestone_submit
from .refund_requests import refund_request_approve, refund_request_approve_unanswered, refund_request_dispute
from .review import account_suspend, flag_decide, is_reviewer, refund_request_resolve
from .terms import (
    contract_weekly_limit_change,
    rate_change_accept,
    rate_change_decline,
    rate_change_expire,
    rate_change_propose,
    rate_change_withdraw,
)
from .weekly_invoicing import contract_invoice_week

__all__ = [
    "account_suspend",
    "flag_decide",
    "is_reviewer",
    "refund_request_resolve",
    "checklist_item_tick",
    "EndPlan",
    "MilestoneChoice",
    "MilestoneDecision",
    "contract_accept_end",
    "contract_create",
    "contract_decline_end",
    "contract_withdraw_end_proposal",
    "contract_elapse_notice",
    "contract_end",
    "contract_end_preview",
    "contract_expire_end_proposal",
    "contract_force_end",
    "contract_give_notice",
    "contract_pause",
    "contract_propose_end",
    "contract_resume",
    "contract_withdraw_notice",
    "diary_entry_add",
    "feedback_respond",
    "feedback_reveal_pending",
    "feedback_submit",
    "diary_entry_change_refusal",
    "diary_entry_delete",
    "diary_entry_edit",
    "milestone_add",
    "milestone_fund",
    "milestone_release",
    "milestone_release_unreviewed",
    "milestone_submit",
    "refund_request_approve",
    "refund_request_approve_unanswered",
    "refund_request_dispute",
    "contract_invoice_week",
    "contract_weekly_limit_change",
    "rate_change_accept",
    "rate_change_decline",
    "rate_change_expire",
    "rate_change_propose",
    "rate_change_withdraw",
]

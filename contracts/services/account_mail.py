"""E-mails about a person's account that a reviewer decided: a warning, and the
closure of the account. Written in the transaction of the decision, once per
decision (a unique key), to the person concerned, in their time zone.

They show what the person may read: the rule, its public explanation and the
reviewer's message to them; never the reviewer's internal note.
"""

from ..models import AccountSuspension, FlagDecision, rule_public_explanation
from .deadline_mail import contract_url, fit_subject
from .mail import queue_email


def email_warning(*, decision: FlagDecision, message_to_user: str = "") -> None:
    """A reviewer warned the subject of a flag: the rule and what it means, the
    reviewer's ``message_to_user`` if any, and a link to the contract it is about."""
    flag = decision.flag
    contract = flag.contract
    queue_email(
        key=f"email:warning:{decision.pk}",
        user=flag.subject,
        subject=fit_subject(f"A warning about your account: {flag.get_rule_display()}"),
        template="account_warning",
        context={
            "rule": flag.get_rule_display(),
            "explanation": rule_public_explanation(flag.rule),
            "message_to_user": message_to_user.strip(),
            "decided_at": decision.created_at,
            "contract": contract,
            "contract_url": contract_url(contract) if contract else "",
        },
    )


def email_account_closed(*, suspension: AccountSuspension) -> None:
    """The account was closed for good: the rule, its public explanation, the
    reviewer's message to the person if any, and what closing did."""
    queue_email(
        key=f"email:account-closed:{suspension.pk}",
        user=suspension.user,
        subject="Your Contracts portal account is closed",
        template="account_closed",
        context={
            "rule": suspension.rule.strip().rstrip("."),
            "explanation": suspension.explanation.strip(),
            "message_to_user": suspension.message_to_user.strip(),
            "closed_at": suspension.created_at,
        },
    )

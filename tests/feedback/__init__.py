"""Feedback and reputation (DESIGN.md, "Feedback"): shared set-up helpers.

Contracts are paid and ended through the services, so every row the feedback
rules read (payments, refunds, end kind, ended_at) is what the portal makes.
"""

import uuid
from contextlib import contextmanager

import time_machine
from django.test import TestCase

from billing.services.refunds import refund_create
from contracts import services
from contracts.tasks import sweep_scheduled_work
from tests.factories import FixedContractFactory, MilestoneFactory, UserFactory

CLIENT_SCORES = {"skills": 5, "quality": 5, "availability": 5, "deadlines": 5, "communication": 5, "cooperation": 4}
FREELANCER_SCORES = {"clarity": 5, "communication": 4, "payment_promptness": 4, "availability": 4, "cooperation": 4}

CLIENT_COMMENT = "Zanzibar-7 delivered the parser ahead of schedule"
FREELANCER_COMMENT = "Quokka-3 wrote crisp requirements and paid at once"


def pay(contract, amount_cents: int, *, refund_cents: int = 0):
    """Fund and release a milestone of ``amount_cents``; the freelancer then refunds
    ``refund_cents`` of the payment. Returns the payment."""
    milestone = MilestoneFactory(contract=contract, amount_cents=amount_cents)
    services.milestone_fund(milestone=milestone, by=contract.client)
    payment = services.milestone_release(milestone=milestone, by=contract.client)
    if refund_cents:
        refund_create(
            payment=payment, by=contract.freelancer, amount_cents=refund_cents, idempotency_key=uuid.uuid4().hex
        )
    return payment


def ended_contract(*, paid_cents: int = 100_00, refund_cents: int = 0, mutual: bool = False, **factory_kwargs):
    """A fixed-price contract paid ``paid_cents`` (less ``refund_cents``), then ended
    by the client, or by mutual agreement (freelancer proposes, client accepts)."""
    contract = FixedContractFactory(**factory_kwargs)
    if paid_cents:
        pay(contract, paid_cents, refund_cents=refund_cents)
    if mutual:
        services.contract_propose_end(contract=contract, by=contract.freelancer)
        services.contract_accept_end(contract=contract, by=contract.client, reason="completed")
    else:
        services.contract_end(contract=contract, by=contract.client, reason="completed")
    contract.refresh_from_db()
    return contract


def client_feedback(contract, **overrides):
    kwargs = {
        "scores": CLIENT_SCORES,
        "public_comment": CLIENT_COMMENT,
        "private_reason": "not_responsive",
        "private_recommend": 3,
    }
    kwargs.update(overrides)
    return services.feedback_submit(contract=contract, by=contract.client, **kwargs)


def freelancer_feedback(contract, **overrides):
    kwargs = {
        "scores": FREELANCER_SCORES,
        "public_comment": FREELANCER_COMMENT,
        "private_reason": "completed",
        "private_recommend": 10,
    }
    kwargs.update(overrides)
    return services.feedback_submit(contract=contract, by=contract.freelancer, **kwargs)


def all_scores(criteria_scores: dict, value: int) -> dict:
    return dict.fromkeys(criteria_scores, value)


def person(username: str, **kwargs):
    return UserFactory(username=username, **kwargs)


@contextmanager
def stopped_at(instant):
    """The clock stopped at ``instant``; work queued on commit (tasks, e-mails, jobs
    due at once) runs when the block exits, as it would after a real commit."""
    with time_machine.travel(instant, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        yield


def sweep(instant) -> int:
    """The beat sweep at ``instant``: returns how many due jobs it handed out."""
    with stopped_at(instant):
        return sweep_scheduled_work.delay().get()

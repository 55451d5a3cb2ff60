"""A property-based model of the service layer (Hypothesis ``RuleBasedStateMachine``).

Random sequences of: creating hourly and fixed-price contracts, recording, editing and
deleting time, proposing new rates (accepted, declined or left to lapse) and changing
weekly limits, funding, submitting and releasing milestones, ending by either party
(with notice where the terms set one), proposing and accepting a mutual end,
withdrawing notice, answering refund requests, refunds at random ages (179, 180 and
181 days among them), feedback, and time passing with the deadline sweep (and the
Monday invoicing of hourly weeks). After every step the rules of ``invariants`` hold,
and the model's own expectations: the diary of an ended contract never changes, a
refund goes through exactly when it is inside the 180 days and what is left of the
payment, feedback is accepted exactly in its window and once, blind feedback stays
hidden from the other party, ending an ended contract is refused and changes nothing.

Each example runs in a savepoint of the test's transaction, rolled back after it, so
examples start from an empty portal. Hypothesis shrinks a failure to a minimal
sequence of steps. CI runs the ``ci`` profile; ``STRESS=long`` the ``long`` one.
"""

import sys
from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from billing.models import Payment, Refund
from billing.services.refunds import refund_create
from contracts import services
from contracts.models import (
    Contract,
    ContractKind,
    ContractState,
    DiaryEntry,
    EscrowRefundRequest,
    Feedback,
    Milestone,
    week_start,
)
from contracts.reputation import contract_feedback
from contracts.services import MilestoneChoice, MilestoneDecision
from contracts.services.feedback import criteria_for
from contracts.services.jobs import job_execute, jobs_claim_due
from contracts.services.scheduling import schedule_weekly_invoices
from contracts_portal.errors import DomainError
from tests.factories import UserFactory
from tests.reliability import invariants
from tests.reliability.report import long_run, write_component

settings.register_profile(
    "reliability-ci",
    max_examples=15,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile(
    "reliability-long",
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday morning
AGES = st.one_of(st.sampled_from([0, 1, 30, 179, 180, 181]), st.integers(min_value=0, max_value=400))
STATS: Counter = Counter()


def _pick(items: list, index: int):
    return items[index % len(items)] if items else None


class PortalModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.savepoint = transaction.savepoint()
        self.clock = START
        self.refunded: dict[int, int] = {}
        self.refund_keys: dict[str, tuple[int, int, int]] = {}  # key -> (payment, amount, refund id)
        self.feedback_left: set[tuple[int, int]] = set()
        self.diary_at_end: dict[int, list[tuple]] = {}
        STATS["examples"] += 1

    @initialize(hourly_notice=st.sampled_from([0, 2]), fixed_notice=st.sampled_from([0, 2]))
    def people_and_two_contracts(self, hourly_notice, fixed_notice) -> None:
        """Two people on each side; an hourly contract, and a fixed-price one with a
        milestone paid, one in escrow and one not funded yet."""
        with self.now():
            self.clients = [UserFactory(username=f"model-client-{n}") for n in range(2)]
            self.freelancers = [UserFactory(username=f"model-freelancer-{n}") for n in range(2)]
            services.contract_create(
                client=self.clients[0],
                freelancer=self.freelancers[0],
                kind=ContractKind.HOURLY,
                title="Hourly",
                hourly_rate_cents=5000,
                weekly_hour_limit=40,
                notice_days=hourly_notice,
            )
            fixed = services.contract_create(
                client=self.clients[1],
                freelancer=self.freelancers[0],
                kind=ContractKind.FIXED,
                title="Fixed",
                notice_days=fixed_notice,
                milestones=[("Design", 10_000), ("Build", 25_000), ("Launch", 500)],
            )
            design, build, _ = fixed.milestones.order_by("position")
            for milestone in (design, build):
                services.milestone_fund(milestone=milestone, by=fixed.client)
            services.milestone_release(milestone=design, by=fixed.client)

    def teardown(self) -> None:
        """Every rule once more on the final records (the checks run after each step
        are the cheaper half), then the example's records are rolled back. After a
        failed step only the rollback: the failure is the step's own."""
        try:
            if sys.exc_info()[0] is not None:
                return
            with self.now():
                violations = invariants.all_violations(now=self.clock)
            STATS["invariant checks"] += len(violations)
            assert {name: found for name, found in violations.items() if found} == {}
        finally:
            transaction.savepoint_rollback(self.savepoint)

    def now(self):
        return time_machine.travel(self.clock, tick=False)

    def step(self, name: str) -> None:
        STATS["steps"] += 1
        STATS[f"rule {name}"] += 1

    def contracts(self) -> list[Contract]:
        return list(Contract.objects.select_related("client", "freelancer").order_by("id"))

    def party(self, contract: Contract, client: bool):
        return contract.client if client else contract.freelancer

    # Contracts.

    @rule(
        hourly=st.booleans(),
        notice_days=st.sampled_from([0, 0, 2]),
        amounts=st.lists(st.sampled_from([500, 1000, 2500, 10_000, 33_333]), min_size=1, max_size=3),
        rate=st.sampled_from([1000, 5000, 7777]),
        pair=st.integers(0, 3),
    )
    def create_contract(self, hourly, notice_days, amounts, rate, pair):
        self.step("create contract")
        with self.now():
            services.contract_create(
                client=self.clients[pair % 2],
                freelancer=self.freelancers[pair // 2],
                kind=ContractKind.HOURLY if hourly else ContractKind.FIXED,
                title="Model contract",
                hourly_rate_cents=rate if hourly else None,
                weekly_hour_limit=40 if hourly else None,
                notice_days=notice_days,
                milestones=() if hourly else [(f"Part {n}", amount) for n, amount in enumerate(amounts, 1)],
            )

    # The work diary.

    @precondition(lambda self: Contract.objects.filter(kind=ContractKind.HOURLY).exists())
    @rule(index=st.integers(0, 20), minutes=st.integers(1, 600), days_back=st.integers(0, 8))
    def record_time(self, index, minutes, days_back):
        self.step("record time")
        contract = _pick([c for c in self.contracts() if c.is_hourly], index)
        with self.now():
            try:
                services.diary_entry_add(
                    contract=contract,
                    by=contract.freelancer,
                    work_date=(self.clock - timedelta(days=days_back)).date(),
                    minutes=minutes,
                    memo="Work",
                )
            except DomainError:
                return
        assert contract.state != ContractState.ENDED, "time was recorded in the diary of an ended contract"

    @precondition(lambda self: DiaryEntry.objects.exists())
    @rule(index=st.integers(0, 50), minutes=st.integers(1, 300), delete=st.booleans())
    def edit_time(self, index, minutes, delete):
        self.step("edit or delete time")
        entry = _pick(list(DiaryEntry.objects.select_related("contract__freelancer").order_by("id")), index)
        contract = entry.contract
        with self.now():
            try:
                if delete:
                    services.diary_entry_delete(entry=entry, by=contract.freelancer)
                else:
                    services.diary_entry_edit(
                        entry=entry, by=contract.freelancer, work_date=entry.work_date, minutes=minutes, memo="Edited"
                    )
            except DomainError:
                return
        assert contract.state != ContractState.ENDED, "the diary of an ended contract was changed"

    # Terms during the contract: a new rate proposed and answered, a weekly limit.

    @precondition(lambda self: Contract.objects.filter(kind=ContractKind.HOURLY).exists())
    @rule(
        index=st.integers(0, 20),
        client=st.booleans(),
        change=st.sampled_from(["rate accepted", "rate declined", "rate left to lapse", "weekly limit"]),
        amount=st.sampled_from([1, 5, 40, 2500, 7777]),
    )
    def change_terms(self, index, client, change, amount):
        """A new rate (``amount`` cents) proposed by either party and answered by the
        other, or a weekly limit (``amount`` hours, or none) set by the client."""
        self.step(f"terms: {change}")
        contract = _pick([c for c in self.contracts() if c.is_hourly], index)
        with self.now():
            try:
                if change == "weekly limit":
                    hours = None if amount > 168 else amount
                    services.contract_weekly_limit_change(contract=contract, by=contract.client, hours=hours)
                else:
                    proposal = services.rate_change_propose(
                        contract=contract, by=self.party(contract, client), rate_cents=amount * 100
                    )
                    other = self.party(contract, not client)
                    if change == "rate accepted":
                        services.rate_change_accept(proposal=proposal, by=other)
                    elif change == "rate declined":
                        services.rate_change_decline(proposal=proposal, by=other)
            except DomainError:
                return
        assert contract.state != ContractState.ENDED, "the terms of an ended contract changed"

    # Milestones.

    @precondition(lambda self: Milestone.objects.exists())
    @rule(index=st.integers(0, 50), action=st.sampled_from(["fund", "submit", "release", "release part"]))
    def milestone_action(self, index, action):
        self.step(f"milestone {action}")
        milestone = _pick(list(Milestone.objects.select_related("contract").order_by("id")), index)
        contract = milestone.contract
        with self.now():
            try:
                if action == "fund":
                    services.milestone_fund(milestone=milestone, by=contract.client)
                elif action == "submit":
                    services.milestone_submit(milestone=milestone, by=contract.freelancer, note="Done")
                elif action == "release":
                    services.milestone_release(milestone=milestone, by=contract.client)
                else:
                    services.milestone_release(
                        milestone=milestone,
                        by=contract.client,
                        amount_cents=milestone.amount_cents // 3,
                        idempotency_key=f"part-{STATS['steps']}",
                    )
            except DomainError:
                return

    # Ending.

    @precondition(lambda self: Contract.objects.exists())
    @rule(
        index=st.integers(0, 20),
        client=st.booleans(),
        choices=st.lists(st.sampled_from(list(MilestoneChoice.values)), min_size=3, max_size=3),
    )
    def end(self, index, client, choices):
        self.step("end")
        contract = _pick(self.contracts(), index)
        by = self.party(contract, client)
        was_ended = contract.state == ContractState.ENDED
        with self.now():
            try:
                plan = services.contract_end_preview(contract=contract, by=by)
            except DomainError:
                plan = None
            try:
                if plan is None or plan.transition == "end":
                    decisions = {}
                    for outcome, choice in zip(plan.milestones if plan else (), choices * 3, strict=False):
                        pay = outcome.held_cents // 2 if choice == MilestoneChoice.PAY_PART else 0
                        decisions[outcome.milestone.pk] = MilestoneDecision(choice, pay)
                    services.contract_end(
                        contract=contract, by=by, reason="completed", milestone_decisions=decisions or None
                    )
                elif plan.transition == "give_notice":
                    services.contract_give_notice(contract=contract, by=by, reason="other")
                else:
                    services.contract_accept_end(contract=contract, by=by, reason="completed")
            except DomainError:
                assert plan is None, f"the preview allowed {plan.transition} but the service refused it"
                return
        assert not was_ended, "an ended contract was ended again"

    @precondition(lambda self: Contract.objects.exists())
    @rule(index=st.integers(0, 20), client=st.booleans(), action=st.sampled_from(["propose", "accept", "withdraw"]))
    def mutual_end_or_notice(self, index, client, action):
        self.step({"propose": "propose end", "accept": "accept end", "withdraw": "withdraw notice"}[action])
        contract = _pick(self.contracts(), index)
        by = self.party(contract, client)
        was_ended = contract.state == ContractState.ENDED
        with self.now():
            try:
                if action == "propose":
                    services.contract_propose_end(contract=contract, by=by)
                elif action == "accept":
                    services.contract_accept_end(contract=contract, by=by, reason="completed")
                else:
                    services.contract_withdraw_notice(contract=contract, by=by)
            except DomainError:
                return
        assert not was_ended, f"{action} went through on an ended contract"

    @precondition(lambda self: EscrowRefundRequest.objects.exists())
    @rule(index=st.integers(0, 20), approve=st.booleans())
    def answer_refund_request(self, index, approve):
        self.step("answer refund request")
        request = _pick(list(EscrowRefundRequest.objects.select_related("contract").order_by("id")), index)
        with self.now():
            try:
                if approve:
                    services.refund_request_approve(request=request, by=request.contract.freelancer)
                else:
                    services.refund_request_dispute(request=request, by=request.contract.freelancer, statement="No")
            except DomainError:
                return

    # Refunds.

    @precondition(lambda self: Payment.objects.exists())
    @rule(
        index=st.integers(0, 20),
        age=AGES,
        hours=st.integers(0, 23),
        percent=st.sampled_from([1, 10, 50, 100, 101]),
        replay=st.booleans(),
    )
    def refund(self, index, age, hours, percent, replay):
        """Refund at the payment's given age (time moves forward to it when it is still
        ahead), or with the same form again (the same idempotency key)."""
        self.step("refund")
        payment = _pick(list(Payment.objects.order_by("id")), index)
        if replay and self.refund_keys:
            key, (payment_id, amount, refund_id) = sorted(self.refund_keys.items())[index % len(self.refund_keys)]
            with self.now():
                again = refund_create(
                    payment=Payment.objects.get(pk=payment_id),
                    by=Payment.objects.get(pk=payment_id).freelancer,
                    amount_cents=amount,
                    idempotency_key=key,
                )
            assert again.pk == refund_id, "a repeated refund form made a second refund"
            return
        self.refund_at(payment, age=age, hours=hours, percent=percent)

    @precondition(lambda self: Payment.objects.exists())
    @rule(
        index=st.integers(0, 20),
        age=st.sampled_from([179, 180, 181]),
        hours=st.integers(0, 23),
        percent=st.sampled_from([10, 50, 100]),
    )
    def refund_at_the_window_edge(self, index, age, hours, percent):
        self.step("refund at the window's edge")
        self.refund_at(_pick(list(Payment.objects.order_by("id")), index), age=age, hours=hours, percent=percent)

    def refund_at(self, payment, *, age: int, hours: int, percent: int) -> None:
        target = payment.paid_at + timedelta(days=age, hours=hours)
        if target > self.clock:
            self.clock = target
        amount = max(1, payment.amount_cents * percent // 100)
        age_now = (self.clock - payment.paid_at).days
        left = payment.amount_cents - self.refunded.get(payment.pk, 0)
        in_window = self.clock <= payment.paid_at + timedelta(days=django_settings.REFUND_WINDOW_DAYS)
        allowed = in_window and amount <= left
        key = f"model-{STATS['steps']}"
        boundary = f"{age_now} days" if 179 <= age_now <= 181 else "other ages"
        STATS[f"refunds tried at {boundary}"] += 1
        with self.now():
            try:
                refund = refund_create(payment=payment, by=payment.freelancer, amount_cents=amount, idempotency_key=key)
            except DomainError as error:
                assert not allowed, f"a refund of {amount} cents at {age_now} days ({left} left) was refused: {error}"
                return
        assert allowed, f"a refund of {amount} cents at {age_now} days with {left} cents left went through"
        self.refunded[payment.pk] = self.refunded.get(payment.pk, 0) + amount
        self.refund_keys[key] = (payment.pk, amount, refund.pk)
        STATS[f"refunds made at {boundary}"] += 1

    # Feedback.

    @precondition(lambda self: Contract.objects.exists())
    @rule(index=st.integers(0, 20), client=st.booleans(), score=st.integers(1, 5))
    def feedback(self, index, client, score):
        self.step("feedback")
        contract = _pick(self.contracts(), index)
        by = self.party(contract, client)
        allowed = (
            contract.state == ContractState.ENDED
            and self.clock < contract.ended_at + timedelta(days=django_settings.FEEDBACK_WINDOW_DAYS)
            and (contract.pk, by.pk) not in self.feedback_left
        )
        with self.now():
            try:
                services.feedback_submit(
                    contract=contract,
                    by=by,
                    scores={code: score for code, _ in criteria_for(contract, by)},
                    public_comment="Public words",
                    private_reason="completed",
                    private_recommend=score * 2,
                )
            except DomainError as error:
                assert not allowed, f"feedback in its window was refused: {error}"
                return
        assert allowed, "feedback was accepted outside its window or twice"
        self.feedback_left.add((contract.pk, by.pk))

    # Time passing, with the beat's sweep.

    @rule(days=st.integers(0, 20), hours=st.integers(0, 23), sweep=st.booleans())
    def time_passes(self, days, hours, sweep):
        self.step("time passes")
        before = self.clock
        self.clock += timedelta(days=days, hours=hours)
        if sweep:
            self.sweep(since=before)

    def sweep(self, *, since: datetime) -> None:
        STATS["sweeps"] += 1
        with self.now():
            monday_noon = datetime.combine(
                week_start(self.clock.date()), time(django_settings.HOURLY_WEEK_INVOICE_HOUR_UTC), tzinfo=UTC
            )
            if since < monday_noon <= self.clock:
                schedule_weekly_invoices(monday=week_start(self.clock.date()) - timedelta(days=7), at=self.clock)
            for job_id in jobs_claim_due(limit=10_000, now=self.clock):
                job_execute(job_id=job_id)
                STATS["jobs run"] += 1

    # After every step.

    @invariant()
    def ledger_refunds_and_states_hold(self):
        violations = {
            "ledger balanced, balances match their records": invariants.ledger_violations(),
            "no payment refunded beyond its amount or after 180 days": invariants.refund_violations(),
            "state machines only in reachable states": invariants.transition_violations(),
            "every invoice one billing week at that week's rate": invariants.invoice_violations(),
        }
        STATS["invariant checks"] += len(violations)
        assert {name: found for name, found in violations.items() if found} == {}

    @invariant()
    def refunds_match_the_model(self):
        STATS["invariant checks"] += 1
        for payment_id, cents in self.refunded.items():
            assert sum(Refund.objects.filter(payment_id=payment_id).values_list("amount_cents", flat=True)) == cents

    @invariant()
    def ended_diary_never_changes(self):
        STATS["invariant checks"] += 1
        for contract in Contract.objects.filter(kind=ContractKind.HOURLY, state=ContractState.ENDED):
            diary = list(
                DiaryEntry.objects.filter(contract=contract)
                .order_by("id")
                .values_list("id", "work_date", "minutes", "memo", "invoice_id", "updated_at")
            )
            assert self.diary_at_end.setdefault(contract.pk, diary) == diary, "an ended contract's diary changed"

    @invariant()
    def blind_feedback_stays_hidden(self):
        STATS["invariant checks"] += 1
        window = timedelta(days=django_settings.FEEDBACK_WINDOW_DAYS)
        with self.now():
            for contract in Contract.objects.filter(state=ContractState.ENDED).select_related("client", "freelancer"):
                left = list(Feedback.objects.filter(contract=contract))
                if len(left) != 1:
                    continue
                author = left[0].author_id
                other = contract.freelancer if author == contract.client_id else contract.client
                seen = contract_feedback(contract, other)
                if self.clock < contract.ended_at + window:
                    assert seen.theirs is None and seen.theirs_hidden, "blind feedback is visible before its time"
                else:
                    assert seen.theirs is not None, "feedback stays hidden after the window closed"


def model_settings() -> settings:
    return settings.get_profile("reliability-long" if long_run() else "reliability-ci")


@pytest.mark.django_db
def test_random_sequences_of_service_calls_keep_every_invariant():
    STATS.clear()
    profile = model_settings()
    run_state_machine_as_test(PortalModel, settings=profile)
    rules = sorted((name.removeprefix("rule "), n) for name, n in STATS.items() if name.startswith("rule "))
    write_component(
        "property_model",
        title="Property-based model (Hypothesis stateful)",
        rows=[
            ("variant", "long" if long_run() else "short"),
            ("profile", f"max_examples={profile.max_examples}, stateful_step_count={profile.stateful_step_count}"),
            ("examples run", STATS["examples"]),
            ("steps run", STATS["steps"]),
            ("invariant checks", STATS["invariant checks"]),
            ("deadline sweeps / jobs run", f"{STATS['sweeps']} / {STATS['jobs run']}"),
            *(
                (
                    f"refunds at {age}",
                    f"{STATS[f'refunds tried at {age}']} tried, {STATS[f'refunds made at {age}']} made",
                )
                for age in ("179 days", "180 days", "181 days", "other ages")
            ),
            *rules,
        ],
        notes="Every step is followed by the invariant checks; a failure is shrunk by Hypothesis to a minimal "
        "sequence of steps. A refund at 181 days must be refused (none made); one at 180 days goes through "
        "while something of the payment is left.",
    )
    assert STATS["examples"] >= profile.max_examples // 2

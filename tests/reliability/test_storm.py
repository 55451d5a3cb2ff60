"""The concurrency storm: several processes hammer conflicting actions on a shared set
of contracts through the portal's views while others run the deadline sweep, then
the records are checked.

Contracts are prepared in six shapes (with time travel for the ones whose deadlines
are due): hourly with time recorded; fixed-price with funded, submitted (unreviewed
for 15 days, so auto-release is due) and unfunded milestones; payments 181, 180 and
179 days old and one of today; ended 8 days ago (feedback reminders due); notice
period just over with the other party's proposal to end open (the sweep's end races
the acceptance); client-ended with open refund requests. Actors (processes) meet at a
barrier at each contract and fire bursts of random actions at it (see
``storm_worker``); two sweeper processes run the beat sweep all along. Before the
contracts come offers, fixed-price, some of them expiring in the first seconds of the
storm: accepted while being withdrawn, declined or expired by the sweep.

Afterwards: no request got a server error (refusals are the domain's message), and
every rule of ``invariants`` holds: ledger balanced and balances matching their
records, no payment refunded beyond its amount or after 180 days, every contract
ended at most once and settled once, every reminder and e-mail sent at most once,
every offer answered once (accepted: exactly one contract, its first milestone funded
once).

CI runs a short storm; ``STRESS=long`` (``make stress``) a long one, whose figures go
to docs/reliability.md.
"""

import email
import email.policy
import json
import multiprocessing
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from billing.models import Payment, Refund
from contracts import services
from contracts.models import Contract, ContractState, JobKind, JobState, ScheduledJob
from contracts.services import MilestoneChoice, MilestoneDecision
from offers.models import Offer
from tests.factories import (
    DiaryEntryFactory,
    FixedContractFactory,
    HourlyContractFactory,
    MilestoneFactory,
    UserFactory,
)
from tests.fixtures.offers import fixed_offer
from tests.fixtures.workers import MAIL_SEPARATOR, worker_database_url
from tests.reliability import invariants
from tests.reliability.report import long_run, write_component
from tests.reliability.storm_worker import OK, REFUSED, SERVER_ERROR, run_actor, run_sweeper

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SHORT = {"actors": 4, "sweepers": 2, "contracts_per_shape": 2, "burst": 6, "max_seconds": 120}
LONG = {"actors": 6, "sweepers": 2, "contracts_per_shape": 8, "burst": 8, "max_seconds": 360}


def storm_size() -> dict:
    return LONG if long_run() else SHORT


# The shared contracts.


class Shapes:
    def __init__(self, now):
        self.now = now
        self.clients = [UserFactory(username=f"storm-client-{n}") for n in range(3)]
        self.freelancers = [UserFactory(username=f"storm-freelancer-{n}") for n in range(3)]
        self.count = 0
        self.aged_payments: dict[int, int] = {}  # payment id -> age in days

    def parties(self) -> dict:
        self.count += 1
        return {"client": self.clients[self.count % 3], "freelancer": self.freelancers[(self.count // 3) % 3]}

    def at(self, moment):
        return time_machine.travel(moment, tick=False)

    def hourly(self) -> Contract:
        contract = HourlyContractFactory(**self.parties(), started_at=self.now - timedelta(days=30))
        DiaryEntryFactory(contract=contract, work_date=self.now.date(), minutes=60)
        DiaryEntryFactory(contract=contract, work_date=self.now.date(), minutes=45)
        return contract

    def fixed(self) -> Contract:
        with self.at(self.now - timedelta(days=15)):
            contract = FixedContractFactory(**self.parties(), started_at=self.now - timedelta(days=20))
            funded = MilestoneFactory(contract=contract, position=1, amount_cents=120_00)
            submitted = MilestoneFactory(contract=contract, position=2, amount_cents=250_00)
            MilestoneFactory(contract=contract, position=3, amount_cents=80_00)
            for milestone in (funded, submitted):
                services.milestone_fund(milestone=milestone, by=contract.client)
            services.milestone_submit(milestone=submitted, by=contract.freelancer, note="Done")
        return contract

    def refund_ages(self) -> Contract:
        contract = FixedContractFactory(**self.parties(), started_at=self.now - timedelta(days=200))
        for position, (age, amount) in enumerate(((181, 100_00), (180, 200_00), (179, 300_00), (0, 50_00)), 1):
            milestone = MilestoneFactory(contract=contract, position=position, amount_cents=amount)
            with self.at(self.now - timedelta(days=age, hours=1)):
                services.milestone_fund(milestone=milestone, by=contract.client)
                payment = services.milestone_release(milestone=milestone, by=contract.client)
            self.aged_payments[payment.pk] = age
        return contract

    def ended_feedback(self) -> Contract:
        with self.at(self.now - timedelta(days=8)):
            contract = HourlyContractFactory(**self.parties(), started_at=self.now - timedelta(days=20))
            DiaryEntryFactory(contract=contract, work_date=(self.now - timedelta(days=8)).date(), minutes=90)
            services.contract_end(contract=contract, by=contract.client, reason="completed")
        return contract

    def notice(self) -> Contract:
        contract = HourlyContractFactory(**self.parties(), notice_days=2, started_at=self.now - timedelta(days=30))
        with self.at(self.now - timedelta(days=2, hours=1)):
            DiaryEntryFactory(contract=contract, work_date=(self.now - timedelta(days=2, hours=1)).date(), minutes=30)
            services.contract_give_notice(contract=contract, by=contract.freelancer, reason="other")
        with self.at(self.now - timedelta(hours=1)):
            services.contract_propose_end(contract=contract, by=contract.client)
        return contract

    def refund_request(self) -> Contract:
        contract = FixedContractFactory(**self.parties(), started_at=self.now - timedelta(days=10))
        nothing = MilestoneFactory(contract=contract, position=1, amount_cents=100_00)
        part = MilestoneFactory(contract=contract, position=2, amount_cents=200_00)
        for milestone in (nothing, part):
            services.milestone_fund(milestone=milestone, by=contract.client)
        services.contract_end(
            contract=contract,
            by=contract.client,
            reason="unsuccessful",
            milestone_decisions={
                nothing.pk: MilestoneDecision(MilestoneChoice.PAY_NOTHING),
                part.pk: MilestoneDecision(MilestoneChoice.PAY_PART, 50_00),
            },
        )
        return contract

    def offers(self, count: int) -> list[int]:
        """Fixed-price offers waiting for an answer: half open for days, half expiring a
        few seconds into the storm, one after the other, while the actors answer them."""
        made = []
        for n in range(count):
            expires_at = self.now + (timedelta(days=7) if n % 2 == 0 else timedelta(seconds=4 + 1.5 * n))
            made.append(fixed_offer(**self.offer_parties(), title=f"Storm offer {n}", expires_at=expires_at).pk)
        return made

    def offer_parties(self) -> dict:
        parties = self.parties()
        return {"client": parties["client"], "to": parties["freelancer"]}

    def build(self, per_shape: int) -> list[int]:
        makers = [self.hourly, self.fixed, self.refund_ages, self.ended_feedback, self.notice, self.refund_request]
        return [maker().pk for _ in range(per_shape) for maker in makers]


def delivered_mail(mail_dir: Path) -> list[tuple[str, str]]:
    """(recipient, subject) of every message the file e-mail backend wrote."""
    sent = []
    for path in sorted(mail_dir.glob("*.log")):
        for chunk in path.read_bytes().split(MAIL_SEPARATOR):
            if chunk.strip():
                message = email.message_from_bytes(chunk.strip() + b"\n", policy=email.policy.default)
                sent.append((str(message["To"]), str(message["Subject"])))
    return sent


def run_storm(
    *, contract_ids: list[int], size: dict, tmp_path: Path, offer_ids: list[int] = ()
) -> tuple[list[dict], float]:
    context = multiprocessing.get_context("spawn")
    results_dir, mail_dir = tmp_path / "results", tmp_path / "mail"
    results_dir.mkdir()
    mail_dir.mkdir()
    config = {
        "database_url": worker_database_url(),
        "email_dir": str(mail_dir),
        "contract_ids": contract_ids,
        "offer_ids": list(offer_ids),
        "burst": size["burst"],
        "max_seconds": size["max_seconds"],
    }
    barrier, stop = context.Barrier(size["actors"]), context.Event()
    actors = [
        context.Process(target=run_actor, args=(config, seed, barrier, str(results_dir)), name=f"actor-{seed}")
        for seed in range(size["actors"])
    ]
    sweepers = [
        context.Process(target=run_sweeper, args=(config, 100 + n, stop, str(results_dir)), name=f"sweeper-{n}")
        for n in range(size["sweepers"])
    ]
    connection.close()  # the children open their own connections
    started = time.monotonic()
    for process in sweepers + actors:
        process.start()
    limit = started + size["max_seconds"] + 60
    for process in actors:
        process.join(timeout=max(1.0, limit - time.monotonic()))
    stop.set()
    for process in sweepers:
        process.join(timeout=max(1.0, limit + 30 - time.monotonic()))
    elapsed = time.monotonic() - started
    stuck = [process.name for process in actors + sweepers if process.is_alive()]
    for process in actors + sweepers:
        if process.is_alive():
            process.kill()
            process.join(5)
    assert stuck == [], f"storm processes did not finish in time: {stuck}"
    assert [p.name for p in actors + sweepers if p.exitcode != 0] == [], "a storm process crashed"
    return [json.loads(path.read_text()) for path in sorted(results_dir.glob("*.json"))], elapsed


def test_storm_of_conflicting_actions_loses_nothing_and_returns_no_server_error(tmp_path):
    size = storm_size()
    now = timezone.now()
    shapes = Shapes(now)
    contract_ids = shapes.build(size["contracts_per_shape"])
    offer_ids = shapes.offers(2 * size["contracts_per_shape"])
    storm_start = timezone.now()

    results, elapsed = run_storm(contract_ids=contract_ids, offer_ids=offer_ids, size=size, tmp_path=tmp_path)

    assert len(results) == size["actors"] + size["sweepers"]
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {OK: 0, REFUSED: 0, SERVER_ERROR: 0})
    refusals: dict[str, int] = defaultdict(int)
    tracebacks = []
    for result in results:
        for action, outcome in result["counts"].items():
            for key, value in outcome.items():
                counts[action][key] += value
        for message, n in result["refusals"].items():
            refusals[message] += n
        tracebacks += result["tracebacks"]
    server_errors = sum(outcome[SERVER_ERROR] for outcome in counts.values())
    requests = sum(sum(outcome.values()) for action, outcome in counts.items() if action != "deadline sweep")

    mail = delivered_mail(tmp_path / "mail")
    violations = invariants.all_violations(now=timezone.now())
    violations["every e-mail of the storm delivered once"] = invariants.mail_violations(mail, since=storm_start)
    violations["the 181-day-old payment refused, the 180-day-old one refundable"] = [
        f"payment #{pk} ({shapes.aged_payments[pk]} days old) was refunded"
        for pk in Refund.objects.filter(payment_id__in=shapes.aged_payments).values_list("payment_id", flat=True)
        if shapes.aged_payments[pk] > 180
    ]
    checks = len(violations)

    contracts = Contract.objects.filter(pk__in=contract_ids)
    ended = contracts.filter(state=ContractState.ENDED).count()
    offer_outcomes = Counter(Offer.objects.filter(pk__in=offer_ids).values_list("state", flat=True))
    outcomes_of_offers = ", ".join(f"{n} {state}" for state, n in sorted(offer_outcomes.items()))
    reminders_done = ScheduledJob.objects.filter(kind=JobKind.FEEDBACK_REMINDER, state=JobState.DONE).count()
    write_component(
        "storm",
        title="Concurrency storm",
        rows=[
            ("variant", "long" if long_run() else "short"),
            ("processes", f"{size['actors']} actors (HTTP requests through the views) + {size['sweepers']} sweepers"),
            ("contracts", f"{len(contract_ids)} ({size['contracts_per_shape']} of each of 6 shapes), {ended} ended"),
            ("offers", f"{len(offer_ids)}: {outcomes_of_offers}"),
            ("duration", f"{elapsed:.1f} s"),
            ("requests", requests),
            *(
                (
                    action,
                    f"{sum(o.values())} attempted: {o[OK]} succeeded, {o[REFUSED]} refused, "
                    f"{o[SERVER_ERROR]} server errors",
                )
                for action, o in sorted(counts.items())
            ),
            (
                "deadline sweeps",
                f"{sum(r['sweeps'] for r in results)} sweeps handed out "
                f"{sum(r['jobs_handed_out'] for r in results)} jobs",
            ),
            ("feedback reminders sent", reminders_done),
            ("e-mails delivered during the storm", len(mail)),
            ("refunds made", Refund.objects.filter(created_at__gte=storm_start).count()),
            ("payments", Payment.objects.count()),
            ("server errors", server_errors),
            ("invariant checks run", f"{checks}, all held" if not any(violations.values()) else f"{checks}, FAILED"),
        ],
        notes="Most frequent refusals (the domain's message, shown to the user):\n\n"
        + "\n".join(f"- {n} × {message}" for message, n in sorted(refusals.items(), key=lambda kv: -kv[1])[:8]),
    )

    assert server_errors == 0, "\n\n".join(tracebacks)
    assert {rule: found for rule, found in violations.items() if found} == {}
    # The storm was a storm: conflicts happened and were refused, work got done.
    assert sum(outcome[REFUSED] for outcome in counts.values()) > 0
    assert sum(outcome[OK] for outcome in counts.values()) > 0
    assert ended >= len(contract_ids) // 2

"""The data set at scale, written with COPY: users, contracts in every state, work
diaries, invoices, payments with refunds, milestones with their escrow, the
double-entry ledger behind every payment, feedback, and due feedback reminders.

Every row is computed here with explicit ids (the database is new), written as
tab-separated text and loaded with one ``COPY`` per table. The triggers that guard
the live system (diary lock, append-only tables, balanced ledger, refund ≤ payment)
and the foreign-key triggers are switched off for the load with
``session_replication_role = replica``; ``check_consistency`` then checks with SQL
what they would have checked, so the data set is what the portal itself could have
written.
"""

import io
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection

from billing.money import fee_cents, hourly_amount_cents, next_pro_rata_share

PASSWORD = "bench-portal-2026"
# Special subjects of the figures, by username.
HEAVY_USER = "bench_heavy"  # a user with 500 contracts (My Jobs)
PAGE_USER = "bench_page_client"  # client of the contract page subject
PAGE_FREELANCER = "bench_page_freelancer"
FLOOR_USER = "bench_floor"


@dataclass
class Scale:
    users: int = 10_000
    contracts: int = 100_000
    diary_entries: int = 2_000_000
    payments: int = 300_000
    feedback: int = 200_000
    reminders: int = 100_000
    heavy_user_contracts: int = 500
    page_diary_entries: int = 20_000
    page_payments: int = 500
    end_small_entries: int = 10
    end_large_entries: int = 20_000
    end_small_milestones: int = 1
    end_large_milestones: int = 200
    end_pairs: int = 5  # copies of each end-cost subject: one per repeat
    concurrent_contracts: int = 1_200  # open hourly contracts for the concurrent-ends figure

    @classmethod
    def scaled(cls, factor: float) -> "Scale":
        if factor >= 1:
            return cls()
        base = cls()
        return cls(
            users=max(200, int(base.users * factor)),
            contracts=max(3_000, int(base.contracts * factor)),
            diary_entries=max(60_000, int(base.diary_entries * factor)),
            payments=max(6_000, int(base.payments * factor)),
            feedback=max(2_000, int(base.feedback * factor)),
            reminders=max(1_000, int(base.reminders * factor)),
            page_diary_entries=max(2_000, int(base.page_diary_entries * factor)),
            page_payments=max(50, int(base.page_payments * factor)),
            end_large_entries=max(2_000, int(base.end_large_entries * factor)),
            concurrent_contracts=max(240, int(base.concurrent_contracts * factor)),
        )


def ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f+00")


def d(value: date) -> str:
    return value.isoformat()


def n(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime):
        return ts(value)
    if isinstance(value, date):
        return d(value)
    return str(value)


@dataclass
class Table:
    name: str
    columns: tuple[str, ...]
    lines: list = field(default_factory=list)
    next_id: int = 1

    def add(self, *values) -> int:
        row_id = self.next_id
        self.next_id += 1
        self.lines.append(f"{row_id}\t" + "\t".join(n(v) for v in values) + "\n")
        return row_id

    def add_row(self, *values) -> None:
        """A row whose first value is its own (not a sequence) key."""
        self.lines.append("\t".join(n(v) for v in values) + "\n")


class DataSet:
    def __init__(self, scale: Scale, *, seed: int = 2026):
        self.scale = scale
        self.rng = random.Random(seed)  # noqa: S311
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.today = self.now.date()
        t = Table
        self.users = t(
            "auth_user",
            (
                "id",
                "password",
                "last_login",
                "is_superuser",
                "username",
                "first_name",
                "last_name",
                "email",
                "is_staff",
                "is_active",
                "date_joined",
            ),
        )
        self.contracts = t(
            "contracts_contract",
            (
                "id",
                "title",
                "description",
                "kind",
                "hourly_rate_cents",
                "weekly_hour_limit",
                "notice_days",
                "state",
                "started_at",
                "notice_given_at",
                "notice_effective_at",
                "end_proposed_at",
                "ended_at",
                "end_kind",
                "end_reason",
                "end_reason_note",
                "created_at",
                "client_id",
                "end_proposed_by_id",
                "ended_by_id",
                "freelancer_id",
                "notice_given_by_id",
            ),
        )
        self.diary = t(
            "contracts_diaryentry",
            ("id", "work_date", "minutes", "memo", "created_at", "updated_at", "contract_id", "invoice_id"),
        )
        self.milestones = t(
            "contracts_milestone",
            (
                "id",
                "position",
                "title",
                "amount_cents",
                "due_date",
                "state",
                "funded_at",
                "submitted_at",
                "submission_note",
                "closed_at",
                "created_at",
                "contract_id",
            ),
        )
        self.accounts = t("billing_ledgeraccount", ("id", "code", "kind", "contract_id", "user_id"))
        self.transactions = t(
            "billing_ledgertransaction",
            ("id", "idempotency_key", "kind", "memo", "created_at", "contract_id", "milestone_id"),
        )
        self.entries = t("billing_ledgerentry", ("id", "amount_cents", "account_id", "transaction_id"))
        self.payments = t(
            "billing_payment",
            (
                "id",
                "source",
                "amount_cents",
                "freelancer_fee_cents",
                "client_fee_cents",
                "paid_at",
                "client_id",
                "contract_id",
                "freelancer_id",
                "ledger_transaction_id",
                "milestone_id",
            ),
        )
        self.invoices = t(
            "billing_invoice",
            (
                "id",
                "period_start",
                "period_end",
                "minutes",
                "rate_cents",
                "amount_cents",
                "issued_at",
                "contract_id",
                "payment_id",
            ),
        )
        self.refunds = t(
            "billing_refund",
            (
                "id",
                "amount_cents",
                "freelancer_fee_returned_cents",
                "client_fee_returned_cents",
                "reason",
                "created_at",
                "created_by_id",
                "ledger_transaction_id",
                "payment_id",
            ),
        )
        self.escrow = t(
            "billing_escrowmovement",
            ("id", "kind", "amount_cents", "client_fee_cents", "created_at", "milestone_id", "ledger_transaction_id"),
        )
        self.feedback = t(
            "contracts_feedback",
            (
                "id",
                "author_is_client",
                "scores",
                "overall_hundredths",
                "public_comment",
                "private_reason",
                "private_recommend",
                "created_at",
                "revealed_at",
                "author_id",
                "contract_id",
                "recipient_id",
            ),
        )
        self.jobs = t(
            "contracts_scheduledjob",
            (
                "id",
                "key",
                "kind",
                "subject_id",
                "due_at",
                "state",
                "attempts",
                "queued_at",
                "finished_at",
                "outcome",
                "created_at",
                "contract_id",
                "recipient_id",
            ),
        )
        self.state_changes = t(
            "contracts_statechange",
            (
                "id",
                "subject",
                "subject_id",
                "transition",
                "source",
                "target",
                "reason",
                "created_at",
                "contract_id",
                "actor_id",
            ),
        )
        self.tables = (
            self.users,
            self.contracts,
            self.milestones,
            self.accounts,
            self.transactions,
            self.entries,
            self.payments,
            self.invoices,
            self.diary,
            self.refunds,
            self.escrow,
            self.feedback,
            self.jobs,
            self.state_changes,
        )
        self.account_ids: dict[str, int] = {}
        self.subjects: dict[str, object] = {}
        self.usernames: dict[int, str] = {}

    # Ledger.

    def account(self, code: str, kind: str, *, contract_id=None, user_id=None) -> int:
        account_id = self.account_ids.get(code)
        if account_id is None:
            account_id = self.accounts.add(code, kind, contract_id, user_id)
            self.account_ids[code] = account_id
        return account_id

    def post(
        self,
        *,
        key: str,
        kind: str,
        at: datetime,
        contract_id: int,
        milestone_id=None,
        memo: str = "",
        lines: list[tuple[int, int]],
    ) -> int:
        assert sum(amount for _, amount in lines) == 0, lines
        tx = self.transactions.add(key, kind, memo, at, contract_id, milestone_id)
        for account_id, amount in lines:
            if amount:
                self.entries.add(amount, account_id, tx)
        return tx

    def client_funds(self, user_id):
        return self.account(f"client-funds:{user_id}", "client_funds", user_id=user_id)

    def earnings(self, user_id):
        return self.account(f"earnings:{user_id}", "earnings", user_id=user_id)

    def fees(self):
        return self.account("platform-fees", "platform_fees")

    # Money movements, as billing.services write them.

    def hourly_payment(self, c: dict, *, amount: int, at: datetime) -> int:
        client_fee = fee_cents(amount, settings.CLIENT_MARKETPLACE_FEE_BPS)
        freelancer_fee = fee_cents(amount, settings.FREELANCER_SERVICE_FEE_BPS)
        tx = self.post(
            key=f"bench:hourly:{self.transactions.next_id}",
            kind="hourly_invoice",
            at=at,
            contract_id=c["id"],
            memo=f"hours on {c['title']}",
            lines=[
                (self.client_funds(c["client"]), -(amount + client_fee)),
                (self.earnings(c["freelancer"]), amount - freelancer_fee),
                (self.fees(), client_fee + freelancer_fee),
            ],
        )
        payment = self.payments.add(
            "hourly_invoice", amount, freelancer_fee, client_fee, at, c["client"], c["id"], c["freelancer"], tx, None
        )
        self.maybe_refund(c, payment, amount, freelancer_fee, client_fee, at)
        return payment

    def maybe_refund(self, c, payment, amount, freelancer_fee, client_fee, paid_at, *, chance=0.1):
        if self.rng.random() >= chance or amount < 200:
            return
        parts = 1 if self.rng.random() < 0.7 else 2
        done = shared_f = shared_c = 0
        for _ in range(parts):
            part = self.rng.randint(100, max(100, (amount - done) // 2))
            if done + part > amount:
                break
            f_share = next_pro_rata_share(
                total_cents=freelancer_fee, whole_cents=amount, done_cents=done, part_cents=part, shared_cents=shared_f
            )
            c_share = next_pro_rata_share(
                total_cents=client_fee, whole_cents=amount, done_cents=done, part_cents=part, shared_cents=shared_c
            )
            at = min(paid_at + timedelta(days=self.rng.randint(1, 60)), self.now)
            tx = self.post(
                key=f"refund:bench-{self.transactions.next_id}",
                kind="refund",
                at=at,
                contract_id=c["id"],
                memo=f"Refund on payment #{payment}",
                lines=[
                    (self.earnings(c["freelancer"]), -(part - f_share)),
                    (self.fees(), -(f_share + c_share)),
                    (self.client_funds(c["client"]), part + c_share),
                ],
            )
            self.refunds.add(part, f_share, c_share, "Partial refund for rework", at, c["freelancer"], tx, payment)
            done, shared_f, shared_c = done + part, shared_f + f_share, shared_c + c_share

    # Users and contracts.

    def make_users(self):
        password = make_password(PASSWORD)
        joined = self.now - timedelta(days=5 * 365)
        specials = [HEAVY_USER, PAGE_USER, PAGE_FREELANCER, FLOOR_USER]
        for i in range(self.scale.users):
            username = specials[i] if i < len(specials) else f"user{i:05d}"
            uid = self.users.add(
                password,
                None,
                False,
                username,
                f"First{i}",
                f"Last{i}",
                f"{username}@bench.example",
                False,
                True,
                joined,
            )
            self.usernames[uid] = username

    def pair(self):
        client = self.rng.randint(5, self.scale.users)
        freelancer = self.rng.randint(5, self.scale.users)
        while freelancer == client:
            freelancer = self.rng.randint(5, self.scale.users)
        return client, freelancer

    def contract(
        self,
        *,
        kind: str,
        state: str,
        client: int,
        freelancer: int,
        started_at: datetime,
        ended_at: datetime | None = None,
        notice_days: int = 0,
        title: str | None = None,
    ) -> dict:
        rng = self.rng
        rate = rng.choice((2500, 3500, 5000, 7500, 12000)) if kind == "hourly" else None
        limit = rng.choice((10, 20, 30, 40)) if kind == "hourly" else None
        title = title or f"{rng.choice(('Website', 'Mobile app', 'Data pipeline', 'Logo', 'API', 'Copy'))} work"
        notice_given_at = notice_effective_at = notice_by = ended_by = None
        end_kind = end_reason = ""
        end_proposed_at = end_proposed_by = None
        if state == "ending":
            notice_days = notice_days or rng.choice((7, 14, 30))
            notice_given_at = self.now - timedelta(days=rng.randint(0, notice_days - 1), hours=1)
            notice_effective_at = notice_given_at + timedelta(days=notice_days)
            notice_by = rng.choice((client, freelancer))
            end_reason = "completed"
        if state == "ended":
            ended_by = rng.choice((client, freelancer))
            end_kind = rng.choice(("party", "party", "mutual", "notice"))
            end_reason = rng.choice(("completed", "completed", "not_responsive", "unsuccessful", "other"))
            if end_kind == "notice":
                notice_days = notice_days or 7
                notice_by = ended_by
                notice_effective_at = ended_at
                notice_given_at = ended_at - timedelta(days=notice_days)
        if state == "active" and rng.random() < 0.05:
            end_proposed_at = self.now - timedelta(days=rng.randint(0, 6))
            end_proposed_by = rng.choice((client, freelancer))
        cid = self.contracts.add(
            title,
            "",
            kind,
            rate,
            limit,
            notice_days,
            state,
            started_at,
            notice_given_at,
            notice_effective_at,
            end_proposed_at,
            ended_at,
            end_kind,
            end_reason,
            "",
            started_at,
            client,
            end_proposed_by,
            ended_by,
            freelancer,
            notice_by,
        )
        c = {
            "id": cid,
            "kind": kind,
            "state": state,
            "client": client,
            "freelancer": freelancer,
            "rate": rate,
            "started_at": started_at,
            "ended_at": ended_at,
            "title": title,
        }
        if state == "ended":
            transition = {"party": "end", "mutual": "accept_end", "notice": "elapse_notice"}[end_kind]
            self.state_changes.add("contract", cid, transition, "active", "ended", end_reason, ended_at, cid, ended_by)
        return c

    def hourly_history(self, c: dict, *, entries: int, invoices: int, unbilled: int) -> None:
        """``entries`` diary entries from the start to the end (or today); the oldest
        ``entries - unbilled`` billed in ``invoices`` invoices (one payment each)."""
        start = c["started_at"].date()
        last = (c["ended_at"] or self.now).date()
        if c["state"] == "ending":
            last = self.today
        span = max(1, (last - start).days)
        billed = entries - unbilled
        invoices = max(1, min(invoices, billed)) if billed else 0
        per_invoice = billed / invoices if invoices else 0
        rng = self.rng
        entry_dates = sorted(start + timedelta(days=int(span * i / max(1, entries))) for i in range(entries))
        index = 0
        for k in range(invoices):
            chunk_end = round(per_invoice * (k + 1))
            chunk = entry_dates[index:chunk_end]
            if not chunk:
                continue
            minutes = [rng.randint(15, 480) for _ in chunk]
            total = sum(minutes)
            issued = datetime.combine(chunk[-1] + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(
                hours=12
            )
            issued = min(issued, c["ended_at"] or self.now)
            amount = hourly_amount_cents(total, c["rate"])
            payment = self.hourly_payment(c, amount=amount, at=issued)
            invoice = self.invoices.add(chunk[0], chunk[-1], total, c["rate"], amount, issued, c["id"], payment)
            for day, mins in zip(chunk, minutes, strict=True):
                created = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=18)
                self.diary.add(day, mins, "Implementation and review", created, created, c["id"], invoice)
            index = chunk_end
        for day in entry_dates[index:]:
            created = min(datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=18), self.now)
            self.diary.add(day, rng.randint(15, 480), "Implementation and review", created, created, c["id"], None)

    def milestone(self, c: dict, position: int, state: str, *, at: datetime) -> int:
        amount = self.rng.choice((500, 2500, 10000, 25000, 50000, 120000))
        funded_at = at if state != "pending" else None
        submitted_at = at + timedelta(days=3) if state in ("submitted", "released") else None
        closed_at = at + timedelta(days=5) if state in ("released", "refunded", "cancelled") else None
        mid = self.milestones.add(
            position,
            f"Milestone {position}",
            amount,
            None,
            state,
            funded_at,
            submitted_at,
            "Work attached" if submitted_at else "",
            closed_at,
            at,
            c["id"],
        )
        if state in ("pending", "cancelled"):
            return mid
        escrow = self.account(f"escrow:{c['id']}", "escrow", contract_id=c["id"])
        client_fee = fee_cents(amount, settings.CLIENT_MARKETPLACE_FEE_BPS)
        tx = self.post(
            key=f"milestone:{mid}:fund",
            kind="escrow_fund",
            at=funded_at,
            contract_id=c["id"],
            milestone_id=mid,
            memo=f"Escrow for Milestone {position}",
            lines=[
                (self.client_funds(c["client"]), -(amount + client_fee)),
                (escrow, amount),
                (self.fees(), client_fee),
            ],
        )
        self.escrow.add("fund", amount, client_fee, funded_at, mid, tx)
        if state == "released":
            freelancer_fee = fee_cents(amount, settings.FREELANCER_SERVICE_FEE_BPS)
            tx = self.post(
                key=f"milestone:{mid}:release",
                kind="escrow_release",
                at=closed_at,
                contract_id=c["id"],
                milestone_id=mid,
                memo=f"Payment for Milestone {position}",
                lines=[
                    (escrow, -amount),
                    (self.earnings(c["freelancer"]), amount - freelancer_fee),
                    (self.fees(), freelancer_fee),
                ],
            )
            self.escrow.add("release", amount, client_fee, closed_at, mid, tx)
            payment = self.payments.add(
                "milestone_release",
                amount,
                freelancer_fee,
                client_fee,
                closed_at,
                c["client"],
                c["id"],
                c["freelancer"],
                tx,
                mid,
            )
            self.maybe_refund(c, payment, amount, freelancer_fee, client_fee, closed_at)
        elif state == "refunded":
            tx = self.post(
                key=f"milestone:{mid}:return",
                kind="escrow_return",
                at=closed_at,
                contract_id=c["id"],
                milestone_id=mid,
                memo=f"Escrow returned for Milestone {position}",
                lines=[
                    (escrow, -amount),
                    (self.client_funds(c["client"]), amount + client_fee),
                    (self.fees(), -client_fee),
                ],
            )
            self.escrow.add("return", amount, client_fee, closed_at, mid, tx)
        return mid

    def fixed_history(self, c: dict, *, released: int, open_states: tuple[str, ...] = ()) -> None:
        at = c["started_at"]
        end = c["ended_at"] or self.now
        count = released + len(open_states)
        step = (end - at) / max(1, count + 1)
        position = 0
        for position in range(1, released + 1):
            self.milestone(c, position, "released", at=at + step * (position - 1))
        for offset, state in enumerate(open_states, start=1):
            self.milestone(c, position + offset, state, at=min(at + step * (position + offset - 1), self.now))

    def feedback_row(self, c: dict, author: int, *, at: datetime, revealed: bool) -> None:
        author_is_client = author == c["client"]
        recipient = c["freelancer"] if author_is_client else c["client"]
        codes = (
            ("skills", "quality", "availability", "deadlines", "communication", "cooperation")
            if author_is_client
            else ("clarity", "communication", "payment_promptness", "cooperation", "availability")
        )
        scores = {code: self.rng.choice((3, 4, 5, 5, 5)) for code in codes}
        overall = round(100 * sum(scores.values()) / len(scores))
        scores_json = "{" + ", ".join(f'"{k}": {v}' for k, v in scores.items()) + "}"
        self.feedback.add(
            author_is_client,
            scores_json,
            overall,
            "Great to work with.",
            "completed",
            self.rng.randint(6, 10),
            at,
            at if revealed else None,
            author,
            c["id"],
            recipient,
        )

    # The plan.

    def build(self) -> None:
        s, rng = self.scale, self.rng
        self.make_users()
        heavy, page_client, page_freelancer = 1, 2, 3
        years = timedelta(days=4 * 365)

        def started(max_age=years, min_age=timedelta(days=30)):
            return self.now - min_age - (max_age - min_age) * rng.random()

        special_entries = s.page_diary_entries + s.end_pairs * (s.end_small_entries + s.end_large_entries)
        special_payments = s.page_payments + s.end_pairs * (s.page_payments + 1 + (s.end_large_milestones - 1))

        # The contract page: 20,000 diary entries, 500 payments (with refunds), open.
        page = self.contract(
            kind="hourly",
            state="active",
            client=page_client,
            freelancer=page_freelancer,
            started_at=self.now - timedelta(days=4 * 365),
            title="Contract page subject",
        )
        self.hourly_history(page, entries=s.page_diary_entries, invoices=s.page_payments, unbilled=12)
        self.subjects["page_contract"] = page["id"]

        # End-cost pairs: an hourly contract with 10 vs 20,000 entries (the same 3 unbilled),
        # a fixed-price one with 1 vs 200 milestones (one funded, the rest paid).
        for kind_key in ("end_hourly_small", "end_hourly_large", "end_fixed_small", "end_fixed_large"):
            self.subjects[kind_key] = []
        for _ in range(s.end_pairs):
            client, freelancer = self.pair()
            small = self.contract(
                kind="hourly",
                state="active",
                client=client,
                freelancer=freelancer,
                started_at=self.now - timedelta(days=20),
                title="End cost: short diary",
            )
            self.hourly_history(small, entries=s.end_small_entries, invoices=1, unbilled=3)
            large = self.contract(
                kind="hourly",
                state="active",
                client=client,
                freelancer=freelancer,
                started_at=self.now - timedelta(days=4 * 365),
                title="End cost: long diary",
            )
            self.hourly_history(large, entries=s.end_large_entries, invoices=s.page_payments, unbilled=3)
            fsmall = self.contract(
                kind="fixed",
                state="active",
                client=client,
                freelancer=freelancer,
                started_at=self.now - timedelta(days=20),
                title="End cost: one milestone",
            )
            self.fixed_history(fsmall, released=s.end_small_milestones - 1, open_states=("funded",))
            flarge = self.contract(
                kind="fixed",
                state="active",
                client=client,
                freelancer=freelancer,
                started_at=self.now - timedelta(days=4 * 365),
                title="End cost: 200 milestones",
            )
            self.fixed_history(flarge, released=s.end_large_milestones - 1, open_states=("funded",))
            self.subjects["end_hourly_small"].append((small["id"], client))
            self.subjects["end_hourly_large"].append((large["id"], client))
            self.subjects["end_fixed_small"].append((fsmall["id"], freelancer))
            self.subjects["end_fixed_large"].append((flarge["id"], freelancer))

        # Open hourly contracts, each with a few unbilled entries, for the concurrent ends.
        concurrent = []
        for _ in range(s.concurrent_contracts):
            client, freelancer = self.pair()
            c = self.contract(
                kind="hourly",
                state="active",
                client=client,
                freelancer=freelancer,
                started_at=self.now - timedelta(days=10),
                title="Concurrent end subject",
            )
            self.hourly_history(c, entries=5, invoices=0, unbilled=5)
            concurrent.append((c["id"], client))
        self.subjects["concurrent"] = concurrent

        # The rest: the heavy user's 500 contracts first, then random pairs.
        remaining = s.contracts - self.contracts.next_id + 1
        remaining_entries = s.diary_entries - special_entries - 5 * s.concurrent_contracts
        remaining_payments = s.payments - special_payments
        states = ["active"] * 10 + ["paused"] * 2 + ["ending"] * 2 + ["ended"] * 86
        plans = []
        for i in range(remaining):
            if i < s.heavy_user_contracts:
                other = rng.randint(5, s.users)
                client, freelancer = (heavy, other) if i % 2 else (other, heavy)
            else:
                client, freelancer = self.pair()
            kind = "hourly" if rng.random() < 0.5 else "fixed"
            state = rng.choice(states)
            if kind == "fixed" and state == "paused":
                state = "active"
            plans.append((client, freelancer, kind, state))
        hourly_plans = [p for p in plans if p[2] == "hourly"]
        fixed_count = len(plans) - len(hourly_plans)
        # Fixed-price: ~2 released milestones each; hourly invoices take the rest of the payments.
        fixed_released = [rng.randint(1, 3) for _ in range(fixed_count)]
        hourly_invoice_budget = max(len(hourly_plans), remaining_payments - sum(fixed_released))
        per_contract_entries = remaining_entries / max(1, len(hourly_plans))
        invoices_per_contract = hourly_invoice_budget / max(1, len(hourly_plans))
        entries_done = invoices_done = 0
        ended_contracts = []
        fixed_index = hourly_index = 0
        for client, freelancer, kind, state in plans:
            if state == "ended":
                ended_at = started(timedelta(days=3 * 365), timedelta(days=8))
                start = ended_at - timedelta(days=rng.randint(7, 400))
            else:
                ended_at = None
                start = started()
            c = self.contract(
                kind=kind, state=state, client=client, freelancer=freelancer, started_at=start, ended_at=ended_at
            )
            if kind == "hourly":
                hourly_index += 1
                entries = max(0, round(per_contract_entries * hourly_index) - entries_done)
                entries_done += entries
                invoices = round(invoices_per_contract * hourly_index) - invoices_done
                unbilled = 0 if state == "ended" else min(entries, rng.randint(0, 6))
                invoices = max(0, min(invoices, entries - unbilled))
                invoices_done += invoices
                self.hourly_history(c, entries=entries, invoices=invoices, unbilled=unbilled)
            else:
                released = fixed_released[fixed_index]
                fixed_index += 1
                if state == "ended":
                    tail = rng.choice(((), (), ("refunded",), ("cancelled",)))
                else:
                    tail = (rng.choice(("funded", "submitted", "pending")),)
                self.fixed_history(c, released=released, open_states=tail)
            if state == "ended":
                ended_contracts.append(c)
        # Feedback and due reminders: the most recently ended contracts wait for
        # reminders (both parties); the others have their feedback in.
        ended_contracts.sort(key=lambda c: c["ended_at"])
        reminder_contracts = ended_contracts[-(s.reminders // 2) :]
        older = ended_contracts[: len(ended_contracts) - len(reminder_contracts)]
        budget = s.feedback
        for c in older:
            for author in (c["client"], c["freelancer"]):
                if budget and rng.random() < 0.97:
                    self.feedback_row(c, author, at=c["ended_at"] + timedelta(days=rng.randint(0, 13)), revealed=True)
                    budget -= 1
        for c in reminder_contracts:
            authors = rng.choice(((), (), (c["client"],), (c["freelancer"],), (c["client"], c["freelancer"])))
            for author in authors:
                if budget:
                    self.feedback_row(c, author, at=c["ended_at"] + timedelta(days=1), revealed=len(authors) == 2)
                    budget -= 1
            for user in (c["client"], c["freelancer"]):
                self.jobs.add(
                    f"feedback_reminder:{c['id']}:{user}",
                    "feedback_reminder",
                    None,
                    self.now - timedelta(minutes=5),
                    "pending",
                    0,
                    None,
                    None,
                    "",
                    c["ended_at"],
                    c["id"],
                    user,
                )
        self.subjects["reminders"] = 2 * len(reminder_contracts)

    # Loading.

    def load(self) -> dict[str, int]:
        counts = {}
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
            for table in self.tables:
                if not table.lines:
                    counts[table.name] = 0
                    continue
                columns = ", ".join(table.columns)
                with cursor.cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
                    buffer = io.StringIO()
                    for i, line in enumerate(table.lines, start=1):
                        buffer.write(line)
                        if i % 50_000 == 0:
                            copy.write(buffer.getvalue())
                            buffer = io.StringIO()
                    copy.write(buffer.getvalue())
                counts[table.name] = len(table.lines)
                table.lines = []
            cursor.execute("SET session_replication_role = DEFAULT")
            for table in self.tables:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                    f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table.name}), false)"
                )
        return counts


CONSISTENCY_CHECKS = {
    "ledger transactions that do not sum to zero": """
        SELECT count(*) FROM (SELECT transaction_id FROM billing_ledgerentry GROUP BY transaction_id
                              HAVING SUM(amount_cents) <> 0) t""",
    "payments refunded beyond their amount": """
        SELECT count(*) FROM billing_payment p JOIN (SELECT payment_id, SUM(amount_cents) s FROM billing_refund
        GROUP BY payment_id) r ON r.payment_id = p.id WHERE r.s > p.amount_cents""",
    "diary entries outside their contract's dates": """
        SELECT count(*) FROM contracts_diaryentry e JOIN contracts_contract c ON c.id = e.contract_id
        WHERE e.work_date < c.started_at::date OR (c.ended_at IS NOT NULL AND e.work_date > c.ended_at::date)""",
    "unbilled diary entries on ended contracts": """
        SELECT count(*) FROM contracts_diaryentry e JOIN contracts_contract c ON c.id = e.contract_id
        WHERE c.state = 'ended' AND e.invoice_id IS NULL""",
    "invoices whose minutes differ from their entries": """
        SELECT count(*) FROM billing_invoice i JOIN (SELECT invoice_id, SUM(minutes) m FROM contracts_diaryentry
        WHERE invoice_id IS NOT NULL GROUP BY invoice_id) e ON e.invoice_id = i.id WHERE e.m <> i.minutes""",
    "dangling foreign keys (payment → contract, entry → invoice, ledger → account)": """
        SELECT (SELECT count(*) FROM billing_payment p LEFT JOIN contracts_contract c ON c.id = p.contract_id
                WHERE c.id IS NULL)
             + (SELECT count(*) FROM contracts_diaryentry e LEFT JOIN billing_invoice i ON i.id = e.invoice_id
                WHERE e.invoice_id IS NOT NULL AND i.id IS NULL)
             + (SELECT count(*) FROM billing_ledgerentry e LEFT JOIN billing_ledgeraccount a ON a.id = e.account_id
                WHERE a.id IS NULL)""",
}


def check_consistency() -> dict[str, int]:
    results = {}
    with connection.cursor() as cursor:
        for label, sql in CONSISTENCY_CHECKS.items():
            cursor.execute(sql)
            results[label] = cursor.fetchone()[0]
    return results


def generate(scale: Scale) -> dict:
    """Build and load the data set; returns timings, row counts and the subjects."""
    started = time.perf_counter()
    data = DataSet(scale)
    data.build()
    built = time.perf_counter()
    counts = data.load()
    loaded = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    analyzed = time.perf_counter()
    return {
        "build_seconds": built - started,
        "load_seconds": loaded - built,
        "analyze_seconds": analyzed - loaded,
        "total_seconds": analyzed - started,
        "counts": counts,
        "subjects": data.subjects,
    }

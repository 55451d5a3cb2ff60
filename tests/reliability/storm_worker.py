"""The child processes of the concurrency storm (tests/reliability/test_storm.py).

Started with multiprocessing's ``spawn``: nothing of Django is imported at module
level, each child sets up Django itself against the parent's test database.

* An **actor** works through the shared contracts in the same order as every other
  actor. At each contract all actors meet at a barrier, then each fires a burst of
  random actions at that contract through the portal's views (Django's test client,
  logged in as the client or the freelancer): ending by either party, proposing and
  accepting a mutual end, releasing and funding milestones, submitting work, refunds
  on the contract's payments (some with a repeated form key, as a double click
  sends), answering refund requests, recording time and leaving feedback. So every
  action on a contract meets the others on the same rows at the same moment.
* Before the contracts, the actors meet at each **offer** the same way: the
  freelancer accepts or declines it while the client withdraws it, some at the moment
  it expires, so the sweep's expiry races them too.
* A **sweeper** runs the beat's sweep (``sweep_scheduled_work``) in a loop until the
  actors are done: due deadlines (auto-release, notice elapsing, feedback reminders)
  run at the same time as the actors' requests.

Each child writes what it did to a JSON file: per action, how many requests
succeeded, were refused with the domain's message, or failed with a server error
(a 5xx response or an exception), with the first tracebacks.
"""

import json
import os
import random
import time
import traceback
import uuid
from collections import defaultdict
from pathlib import Path

OK, REFUSED, SERVER_ERROR = "succeeded", "refused", "server_error"
BARRIER_TIMEOUT_SECONDS = 120
MAX_TRACEBACKS = 5


def _setup_django(database_url: str, email_dir: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.reliability.storm_settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ["STORM_EMAIL_DIR"] = email_dir
    import django

    django.setup()
    from django.conf import settings
    from django.test.utils import setup_test_environment

    setup_test_environment()  # responses carry their template context (form errors)
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"


class Tally:
    def __init__(self, role: str, seed: int) -> None:
        self.role, self.seed = role, seed
        self.counts: dict[str, dict[str, int]] = defaultdict(lambda: {OK: 0, REFUSED: 0, SERVER_ERROR: 0})
        self.refusals: dict[str, int] = defaultdict(int)
        self.tracebacks: list[str] = []
        self.barrier_timeouts = 0
        self.sweeps = 0
        self.jobs_handed_out = 0

    def record(self, action: str, outcome: str, detail: str = "") -> None:
        self.counts[action][outcome] += 1
        if outcome == REFUSED and detail:
            self.refusals[detail[:160]] += 1
        if outcome == SERVER_ERROR and len(self.tracebacks) < MAX_TRACEBACKS:
            self.tracebacks.append(f"{action}: {detail}")

    def write(self, path: Path) -> None:
        path.write_text(
            json.dumps(
                {
                    "role": self.role,
                    "seed": self.seed,
                    "counts": self.counts,
                    "refusals": self.refusals,
                    "tracebacks": self.tracebacks,
                    "barrier_timeouts": self.barrier_timeouts,
                    "sweeps": self.sweeps,
                    "jobs_handed_out": self.jobs_handed_out,
                }
            )
        )


class Actor:
    """Requests against one contract at a time, as its client or its freelancer."""

    def __init__(self, tally: Tally, rng: random.Random) -> None:
        from django.test import Client

        self.tally, self.rng = tally, rng
        self.browsers: dict[int, Client] = {}

    def browser(self, user_id: int):
        from django.contrib.auth import get_user_model
        from django.test import Client

        if user_id not in self.browsers:
            browser = Client(raise_request_exception=False)
            browser.force_login(get_user_model().objects.get(pk=user_id))
            self.browsers[user_id] = browser
        return self.browsers[user_id]

    # Outcome of one request.

    def send(self, action: str, user_id: int, path: str, data: dict | None = None):
        """Post, record the outcome, and return the response (None if the request crashed)."""
        try:
            response = self.browser(user_id).post(path, data or {})
        except Exception:  # noqa: BLE001 - a crash of the request is what the storm looks for
            self.tally.record(action, SERVER_ERROR, traceback.format_exc())
            return None
        if response.status_code >= 500:
            exc = getattr(response, "exc_info", None)
            detail = "".join(traceback.format_exception(*exc)) if exc else f"HTTP {response.status_code}"
            self.tally.record(action, SERVER_ERROR, detail)
            return response
        # Only the messages this request added: the redirect they were meant for is never
        # followed, so earlier ones wait in the session.
        storage = getattr(response.wsgi_request, "_messages", None)
        queued = list(getattr(storage, "_queued_messages", []))
        if not queued and response.status_code >= 400:
            # A page rendered with the refusal has moved this request's messages to the
            # loaded ones, where they come last.
            queued = list(getattr(storage, "_loaded_messages", []))[-1:]
        levels = {message.level_tag: message.message for message in queued}
        if response.status_code in (400, 404, 409) or "error" in levels:
            detail = levels.get("error") or _form_error(response) or f"HTTP {response.status_code}"
            self.tally.record(action, REFUSED, detail)
        elif response.status_code in (200, 302):
            self.tally.record(action, OK)
        else:
            self.tally.record(action, SERVER_ERROR, f"unexpected HTTP {response.status_code}")
        return response

    def preview_then_confirm(self, action: str, user_id: int, path: str, data: dict, figures: tuple) -> None:
        """Money that cannot come back moves in two steps, as on the pages: the preview
        (nothing moves), then the confirmation carrying the figures the preview showed
        (``figures``: the names of its hidden fields). Between the two, other actors'
        refunds and releases make some confirmations stale: those are refused (409)."""
        preview = self.send(f"{action}: preview", user_id, path, data)
        if preview is None or preview.status_code != 200 or not preview.context:
            return
        form = preview.context["form"]
        confirmation = {**data, "confirm": "1"}
        for name in figures:
            confirmation[form[name].html_name] = form[name].value()
        self.send(action, user_id, path, confirmation)

    # The actions. Each reads what a page would show now, then posts the form.

    def end(self, contract, user_id: int) -> None:
        from contracts import services
        from contracts.services import MilestoneChoice
        from contracts_portal.errors import DomainError

        user = contract.client if user_id == contract.client_id else contract.freelancer
        data = {"reason": self.rng.choice(["completed", "other", "not_responsive"]), "note": "storm"}
        try:
            plan = services.contract_end_preview(contract=contract, by=user)
            data.update(plan_transition=plan.transition, state=contract.state)
            if plan.transition == "end" and user_id == contract.client_id:
                for outcome in plan.milestones:
                    choice = self.rng.choice(list(MilestoneChoice.values))
                    data[f"milestone_{outcome.milestone.pk}_choice"] = choice
                    if choice == MilestoneChoice.PAY_PART:
                        data[f"milestone_{outcome.milestone.pk}_amount"] = _dollars(
                            max(1, outcome.held_cents * self.rng.randint(1, 9) // 10)
                        )
        except DomainError:
            data.update(plan_transition="end", state=contract.state)  # a stale page
        action = "accept end" if data["plan_transition"] == "accept_end" else "end"
        who = "client" if user_id == contract.client_id else "freelancer"
        self.send(f"{action} ({who})", user_id, f"/contracts/{contract.pk}/end/", data)

    def propose_end(self, contract, user_id: int) -> None:
        self.send("propose mutual end", user_id, f"/contracts/{contract.pk}/actions/propose_end/")

    def withdraw_notice(self, contract, user_id: int) -> None:
        self.send("withdraw notice", user_id, f"/contracts/{contract.pk}/actions/withdraw_notice/")

    def release(self, contract, user_id: int) -> None:
        from billing.selectors import escrow_held_cents

        milestone = self._milestone(contract)
        if milestone is None:
            return
        held = escrow_held_cents(milestone)
        # All of the escrow (the page's "All in escrow" button), or half of it.
        amount = _dollars(max(held, 1)) if held < 200 or self.rng.random() < 0.6 else _dollars(held // 2)
        key = self.rng.choice(["same-form", uuid.uuid4().hex])
        self.preview_then_confirm(
            "release milestone",
            user_id,
            f"/milestones/{milestone.pk}/release/",
            {"amount": amount, "idempotency_key": key},
            figures=("previewed_amount", "held_before"),
        )

    def fund(self, contract, user_id: int) -> None:
        milestone = self._milestone(contract)
        if milestone is not None:
            self.send("fund milestone", user_id, f"/milestones/{milestone.pk}/fund/")

    def submit(self, contract, user_id: int) -> None:
        milestone = self._milestone(contract)
        if milestone is not None:
            self.send("submit work", user_id, f"/milestones/{milestone.pk}/submit/", {"note": "Delivered"})

    def refund(self, contract, user_id: int) -> None:
        from billing.models import Payment

        payments = list(Payment.objects.filter(contract=contract).order_by("id"))
        if not payments:
            return
        payment = self.rng.choice(payments)
        percent = self.rng.choice([10, 25, 40, 60, 100])
        amount = max(1, payment.amount_cents * percent // 100)
        # The same key as another actor's click on the same form, or a fresh form.
        key = f"p{payment.pk}-{percent}" if self.rng.random() < 0.4 else uuid.uuid4().hex
        prefix = f"p{payment.pk}"
        self.preview_then_confirm(
            "refund payment",
            user_id,
            f"/payments/{payment.pk}/refund/",
            {f"{prefix}-amount": _dollars(amount), f"{prefix}-reason": "storm", f"{prefix}-idempotency_key": key},
            figures=("previewed_amount", "refunded_before"),
        )

    def answer_refund_request(self, contract, user_id: int) -> None:
        from contracts.models import EscrowRefundRequest

        requests = list(EscrowRefundRequest.objects.filter(contract=contract).order_by("id"))
        if not requests:
            return
        request = self.rng.choice(requests)
        if self.rng.random() < 0.5:
            self.send("approve refund request", user_id, f"/refund-requests/{request.pk}/approve/")
        else:
            self.send(
                "dispute refund request",
                user_id,
                f"/refund-requests/{request.pk}/dispute/",
                {"statement": "The work was delivered in full."},
            )

    def record_time(self, contract, user_id: int) -> None:
        from django.utils import timezone

        self.send(
            "record time",
            user_id,
            f"/contracts/{contract.pk}/diary/",
            {
                "work_date": timezone.now().date().isoformat(),
                "hours": 0,
                "minutes": self.rng.randint(5, 50),
                "memo": "storm",
            },
        )

    def feedback(self, contract, user_id: int) -> None:
        from contracts.services.feedback import criteria_for

        author = contract.client if user_id == contract.client_id else contract.freelancer
        data = {f"score_{code}": self.rng.randint(1, 5) for code, _ in criteria_for(contract, author)}
        data.update(
            public_comment=f"storm feedback by {user_id}",
            private_reason="completed",
            private_recommend=self.rng.randint(0, 10),
        )
        self.send("feedback", user_id, f"/contracts/{contract.pk}/feedback/", data)

    def view(self, contract, user_id: int) -> None:
        try:
            response = self.browser(user_id).get(f"/contracts/{contract.pk}/")
        except Exception:  # noqa: BLE001
            self.tally.record("view contract", SERVER_ERROR, traceback.format_exc())
            return
        if response.status_code == 200:
            self.tally.record("view contract", OK)
        else:
            self.tally.record("view contract", SERVER_ERROR, f"HTTP {response.status_code}")

    # Offers.

    def accept_offer(self, offer, user_id: int) -> None:
        self.send("accept offer", user_id, f"/offers/{offer.pk}/accept/")

    def decline_offer(self, offer, user_id: int) -> None:
        self.send("decline offer", user_id, f"/offers/{offer.pk}/decline/", {"reason": "Not this time."})

    def withdraw_offer(self, offer, user_id: int) -> None:
        self.send("withdraw offer", user_id, f"/offers/{offer.pk}/withdraw/")

    def view_offer(self, offer, user_id: int) -> None:
        try:
            response = self.browser(user_id).get(f"/offers/{offer.pk}/")
        except Exception:  # noqa: BLE001
            self.tally.record("view offer", SERVER_ERROR, traceback.format_exc())
            return
        outcome = OK if response.status_code == 200 else SERVER_ERROR
        self.tally.record("view offer", outcome, f"HTTP {response.status_code}")

    def offer_burst(self, offer_id: int, count: int) -> None:
        from offers.models import Offer

        for _ in range(count):
            offer = Offer.objects.get(pk=offer_id)
            action, user_id = self.rng.choices(
                [
                    (self.accept_offer, offer.freelancer_id),
                    (self.decline_offer, offer.freelancer_id),
                    (self.withdraw_offer, offer.client_id),
                    (self.view_offer, self.rng.choice([offer.client_id, offer.freelancer_id])),
                ],
                weights=[4, 1, 2, 1],
            )[0]
            action(offer, user_id)

    def _milestone(self, contract):
        from contracts.models import Milestone

        milestones = list(Milestone.objects.filter(contract=contract).order_by("position", "id"))
        return self.rng.choice(milestones) if milestones else None

    # Which party does what.

    def burst(self, contract_id: int, count: int) -> None:
        from contracts.models import Contract

        client_side = (
            (self.end, 2),
            (self.propose_end, 2),
            (self.release, 3),
            (self.fund, 2),
            (self.feedback, 2),
        )
        freelancer_side = (
            (self.end, 2),
            (self.propose_end, 1),
            (self.submit, 2),
            (self.refund, 5),
            (self.answer_refund_request, 2),
            (self.record_time, 3),
            (self.withdraw_notice, 1),
            (self.feedback, 2),
        )
        for _ in range(count):
            contract = Contract.objects.select_related("client", "freelancer").get(pk=contract_id)
            roll = self.rng.random()
            if roll < 0.1:
                self.view(contract, self.rng.choice([contract.client_id, contract.freelancer_id]))
                continue
            side, user_id = (
                (client_side, contract.client_id) if roll < 0.5 else (freelancer_side, contract.freelancer_id)
            )
            actions, weights = zip(*side, strict=True)
            self.rng.choices(actions, weights=weights)[0](contract, user_id)


def _dollars(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _form_error(response) -> str:
    context = getattr(response, "context", None)
    if not context:
        return ""
    for key in ("form", "bound_form"):
        form = context.get(key) if hasattr(context, "get") else None
        if form is not None and getattr(form, "errors", None):
            return " ".join(str(error) for errors in form.errors.values() for error in errors)
    return ""


def run_actor(config: dict, seed: int, barrier, results_dir: str) -> None:
    _setup_django(config["database_url"], config["email_dir"])
    from django.db import connections

    tally = Tally("actor", seed)
    actor = Actor(tally, random.Random(seed))
    deadline = time.monotonic() + config["max_seconds"]
    try:
        for offer_id in config.get("offer_ids", ()):
            if time.monotonic() > deadline:
                break
            try:
                barrier.wait(timeout=BARRIER_TIMEOUT_SECONDS)
            except Exception:  # noqa: BLE001 - a broken barrier: go on without the others
                tally.barrier_timeouts += 1
            actor.offer_burst(offer_id, config["burst"])
        for contract_id in config["contract_ids"]:
            if time.monotonic() > deadline:
                break
            try:
                barrier.wait(timeout=BARRIER_TIMEOUT_SECONDS)
            except Exception:  # noqa: BLE001 - a broken barrier: go on without the others
                tally.barrier_timeouts += 1
            actor.burst(contract_id, config["burst"])
    except Exception:  # noqa: BLE001
        tally.record("actor loop", SERVER_ERROR, traceback.format_exc())
    finally:
        connections.close_all()
        tally.write(Path(results_dir) / f"actor-{seed}.json")


def run_sweeper(config: dict, seed: int, stop, results_dir: str) -> None:
    """The beat sweep, again and again, until the actors are done; then once more."""
    _setup_django(config["database_url"], config["email_dir"])
    from django.db import connections

    from contracts.tasks import sweep_scheduled_work

    tally = Tally("sweeper", seed)
    deadline = time.monotonic() + config["max_seconds"]
    last = False
    try:
        while True:
            last = stop.is_set() or time.monotonic() > deadline
            try:
                tally.jobs_handed_out += sweep_scheduled_work()
                tally.record("deadline sweep", OK)
            except Exception:  # noqa: BLE001
                tally.record("deadline sweep", SERVER_ERROR, traceback.format_exc())
            tally.sweeps += 1
            if last:
                break
            stop.wait(0.05)
    finally:
        connections.close_all()
        tally.write(Path(results_dir) / f"sweeper-{seed}.json")

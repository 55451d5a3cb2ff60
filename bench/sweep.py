"""Figure 4: due feedback reminders handed out by the beat sweep and run by one
Celery worker on Redis, against a no-op task's throughput on the same worker in the
same run; the worker's memory sampled all along (peak RSS, and RSS after each slice
to show it stays flat)."""

import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import redis
from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from contracts.models import JobKind, JobState, ScheduledJob
from contracts.tasks import sweep_scheduled_work

from .celery_app import noop
from .stats import children, peak_rss_mb, ratios, rss_mb, spread

ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = 2
QUEUE = "celery"


class Sampler(threading.Thread):
    """RSS of the worker's main process and its pool processes, every 0.2 s."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_total_mb = 0.0
        self.stop = threading.Event()

    def total_mb(self) -> float:
        return rss_mb(self.pid) + sum(rss_mb(child) for child in children(self.pid))

    def run(self):
        while not self.stop.is_set():
            self.peak_total_mb = max(self.peak_total_mb, self.total_mb())
            time.sleep(0.2)


def start_worker() -> subprocess.Popen:
    process = subprocess.Popen(  # noqa: S603,S607
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "bench.celery_app",
            "worker",
            "--concurrency",
            str(CONCURRENCY),
            "--pool",
            "prefork",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "warning",
            "-Q",
            QUEUE,
        ],
        cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    while len(children(process.pid)) < CONCURRENCY and time.monotonic() < deadline:
        time.sleep(0.3)
    time.sleep(2)
    return process


def drained(client: redis.Redis) -> bool:
    """Nothing waiting in the queue and nothing delivered but unacknowledged (the
    worker acknowledges late, after the task ran)."""
    return client.llen(QUEUE) == 0 and client.hlen("unacked") == 0


def wait_drained(client: redis.Redis, timeout: float = 3600) -> float:
    deadline = time.monotonic() + timeout
    while not drained(client):
        if time.monotonic() > deadline:
            raise RuntimeError("the worker did not drain the queue in time")
        time.sleep(0.05)
    return time.perf_counter()


def noop_throughput(client: redis.Redis, count: int) -> float:
    started = time.perf_counter()
    for i in range(count):
        noop.delay(i)
    finished = wait_drained(client)
    return count / (finished - started)


def reminder_throughput(client: redis.Redis, ids: list[int]) -> float:
    ScheduledJob.objects.filter(pk__in=ids).update(due_at=timezone.now() - timedelta(minutes=1))
    started = time.perf_counter()
    while True:
        handed_out = sweep_scheduled_work()  # what beat runs every 10 s, run back to back
        if handed_out == 0:
            break
    wait_drained(client)
    while ScheduledJob.objects.filter(pk__in=ids, state__in=(JobState.PENDING, JobState.QUEUED)).exists():
        time.sleep(0.05)
    finished = time.perf_counter()
    return len(ids) / (finished - started)


def run(*, repeats: int, noop_count: int | None, log, total: int | None = None) -> dict:
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    reminders = list(
        ScheduledJob.objects.filter(kind=JobKind.FEEDBACK_REMINDER, state=JobState.PENDING)
        .order_by("id")
        .values_list("id", flat=True)
    )
    # Only the slice being measured is due; other pending work waits.
    ScheduledJob.objects.filter(state=JobState.PENDING).update(due_at=timezone.now() + timedelta(days=30))
    slice_size = min(len(reminders), total or len(reminders)) // repeats
    noop_count = noop_count or slice_size
    worker = start_worker()
    sampler = Sampler(worker.pid)
    sampler.start()
    try:
        noop_throughput(client, min(2_000, noop_count))  # warm-up
        start_rss = sampler.total_mb()
        reminder_rates, noop_rates, rss_after = [], [], []
        for repeat in range(repeats):
            ids = reminders[repeat * slice_size : (repeat + 1) * slice_size]
            if repeat % 2 == 0:
                reminder_rates.append(reminder_throughput(client, ids))
                noop_rates.append(noop_throughput(client, noop_count))
            else:
                noop_rates.append(noop_throughput(client, noop_count))
                reminder_rates.append(reminder_throughput(client, ids))
            rss_after.append(sampler.total_mb())
            log(
                f"sweep: repeat {repeat + 1}: {reminder_rates[-1]:.0f} reminders/s, no-op {noop_rates[-1]:.0f}/s, "
                f"worker RSS {rss_after[-1]:.0f} MB"
            )
        pool_peaks = [peak_rss_mb(child) for child in children(worker.pid)]
        main_peak = peak_rss_mb(worker.pid)
    finally:
        sampler.stop.set()
        worker.terminate()
        worker.wait(timeout=60)
    outcomes = dict(
        ScheduledJob.objects.filter(pk__in=reminders[: slice_size * repeats])
        .order_by()
        .values_list("state")
        .annotate(count=Count("id"))
    )
    return {
        "reminders_per_second": spread(reminder_rates),
        "noop_per_second": spread(noop_rates),
        "ratio": ratios(reminder_rates, noop_rates),
        "reminders": slice_size * repeats,
        "due": len(reminders),
        "slice": slice_size,
        "noop_count": noop_count,
        "outcomes": outcomes,
        "rss_start_mb": start_rss,
        "rss_after_mb": rss_after,
        "peak_total_mb": sampler.peak_total_mb,
        "pool_peak_mb": pool_peaks,
        "main_peak_mb": main_peak,
        "concurrency": CONCURRENCY,
    }

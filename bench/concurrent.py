"""Figure 3: 8 clients ending distinct contracts at once through the service layer,
in 8 processes, against pgbench's built-in TPC-B-like transaction with 8 clients on
the same PostgreSQL server in the same run."""

import multiprocessing
import os
import re
import subprocess
import time
from urllib.parse import urlparse

from django.db import connections

from .stats import ratios, spread

CLIENTS = 8
PGBENCH_SCALE = 8


def _ender(batch, barrier, results):
    from django.contrib.auth import get_user_model

    from contracts.models import Contract
    from contracts.services import contract_end

    connections.close_all()  # a connection of its own, not the parent's
    users = get_user_model().objects.in_bulk([user_id for _, user_id in batch])
    contracts = Contract.objects.in_bulk([contract_id for contract_id, _ in batch])
    barrier.wait()
    started = time.perf_counter()
    for contract_id, user_id in batch:
        contract_end(contract=contracts[contract_id], by=users[user_id], reason="completed")
    results.put((started, time.perf_counter(), len(batch)))
    connections.close_all()


def ends_per_second(batches) -> float:
    context = multiprocessing.get_context("fork")
    connections.close_all()
    barrier = context.Barrier(len(batches))
    results = context.Queue()
    workers = [context.Process(target=_ender, args=(batch, barrier, results)) for batch in batches]
    for worker in workers:
        worker.start()
    outcome = [results.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
        if worker.exitcode:
            raise RuntimeError("an ending process failed")
    first = min(started for started, _, _ in outcome)
    last = max(finished for _, finished, _ in outcome)
    return sum(count for _, _, count in outcome) / (last - first)


def pgbench_env(database_url: str) -> tuple[list[str], dict]:
    url = urlparse(database_url)
    args = ["-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = url.password
    return args, env


def pgbench_init(database_url: str, database: str) -> None:
    args, env = pgbench_env(database_url)
    subprocess.run(
        ["psql", *args, "-d", "postgres", "-qc", f'DROP DATABASE IF EXISTS "{database}"'],  # noqa: S603,S607
        check=True,
        env=env,
        capture_output=True,
    )
    subprocess.run(
        ["psql", *args, "-d", "postgres", "-qc", f'CREATE DATABASE "{database}"'],
        check=True,
        env=env,  # noqa: S603,S607
        capture_output=True,
    )
    subprocess.run(
        ["pgbench", *args, "-i", "-q", "-s", str(PGBENCH_SCALE), database],
        check=True,
        env=env,  # noqa: S603,S607
        capture_output=True,
    )


def pgbench_tps(database_url: str, database: str, seconds: int) -> float:
    args, env = pgbench_env(database_url)
    result = subprocess.run(
        ["pgbench", *args, "-n", "-c", str(CLIENTS), "-j", "2", "-T", str(seconds), database],  # noqa: S603,S607
        check=True,
        env=env,
        capture_output=True,
        text=True,
    )
    return float(re.search(r"tps = ([\d.]+)", result.stdout).group(1))


def pgbench_version() -> str:
    result = subprocess.run(["pgbench", "--version"], capture_output=True, text=True, check=True)  # noqa: S603,S607
    return result.stdout.strip().removeprefix("pgbench (PostgreSQL) ")


def run(subjects: dict, *, repeats: int, pgbench_seconds: int, database_url: str, pgbench_db: str, log) -> dict:
    pool = list(subjects["concurrent"])
    per_client = len(pool) // (repeats * CLIENTS)
    if per_client < 1:
        raise RuntimeError("not enough open contracts for the concurrent ends")
    pgbench_init(database_url, pgbench_db)
    ends, tps = [], []
    for repeat in range(repeats):
        chunk = pool[repeat * per_client * CLIENTS : (repeat + 1) * per_client * CLIENTS]
        batches = [chunk[i::CLIENTS] for i in range(CLIENTS)]
        # Interleave: which one goes first alternates.
        if repeat % 2 == 0:
            ends.append(ends_per_second(batches))
            tps.append(pgbench_tps(database_url, pgbench_db, pgbench_seconds))
        else:
            tps.append(pgbench_tps(database_url, pgbench_db, pgbench_seconds))
            ends.append(ends_per_second(batches))
        log(f"concurrent: repeat {repeat + 1}: {ends[-1]:.1f} ends/s, pgbench {tps[-1]:.0f} tps")
    return {
        "ends_per_second": spread(ends),
        "pgbench_tps": spread(tps),
        "ratio": ratios(ends, tps),
        "ends_per_repeat": per_client * CLIENTS,
        "clients": CLIENTS,
        "pgbench_scale": PGBENCH_SCALE,
    }

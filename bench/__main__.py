"""``python -m bench``: a new database, migrated, the data set generated, the five
figures measured with their floors in the same run, and docs/benchmarks.md written.

Environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/contracts_portal_bench;
the database is dropped and created again), REDIS_URL (default redis://127.0.0.1:6379/5;
flushed), BENCH_PGBENCH_DB (default <database>_pgbench), BENCH_REPEATS (5),
BENCH_SCALE (1 = the full data set; less for a quick try), BENCH_PAGE_SECONDS (10),
BENCH_PGBENCH_SECONDS (10), BENCH_SWEEP_REMINDERS (10000: how many of the 100,000 due
reminders the sweep figure runs, in BENCH_REPEATS slices; each takes a worker's
time, see docs/benchmarks.md), BENCH_OUTPUT (docs/benchmarks.md).
"""

import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/contracts_portal_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/5")

ROOT = Path(__file__).resolve().parent.parent


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def recreate_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not name.startswith("contracts_portal_bench"):
        raise SystemExit(f"refusing to drop {name!r}: the bench database's name must start with contracts_portal_bench")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def main() -> int:
    started = time.perf_counter()
    url = os.environ["DATABASE_URL"]
    repeats = int(os.environ.get("BENCH_REPEATS", "5"))
    scale_factor = float(os.environ.get("BENCH_SCALE", "1"))
    page_seconds = int(os.environ.get("BENCH_PAGE_SECONDS", "10"))
    pgbench_seconds = int(os.environ.get("BENCH_PGBENCH_SECONDS", "10"))
    sweep_reminders = int(os.environ.get("BENCH_SWEEP_REMINDERS", "10000"))
    pgbench_db = os.environ.get("BENCH_PGBENCH_DB", urlparse(url).path.lstrip("/") + "_pgbench")
    output = Path(os.environ.get("BENCH_OUTPUT", ROOT / "docs" / "benchmarks.md"))

    log(f"database {urlparse(url).path.lstrip('/')}: dropped and created")
    recreate_database(url)

    import django

    django.setup()
    from django.core.management import call_command

    from . import concurrent, data, ending, pages, report, sweep

    migrate_started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_seconds = time.perf_counter() - migrate_started
    log(f"migrated in {migrate_seconds:.1f} s; generating the data set (scale {scale_factor})")

    scale = data.Scale.scaled(scale_factor)
    generated = data.generate(scale)
    log(f"data set in {generated['total_seconds']:.1f} s: {generated['counts']}")
    consistency = data.check_consistency()
    log(f"consistency: {consistency}")
    if any(consistency.values()):
        raise SystemExit(f"the generated data set is inconsistent: {consistency}")
    subjects = generated["subjects"]

    results = {}
    log("figure 1 and 5: pages")
    results["pages"] = pages.run(subjects, repeats=repeats, seconds=page_seconds, connections=4, log=log)
    log("figure 2: end-contract cost")
    results["ending"] = ending.run(subjects, repeats=repeats, log=log)
    log("figure 3: concurrent ends")
    results["concurrent"] = concurrent.run(
        subjects, repeats=repeats, pgbench_seconds=pgbench_seconds, database_url=url, pgbench_db=pgbench_db, log=log
    )
    log("figure 4: sweep")
    results["sweep"] = sweep.run(repeats=repeats, noop_count=None, log=log, total=sweep_reminders)

    total_seconds = time.perf_counter() - started
    text = report.render(
        results=results,
        generated=generated,
        consistency=consistency,
        scale=scale,
        scale_factor=scale_factor,
        repeats=repeats,
        page_seconds=page_seconds,
        pgbench_seconds=pgbench_seconds,
        migrate_seconds=migrate_seconds,
        total_seconds=total_seconds,
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    log(f"wrote {output} ({total_seconds / 60:.1f} min in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

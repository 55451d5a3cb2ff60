"""docs/benchmarks.md from one run's results."""

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from .stats import Spread

HERE = Path(__file__).resolve().parent

TARGETS = {
    "pages": 0.5,
    "end_ratio": 1.5,
    "concurrent": 0.25,
    "sweep": 0.5,
    "web_rss_mb": 150,
}


def machine() -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    return {
        "cores": str(os.cpu_count()),
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "cpu": cpu,
        "os": f"{platform.system()} {platform.release()}",
    }


def versions() -> dict[str, str]:
    import celery
    import django
    import kombu
    import psycopg
    import redis
    from django.conf import settings
    from django.db import connection

    from .concurrent import pgbench_version
    from .pages import gunicorn_version, wrk_version

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    redis_server = redis.Redis.from_url(settings.CELERY_BROKER_URL).info("server")["redis_version"]
    return {
        "Python": sys.version.split()[0],
        "Django": django.get_version(),
        "PostgreSQL": postgres,
        "pgbench": pgbench_version(),
        "Redis": redis_server,
        "Celery / kombu": f"{celery.__version__} / {kombu.__version__}",
        "redis-py": redis.__version__,
        "psycopg": psycopg.__version__,
        "gunicorn": gunicorn_version(),
        "wrk": wrk_version(),
    }


def git_commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,  # noqa: S603,S607
        cwd=HERE.parent,
    )
    return result.stdout.strip() or "unknown"


def met(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def raw(spread: Spread, digits: int = 1) -> str:
    return ", ".join(f"{v:,.{digits}f}" for v in spread.values)


def render(
    *,
    results,
    generated,
    consistency,
    scale,
    scale_factor,
    repeats,
    page_seconds,
    pgbench_seconds,
    migrate_seconds,
    total_seconds,
) -> str:
    now = datetime.now(UTC)
    info = machine()
    vers = versions()
    pages = results["pages"]["figures"]
    paths = results["pages"]["paths"]
    web_peak = max(results["pages"]["worker_peak_rss_mb"] or [0])
    ending = results["ending"]
    conc = results["concurrent"]
    sweep = results["sweep"]

    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench`); do not edit by hand: the before/after notes come from "
        "`bench/fixes.md`. Every figure is measured against a floor of the portal's own stack in the same run, "
        f"repeated {repeats} times with portal and floor interleaved; each cell is the **median (min–max)** "
        "over the repeats, and a ratio is computed per repeat (portal and floor of the same repeat) before "
        "taking its median.",
        "",
        f"- Date: {now:%Y-%m-%d %H:%M} UTC; commit {git_commit()}; `make bench` took {total_seconds / 60:.1f} min "
        "end to end (database, migrations, data set, five figures).",
        f"- Machine: {info['cores']} cores, {info['memory']} RAM, {info['cpu']}, {info['os']}. Other engineers' "
        "test suites ran on the same machine, so absolute figures are noisy; the ratios are what is compared.",
        "- Versions: " + "; ".join(f"{k} {v}" for k, v in vers.items()) + ".",
    ]
    if scale_factor < 1:
        lines.append(f"- **Reduced data set** (BENCH_SCALE={scale_factor}): not the full figures.")
    lines += [
        "",
        "## Summary",
        "",
        "| # | figure | portal | floor | ratio | target | |",
        "|---|---|---|---|---|---|---|",
    ]
    for number, (name, label) in enumerate((("my_jobs", "My Jobs"), ("contract", "contract page")), start=1):
        fig = pages[name]
        lines.append(
            f"| 1{'ab'[number - 1]} | {label} throughput (req/s) | {fig['rps'].fmt()} | "
            f"{pages['floor']['rps'].fmt()} | {fig['ratio'].fmt(2)} | ≥ {TARGETS['pages']} × floor | "
            f"{met(fig['ratio'].median >= TARGETS['pages'])} |"
        )
    for sub, (name, fig) in zip("ab", ending.items(), strict=True):
        same = fig["small_queries"] == fig["large_queries"] and len(fig["small_queries"]) == 1
        ok = fig["ratio"].median <= TARGETS["end_ratio"] and same
        lines.append(
            f"| 2{sub} | end {name} contract, {fig['label']} (ms; queries) | {fig['large_ms'].fmt()}; "
            f"{'/'.join(map(str, fig['large_queries']))} q | {fig['small_ms'].fmt()}; "
            f"{'/'.join(map(str, fig['small_queries']))} q | {fig['ratio'].fmt(2)} | ≤ {TARGETS['end_ratio']}, "
            f"queries equal | {met(ok)} |"
        )
    lines.append(
        f"| 3 | concurrent ends, {conc['clients']} clients (ends/s) | {conc['ends_per_second'].fmt()} | "
        f"pgbench TPC-B {conc['pgbench_tps'].fmt(0)} tps | {conc['ratio'].fmt(3)} | ≥ {TARGETS['concurrent']} | "
        f"{met(conc['ratio'].median >= TARGETS['concurrent'])} |"
    )
    lines.append(
        f"| 4 | sweep: due reminders, one worker (per s) | {sweep['reminders_per_second'].fmt(0)} | "
        f"no-op task {sweep['noop_per_second'].fmt(0)} | {sweep['ratio'].fmt(3)} | ≥ {TARGETS['sweep']}, "
        f"flat memory | {met(sweep['ratio'].median >= TARGETS['sweep'])} |"
    )
    lines.append(
        f"| 5 | peak RSS of a web worker (MB) | {web_peak:.0f} | | | < {TARGETS['web_rss_mb']} MB | "
        f"{met(web_peak < TARGETS['web_rss_mb'])} |"
    )

    counts = generated["counts"]
    lines += [
        "",
        "## Data set",
        "",
        f"Generated in **{generated['total_seconds']:.1f} s** (target < 300 s on 2 cores): rows computed in "
        f"Python in {generated['build_seconds']:.1f} s, loaded with one `COPY` per table in "
        f"{generated['load_seconds']:.1f} s, `ANALYZE` {generated['analyze_seconds']:.1f} s "
        f"(migrations before it: {migrate_seconds:.1f} s). Command: `python -m bench` runs it; "
        "`bench/data.py` is the generator.",
        "",
        "| table | rows |",
        "|---|---|",
    ]
    lines += [f"| `{table}` | {rows:,} |" for table, rows in counts.items()]
    lines += [
        "",
        "What is in it: 10,000 users; 100,000 contracts, half hourly and half fixed-price, in every state "
        "(active, paused, ending with notice running, ended by a party, by mutual agreement and at the end of "
        "notice, each with `ended_at`, `end_kind`, `end_reason` and a state-change row); work diaries inside "
        "their contracts' dates, invoiced in chunks with one payment per invoice (ended contracts fully "
        "invoiced, open ones with a few unbilled entries); milestones pending, funded, submitted, released, "
        "refunded or cancelled, with their escrow movements; ~10% of payments refunded once or twice, never "
        "beyond the payment, with the fees returned pro rata; every payment, refund and escrow movement with "
        "its balanced double-entry ledger transaction; feedback from both parties on older ended contracts; "
        f"{generated['subjects']['reminders']:,} due feedback reminders (both parties of the most recently "
        "ended contracts, some of whom have left feedback, so the sweep both sends and skips).",
        "",
        "Special subjects: `bench_heavy`, a user with 500 contracts (My Jobs); a contract with "
        f"{scale.page_diary_entries:,} diary entries and {scale.page_payments} payments (contract page); "
        f"{scale.end_pairs} pairs of each end-cost subject; {scale.concurrent_contracts:,} open hourly contracts "
        "for the concurrent ends.",
        "",
        "The triggers that guard the live database (diary lock, append-only tables, balanced ledger, refund ≤ "
        "payment) and the foreign-key triggers are switched off **for the load only** with "
        "`SET session_replication_role = replica`, so the rows load with `COPY` alone, without a trigger call "
        "per row; right after, SQL checks what they guard, and `make bench` stops if any is violated:",
        "",
        "| check | violations |",
        "|---|---|",
    ]
    lines += [f"| {label} | {count} |" for label, count in consistency.items()]
    achievable = "the feedback table holds one row per party of an ended contract"
    lines += [
        "",
        f"Feedback rows: {counts['contracts_feedback']:,} of the 200,000 asked for: {achievable} (at most "
        "2 × the ~86,000 ended contracts), and the 50,000 most recently ended contracts are the ones still "
        "waiting for feedback, whose reminders the sweep figure runs.",
    ]

    lines += [
        "",
        "## 1. Pages (gunicorn + wrk)",
        "",
        f"gunicorn {vers['gunicorn']}, {results['pages'].get('workers', 2)} sync workers, `bench.settings` "
        f"(DEBUG off); wrk in its own process on 127.0.0.1, 1 thread, 4 connections, {page_seconds} s per run, "
        "the session cookie of a signed-in user. Floor: `bench/floor/`, a `login_required` view rendering a "
        "template from `request.user`, served by the same gunicorn in the same run (bench urls only).",
        "",
        "| page | path | req/s | p50 ms | p99 ms | ratio to floor | SQL queries (large / small subject) |",
        "|---|---|---|---|---|---|---|",
        f"| floor | `{paths['floor']}` | {pages['floor']['rps'].fmt()} | {pages['floor']['p50_ms'].fmt()} | "
        f"{pages['floor']['p99_ms'].fmt()} | 1 | |",
    ]
    for name in ("my_jobs", "contract"):
        fig = pages[name]
        q = fig["queries"]
        lines.append(
            f"| {name.replace('_', ' ')} | `{paths[name]}` | {fig['rps'].fmt()} | {fig['p50_ms'].fmt()} | "
            f"{fig['p99_ms'].fmt()} | {fig['ratio'].fmt(2)} | {q['large']} / {q['small']} |"
        )
    lines += [
        "",
        "Per repeat (req/s): floor "
        + raw(pages["floor"]["rps"])
        + "; My Jobs "
        + raw(pages["my_jobs"]["rps"])
        + "; contract "
        + raw(pages["contract"]["rps"])
        + ".",
        "",
        "The query counts are taken in-process with the test client for the large subject (500 contracts; "
        "20,000 diary entries and 500 payments) and for a user with one small contract: equal counts mean "
        "the queries do not grow with the data (`tests/contracts/test_page_queries.py` checks the same).",
        "",
        "## 2. End-contract cost",
        "",
        "`contract_end` called in-process, one contract per repeat, small and large alternating first; wall "
        "time of the service call and its SQL queries (CaptureQueriesContext). Hourly: the client ends; both "
        "contracts have the same 3 unbilled entries, the long one's other 19,997 were invoiced week by week "
        "(500 invoices and payments). Fixed-price: the freelancer ends; one funded milestone returned to the "
        "client in both, the large one has 199 paid milestones besides.",
        "",
        "| pair | small ms | large ms | ratio large/small | queries small | queries large |",
        "|---|---|---|---|---|---|",
    ]
    for name, fig in ending.items():
        lines.append(
            f"| {name}: {fig['label']} | {fig['small_ms'].fmt()} | {fig['large_ms'].fmt()} | "
            f"{fig['ratio'].fmt(2)} | {', '.join(map(str, fig['small_queries']))} | "
            f"{', '.join(map(str, fig['large_queries']))} |"
        )
    lines += [
        "",
        "## 3. Concurrent ends",
        "",
        f"{conc['clients']} processes, each a client ending its own contracts through `contract_end` "
        f"({conc['ends_per_repeat']} distinct open hourly contracts per repeat, each with unbilled time to "
        "invoice), started together on a barrier; ends per second from the first start to the last finish. "
        f"Floor: `pgbench -c {conc['clients']} -j 2 -T {pgbench_seconds}` (built-in TPC-B-like script, scale "
        f"{conc['pgbench_scale']}) on its own database of the same server, alternating with the ends.",
        "",
        "| | median (min–max) | per repeat |",
        "|---|---|---|",
        f"| ends/s | {conc['ends_per_second'].fmt()} | {raw(conc['ends_per_second'])} |",
        f"| pgbench tps | {conc['pgbench_tps'].fmt(0)} | {raw(conc['pgbench_tps'], 0)} |",
        f"| ratio | {conc['ratio'].fmt(3)} | {raw(conc['ratio'], 3)} |",
        "",
        "## 4. Sweep throughput",
        "",
        f"One Celery worker (prefork, concurrency {sweep['concurrency']}) on Redis. Each repeat makes "
        f"{sweep['slice']:,} of the due reminders due, runs the beat sweep (`sweep_scheduled_work`) back to "
        "back until it hands out nothing, and times until every job is finished and the queue is drained "
        "(reminder jobs and the e-mail deliveries they queue, acknowledged late). Floor: "
        f"{sweep['noop_count']:,} no-op tasks (`bench.noop`, same message shape) sent and drained on the "
        f"same worker, alternating with the reminders. {sweep['reminders']:,} reminders run in all "
        f"(`BENCH_SWEEP_REMINDERS`), out of the {sweep.get('due', sweep['reminders']):,} due in the table "
        "throughout (the sweep's claiming query runs against all of them; running every one takes this worker "
        "over an hour at the rate below); outcomes: "
        + ", ".join(f"{state} {count:,}" for state, count in sweep["outcomes"].items())
        + " (skipped: the recipient had left feedback).",
        "",
        "| | median (min–max) | per repeat |",
        "|---|---|---|",
        f"| reminders/s | {sweep['reminders_per_second'].fmt(0)} | {raw(sweep['reminders_per_second'], 0)} |",
        f"| no-op tasks/s | {sweep['noop_per_second'].fmt(0)} | {raw(sweep['noop_per_second'], 0)} |",
        f"| ratio | {sweep['ratio'].fmt(3)} | {raw(sweep['ratio'], 3)} |",
        "",
        f"Worker memory (main + {sweep['concurrency']} pool processes): {sweep['rss_start_mb']:.0f} MB after "
        "warm-up, after each repeat "
        + ", ".join(f"{v:.0f}" for v in sweep["rss_after_mb"])
        + f" MB; peak {sweep['peak_total_mb']:.0f} MB in all (sampled every 0.2 s). Peak RSS per process: "
        f"main {sweep['main_peak_mb']:.0f} MB, pool " + ", ".join(f"{v:.0f}" for v in sweep["pool_peak_mb"]) + " MB.",
        "",
        "## 5. Memory of the web workers",
        "",
        "Peak RSS (VmHWM) of each gunicorn worker after serving every page run of figure 1: "
        + ", ".join(f"{v:.0f} MB" for v in results["pages"]["worker_peak_rss_mb"])
        + f" (target < {TARGETS['web_rss_mb']} MB).",
        "",
    ]
    fixes = HERE / "fixes.md"
    if fixes.exists():
        lines += [fixes.read_text().rstrip(), ""]
    return "\n".join(lines)

"""Figure 1 and 5: My Jobs and the contract page served by gunicorn and loaded with
wrk, against the floor view on the same server in the same run; the peak RSS of the
web workers; SQL queries per page, small and large."""

import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts.models import Contract

from . import data
from .stats import children, peak_rss_mb, ratios, spread

ROOT = Path(__file__).resolve().parent.parent
HOST, PORT = "127.0.0.1", 8765
WORKERS = 2
WSGI_APP = "bench.wsgi:application"
GUNICORN_EXTRA: list[str] = []


def signed_in(username: str) -> tuple[Client, str]:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client, client.cookies["sessionid"].value


def _all_my_jobs() -> str:
    return reverse("my_jobs") + "?status=all"


def targets(subjects: dict) -> dict[str, tuple[str, str]]:
    """name → (path, username)."""
    return {
        "floor": (reverse("bench_floor"), data.HEAVY_USER),
        "my_jobs": (_all_my_jobs(), data.HEAVY_USER),
        "contract": (reverse("contract_detail", args=[subjects["page_contract"]]), data.PAGE_USER),
    }


def query_counts(subjects: dict) -> dict[str, dict[str, int]]:
    """Queries of each page for the large subject and for a user with few contracts:
    equal means constant (the query-count tests check the same on small data)."""
    small_user = (
        Contract.objects.filter(kind="hourly", state="active")
        .exclude(pk=subjects["page_contract"])
        .order_by("id")
        .values_list("client__username", "id")[:1]
    )[0]
    pages = {
        "my_jobs": [(_all_my_jobs(), data.HEAVY_USER), (_all_my_jobs(), small_user[0])],
        "contract": [
            (reverse("contract_detail", args=[subjects["page_contract"]]), data.PAGE_USER),
            (reverse("contract_detail", args=[small_user[1]]), small_user[0]),
        ],
    }
    counts = {}
    for name, ((large_url, large_user), (small_url, small_user_name)) in pages.items():
        row = {}
        for label, url, username in (("large", large_url, large_user), ("small", small_url, small_user_name)):
            client, _ = signed_in(username)
            assert client.get(url).status_code == 200, url
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
            assert response.status_code == 200, url
            row[label] = len(captured)
        counts[name] = row
    return counts


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed: make bench installs it (apt-get install -y wrk)")
    return found


def wrk_version() -> str:
    result = subprocess.run([wrk_binary(), "-v"], capture_output=True, text=True, check=False)  # noqa: S603,S607
    first = (result.stdout + result.stderr).strip().splitlines()[0]
    return first.split(" Copyright")[0].removeprefix("wrk ")


def parse_wrk(output: str) -> dict[str, float]:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    if bad or errors:
        raise RuntimeError(f"wrk saw failed requests:\n{output}")
    return {
        "rps": rps,
        "p99_ms": float(p99.group(1)) * scale[p99.group(2)],
        "p50_ms": float(p50.group(1)) * scale[p50.group(2)],
    }


def run_wrk(path: str, session: str, *, seconds: int, connections: int) -> dict[str, float]:
    command = [
        wrk_binary(),
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "10s",
        "-H",
        f"Cookie: sessionid={session}",
        f"http://{HOST}:{PORT}{path}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603,S607
    return parse_wrk(result.stdout)


def start_gunicorn() -> subprocess.Popen:
    env_python = Path(sys.executable).parent
    process = subprocess.Popen(  # noqa: S603,S607
        [
            str(env_python / "gunicorn"),
            WSGI_APP,
            *GUNICORN_EXTRA,
            "--bind",
            f"{HOST}:{PORT}",
            "--workers",
            str(WORKERS),
            "--worker-class",
            "sync",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://{HOST}:{PORT}/accounts/login/", timeout=2)  # noqa: S310
            return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError("gunicorn did not start")


def gunicorn_version() -> str:
    import gunicorn

    return gunicorn.__version__


def run(subjects: dict, *, repeats: int, seconds: int, connections: int, log) -> dict:
    pages = targets(subjects)
    sessions = {name: signed_in(username)[1] for name, (_, username) in pages.items()}
    counts = query_counts(subjects)
    log(f"pages: queries per page {counts}")
    server = start_gunicorn()
    try:
        for name, (path, _) in pages.items():  # warm-up: imports, templates, caches
            run_wrk(path, sessions[name], seconds=2, connections=connections)
        results = {name: [] for name in pages}
        order = list(pages)
        for repeat in range(repeats):
            for name in order:
                result = run_wrk(pages[name][0], sessions[name], seconds=seconds, connections=connections)
                results[name].append(result)
                log(f"pages: repeat {repeat + 1} {name}: {result['rps']:.1f} req/s, p99 {result['p99_ms']:.1f} ms")
            order = order[1:] + order[:1]  # interleave: each page goes first in turn
        worker_peaks = [peak_rss_mb(pid) for pid in children(server.pid)]
    finally:
        server.terminate()
        server.wait(timeout=30)
    floor_rps = [r["rps"] for r in results["floor"]]
    figures = {}
    for name in ("my_jobs", "contract"):
        rps = [r["rps"] for r in results[name]]
        figures[name] = {
            "rps": spread(rps),
            "p99_ms": spread(r["p99_ms"] for r in results[name]),
            "p50_ms": spread(r["p50_ms"] for r in results[name]),
            "ratio": ratios(rps, floor_rps),
            "queries": counts[name],
        }
    figures["floor"] = {
        "rps": spread(floor_rps),
        "p99_ms": spread(r["p99_ms"] for r in results["floor"]),
        "p50_ms": spread(r["p50_ms"] for r in results["floor"]),
    }
    return {
        "figures": figures,
        "worker_peak_rss_mb": worker_peaks,
        "paths": {k: v[0] for k, v in pages.items()},
        "workers": WORKERS,
    }

"""Figure 2: the cost of ending a contract does not grow with its history. An hourly
contract with 10 diary entries against one with 20,000 (the same unbilled time: the
rest was invoiced week by week), a fixed-price contract with 1 milestone against one
with 200 (one funded, the others paid): wall time and SQL queries of ``contract_end``."""

import time

from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts.models import Contract
from contracts.services import contract_end

from .stats import ratios, spread


def end_once(contract_id: int, user_id: int) -> tuple[float, int]:
    user = get_user_model().objects.get(pk=user_id)
    contract = Contract.objects.get(pk=contract_id)
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        contract_end(contract=contract, by=user, reason="completed")
        elapsed = time.perf_counter() - started
    return elapsed * 1000, len(captured)


def run(subjects: dict, *, repeats: int, log) -> dict:
    warm_id, warm_user = subjects["concurrent"].pop()
    end_once(warm_id, warm_user)  # imports and caches, outside the figure
    pairs = {
        "hourly": ("end_hourly_small", "end_hourly_large", "10 vs 20,000 diary entries"),
        "fixed": ("end_fixed_small", "end_fixed_large", "1 vs 200 milestones"),
    }
    figures = {}
    for name, (small_key, large_key, label) in pairs.items():
        times = {"small": [], "large": []}
        queries = {"small": set(), "large": set()}
        for repeat in range(min(repeats, len(subjects[small_key]))):
            order = ("small", "large") if repeat % 2 == 0 else ("large", "small")
            for size in order:
                contract_id, user_id = subjects[small_key if size == "small" else large_key][repeat]
                elapsed_ms, count = end_once(contract_id, user_id)
                times[size].append(elapsed_ms)
                queries[size].add(count)
                log(f"end {name} {size} #{contract_id}: {elapsed_ms:.1f} ms, {count} queries")
        figures[name] = {
            "label": label,
            "small_ms": spread(times["small"]),
            "large_ms": spread(times["large"]),
            "ratio": ratios(times["large"], times["small"]),
            "small_queries": sorted(queries["small"]),
            "large_queries": sorted(queries["large"]),
        }
    return figures

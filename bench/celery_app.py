"""The portal's own Celery app (settings from DJANGO_SETTINGS_MODULE, bench.settings
here) with one bench-only task: a no-op, the floor of the worker's throughput."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from contracts_portal.celery import app  # noqa: E402

__all__ = ("app", "noop")


@app.task(name="bench.noop")
def noop(job_id: int) -> None:
    """Does nothing with its argument: the same message shape as ``run_job``."""
    return None

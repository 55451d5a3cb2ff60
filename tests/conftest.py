import os
import shutil

import pytest
from django.db import connection

pytest_plugins = ["tests.fixtures.people", "tests.fixtures.contracts", "tests.fixtures.workers"]

ON_CI = bool(os.environ.get("CI"))
CHROMIUM = "/usr/bin/chromium"


def _on_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def pytest_configure(config):
    if ON_CI and not _on_postgres():
        raise pytest.UsageError("CI runs the suite on PostgreSQL: set DATABASE_URL to a postgres:// URL.")
    if ON_CI and not shutil.which(CHROMIUM):
        raise pytest.UsageError(f"CI runs the browser tests: {CHROMIUM} is missing (apt-get install chromium).")


def pytest_collection_modifyitems(config, items):
    """Away from CI, tests that need PostgreSQL or Chromium are skipped with the reason;
    on CI the checks in ``pytest_configure`` make a missing one a failure instead."""
    if ON_CI:
        return
    needs_postgres = pytest.mark.skipif(not _on_postgres(), reason="needs DATABASE_URL on PostgreSQL")
    needs_chromium = pytest.mark.skipif(not shutil.which(CHROMIUM), reason=f"needs {CHROMIUM}")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(needs_postgres)
        if "browser" in item.keywords:
            item.add_marker(needs_chromium)


@pytest.fixture
def on_postgres():
    assert connection.vendor == "postgresql"

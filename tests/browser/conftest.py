import os

import pytest

from tests.factories import PASSWORD
from tests.fixtures.browser import submit_sign_in

# Playwright's sync API runs an event loop in this thread; the tests' own ORM calls
# are still synchronous, so Django's async-safety check is lifted here only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium: browsers cannot be downloaded on this machine kind."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def signed_in(page, live_server):
    """``signed_in(username, password=PASSWORD)``: the sign-in form sent from this test's
    page; whether it let the person in is the test's to check."""

    def submit(username: str, password: str = PASSWORD):
        return submit_sign_in(page, live_server, username, password)

    return submit

"""Settings of the storm's child processes (tests/reliability/storm_worker.py): the test
settings against the pytest test database (``DATABASE_URL`` set by the parent), with
e-mails written to files in ``STORM_EMAIL_DIR`` so the parent can count what reached
the mail backend. Tasks stay eager: a request's follow-up work (closure checklist,
feedback request) runs in the process that committed it, and the sweeper processes
run the beat sweep, which hands due jobs to ``run_job`` in the same process."""

import os

from contracts_portal.settings.test import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ.get("STORM_EMAIL_DIR", "/tmp/contracts-portal-storm-mail")
ALLOWED_HOSTS = ["testserver"]
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"handlers": [], "level": "CRITICAL"}}

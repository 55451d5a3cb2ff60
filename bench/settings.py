"""Settings for the benchmarks: the portal's own settings, served as in production
(no debug), with the floor view's urls and a bench-only template folder."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/contracts_portal_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/5")
# Persistent connections, as docker-compose deploys the web server and the worker.
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")

from contracts_portal.settings.base import *  # noqa: E402,F403
from contracts_portal.settings.base import BASE_DIR, TEMPLATES  # noqa: E402

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "bench.urls"
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "bench" / "templates"]
# Mail goes through Django's backend as in production, to nowhere: the console
# backend would measure the terminal, locmem would keep every message in memory.
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

"""Settings of the worker subprocess in tests/automation/test_worker_crash.py: the test
settings, with tasks sent to the broker (not run eagerly), e-mails written to files
in ``AUTOMATION_EMAIL_DIR`` and work held by a dead worker handed out again quickly."""

import os

from contracts_portal.settings.test import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_EAGER_PROPAGATES = False
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ.get("AUTOMATION_EMAIL_DIR", "/tmp/contracts-portal-worker-mail")
JOB_REQUEUE_AFTER_SECONDS = 3
EMAIL_CLAIM_STALE_SECONDS = 3

from .base import *  # noqa: F403

DEBUG = False
# The test settings' own key, never used outside the tests.
SECRET_KEY = "test-only-secret-key"  # nosec B105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True

# django-axes refuses authenticate() calls without a request (Client.login, a form
# built without one); the tests of the lockout (tests/reliability) switch it on.
AXES_ENABLED = False
# Throttling of the other account forms (allauth's rate limits) likewise: the tests of
# the throttling (tests/accounts) switch the limits of base.py back on. Each process
# keeps its own cache, so runs in parallel never share a count.
ACCOUNT_RATE_LIMITS = False
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Tasks run in the test process when their transaction commits; the tests of the
# real worker (tests/automation) switch this off and use Redis.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

# Off, as in production and whatever the environment says: the tests of the demo
# (seed_demo, the home page's demo table) switch it on with a settings override.
PORTAL_DEMO_MODE = False

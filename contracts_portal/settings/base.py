"""Settings shared by every environment, read from environment variables.

With no variable set the portal runs on embedded defaults: SQLite in the project
folder and a Celery broker kept in a SQLite file, so a new machine needs no server.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

from .policy import *  # noqa: F403

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure-local-only-key-change-me")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "pgtrigger",
    "axes",
    "csp",
    "allauth",
    "allauth.account",
    "accounts",
    "contracts",
    "billing",
    "offers",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "contracts_portal.middleware.UserTimezoneMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "contracts_portal.urls"
WSGI_APPLICATION = "contracts_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "contracts.context_processors.notifications",
                "contracts.context_processors.policy",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # make run has the web server and a worker writing at once: wait for the lock
    # rather than fail, and let readers go on while one writes.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First: refuses every sign-in attempt of a locked-out client before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend (permissions too), signing in by username or e-mail address.
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "login"

# Sign-in throttling (django-axes, two limits: contracts/throttling.py). Failed sign-ins
# count for AXES_COOLOFF_TIME, right password or not:
# - SIGN_IN_FAILURE_LIMIT_PER_USERNAME failures to one username from one IP address
#   refuse that username from that address. Locking the pair, not the username, keeps a
#   stranger from locking someone else out from another network.
# - SIGN_IN_FAILURE_LIMIT_PER_ADDRESS failures from one address, whatever the usernames,
#   refuse every sign-in from it: one password sprayed over many usernames is slowed
#   too. Higher, so an office behind one NAT address is not locked out by a few typos.
# A lock lifts once the failures that reached its limit are older than the cool-off
# (attempts while locked out are not counted and do not extend it), so the time the
# page promises holds. A successful sign-in clears only its own username's failures
# from its own address.
AXES_ENABLED = True
SIGN_IN_FAILURE_LIMIT_PER_USERNAME = 5
SIGN_IN_FAILURE_LIMIT_PER_ADDRESS = 30
AXES_HANDLER = "contracts.throttling.SignInAttemptsHandler"
AXES_FAILURE_LIMIT = "contracts.throttling.failure_limit"
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "contracts.views.accounts.locked_out"
# One count per account whether the person types its username or its e-mail address.
AXES_USERNAME_CALLABLE = "contracts.throttling.sign_in_username"
AXES_VERBOSE = False
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Accounts (django-allauth 65, its account part only; accounts/ and contracts/account_adapter.py).
# - Sign-up asks for a username, an e-mail address and a password (Django's validators
#   above), and sends a link to verify the address; the account is made at once, but
#   the sign-up ends on "check your inbox", not signed in. An address already
#   registered gets the same answer and its owner an e-mail saying so: the form never
#   tells whether an address is registered (ACCOUNT_PREVENT_ENUMERATION, which allauth
#   can keep at sign-up only with ACCOUNT_EMAIL_VERIFICATION = "mandatory").
# - Signing in does not wait for the verification (the adapter's login stage): an
#   unverified account may sign in and look around, but may not send offers
#   (accounts.verification.email_is_verified).
# - Sign-in by username or e-mail address; the links e-mailed (verification, password
#   reset) expire; every account e-mail goes through the portal's outbox.
ACCOUNT_ADAPTER = "contracts.account_adapter.PortalAccountAdapter"
ACCOUNT_FORMS = {
    "login": "contracts.forms.accounts.SignInForm",
    "signup": "contracts.forms.accounts.SignUpForm",
    "reset_password": "contracts.forms.accounts.PasswordResetRequestForm",  # nosec B105: a form
    "add_email": "contracts.forms.accounts.NewEmailForm",
}
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True  # one address per account: a new one replaces it once verified
ACCOUNT_EMAIL_CONFIRMATION_HMAC = True  # the link carries the address, signed; used once, it is refused
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = EMAIL_VERIFICATION_LINK_DAYS  # noqa: F405
ACCOUNT_CONFIRM_EMAIL_ON_GET = False  # opening the link shows a button: mail scanners that fetch it verify nothing
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_REAUTHENTICATION_METHODS = ("password",)  # no sign-in codes by e-mail
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_NOTIFICATIONS = True  # "your password was changed" and the like, to the account's address
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_USERNAME_MIN_LENGTH = 3
ACCOUNT_USERNAME_VALIDATORS = "accounts.usernames.USERNAME_VALIDATORS"
ACCOUNT_USERNAME_BLACKLIST = ["admin", "administrator", "support", "staff", "portal", "root", "system"]
PASSWORD_RESET_TIMEOUT = 60 * 60 * PASSWORD_RESET_LINK_HOURS  # noqa: F405 - and once: it dies with the password

# Throttling of the account forms besides sign-in (allauth's rate limits, kept in the
# cache below; the 429 page says which limit was reached and when it lifts:
# contracts.views.accounts.too_many_requests). Sign-in itself is throttled by
# django-axes above, so allauth's own sign-in limits are off.
SIGN_UP_LIMIT_PER_ADDRESS = 10  # sign-up forms posted from one IP address per window
PASSWORD_RESET_LIMIT_PER_ADDRESS = 10  # reset requests from one IP address per window
PASSWORD_RESET_LIMIT_PER_EMAIL = 3  # reset e-mails to one address per window
ACCOUNT_THROTTLE_WINDOW = "15m"  # as long as a sign-in lockout (AXES_COOLOFF_TIME)
ACCOUNT_RATE_LIMITS = {
    "login": None,
    "login_failed": None,
    "signup": f"{SIGN_UP_LIMIT_PER_ADDRESS}/{ACCOUNT_THROTTLE_WINDOW}/ip",
    "reset_password": (
        f"{PASSWORD_RESET_LIMIT_PER_ADDRESS}/{ACCOUNT_THROTTLE_WINDOW}/ip,"
        f"{PASSWORD_RESET_LIMIT_PER_EMAIL}/{ACCOUNT_THROTTLE_WINDOW}/key"
    ),
    "reset_password_from_key": f"20/{ACCOUNT_THROTTLE_WINDOW}/ip",
    "change_password": "5/m/user",  # nosec B105: a rate
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
    # A new verification link for one address at most every 3 minutes; the earlier link still works.
    "confirm_email": "1/3m/key",
}

# The rate limits above need one cache for every web process: Redis when there is one
# (docker compose, production), else the process's memory (make run serves one process).
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": "portal",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Content-Security-Policy (django-csp 4): scripts, styles, images and requests only
# from this site; no inline script or style, no plugins, no framing, forms post here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "portal@contracts.localhost")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 30

REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or f"sqla+sqlite:///{BASE_DIR / 'celery-broker.sqlite3'}"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
}

# Scheduled work (contracts.tasks): how often beat sweeps due jobs, how many a
# sweep hands out per batch, and when a job or e-mail held by a worker that died
# is handed out again.
JOB_SWEEP_INTERVAL_SECONDS = int(os.environ.get("JOB_SWEEP_INTERVAL_SECONDS", "10"))
JOB_SWEEP_BATCH_SIZE = 500
JOB_REQUEUE_AFTER_SECONDS = int(os.environ.get("JOB_REQUEUE_AFTER_SECONDS", "300"))
JOB_MAX_ATTEMPTS = 5
EMAIL_CLAIM_STALE_SECONDS = int(os.environ.get("EMAIL_CLAIM_STALE_SECONDS", "600"))
EMAIL_RESEND_UNSENT_AFTER_SECONDS = int(os.environ.get("EMAIL_RESEND_UNSENT_AFTER_SECONDS", "60"))
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")

# Demo mode: the demo accounts (one published password, contracts/demo.py) may be
# loaded (manage.py seed_demo) and are listed on the home page. Off unless a settings
# module or PORTAL_DEMO_MODE=1 turns it on: local settings (make run) do; production
# does not, and the accounts must never exist on a real deployment.
PORTAL_DEMO_MODE = env_bool("PORTAL_DEMO_MODE", False)

from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE = {
    "sweep-scheduled-work": {
        "task": "contracts.tasks.sweep_scheduled_work",
        "schedule": float(JOB_SWEEP_INTERVAL_SECONDS),
    },
    "invoice-hourly-weeks": {
        "task": "contracts.tasks.schedule_weekly_invoices",
        "schedule": crontab(minute=0, hour=HOURLY_WEEK_INVOICE_HOUR_UTC, day_of_week="mon"),  # noqa: F405
    },
}

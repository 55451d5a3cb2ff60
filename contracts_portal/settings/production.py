"""Production settings: everything comes from the environment.

Database roles (PostgreSQL; contracts_portal/db_roles.py). The portal's processes and
its migrations connect as different roles, so that no running process can change the
money and history rows, whatever it sends to the database:

- ``DATABASE_URL`` is the connection of this process. For the web app, the Celery
  worker and beat it names the *runtime role* (``postgres://portal_app:...@host/db``),
  which owns nothing and may only INSERT and SELECT on the append-only tables. For
  ``migrate`` it names the *owner* of the tables, a role that may create them and
  create roles.
- ``DATABASE_RUNTIME_ROLE`` (set where ``migrate`` runs, as the owner) names the runtime
  role: ``migrate`` then ends by creating it if needed and granting it exactly its
  privileges, again after every migration. ``manage.py grant_runtime_role`` does the same
  on its own.
- ``DATABASE_RUNTIME_PASSWORD`` (same place) is the runtime role's password, set (hashed)
  each time the grants run; the runtime processes carry it in their ``DATABASE_URL``.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY for production settings.")

# Served over HTTPS (behind a proxy that sets X-Forwarded-Proto). For a plain-HTTP
# trial on localhost, set DJANGO_SECURE_SSL_REDIRECT=0 and DJANGO_SECURE_COOKIES=0.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)  # noqa: F405
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)  # noqa: F405
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# Scripts never read the CSRF cookie: htmx sends the token from the page (base.html).
CSRF_COOKIE_HTTPONLY = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# No demo accounts: seed_demo refuses and the home page lists none. PORTAL_DEMO_MODE=1
# is only for a throwaway trial of this stack (docker compose on localhost), never for a
# real deployment: every demo account shares a published password.
PORTAL_DEMO_MODE = env_bool("PORTAL_DEMO_MODE", False)  # noqa: F405

# The runtime database role migrate creates and grants (see the docstring); empty: none.
DATABASE_RUNTIME_ROLE = os.environ.get("DATABASE_RUNTIME_ROLE", "")

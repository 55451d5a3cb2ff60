"""Create or update the PostgreSQL role the portal runs as, and grant it exactly what it
may do: insert and read on the append-only money and history tables, read and write on
the others, nothing it could use to change the rules (contracts_portal/db_roles.py).

Run it as the owner of the tables, after ``migrate`` (``migrate`` runs it itself when
the ``DATABASE_RUNTIME_ROLE`` setting names the role). It is idempotent: run it again
after every migration. The password is read from an environment variable, never from
the command line, where other users of the machine could see it.
"""

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from contracts_portal.db_roles import PASSWORD_ENV, RuntimeRoleError, grant_runtime_role


class Command(BaseCommand):
    help = "Create the portal's runtime database role (PostgreSQL) and grant it its privileges; run as the owner."

    def add_arguments(self, parser):
        parser.add_argument(
            "--role",
            default=getattr(settings, "DATABASE_RUNTIME_ROLE", "") or None,
            help="Name of the runtime role (default: the DATABASE_RUNTIME_ROLE setting).",
        )
        parser.add_argument(
            "--password-env",
            default=PASSWORD_ENV,
            help=f"Environment variable holding the role's password (default: {PASSWORD_ENV}). "
            "When it is unset or empty the password is left as it is.",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="Database alias (default: default).")

    def handle(self, *args, role, password_env, database, **options):
        if not role:
            raise CommandError("Name the runtime role: --role portal_app, or set DATABASE_RUNTIME_ROLE.")
        try:
            report = grant_runtime_role(role=role, password=os.environ.get(password_env) or None, using=database)
        except RuntimeRoleError as error:
            raise CommandError(str(error)) from error
        if options["verbosity"] >= 1:
            self.stdout.write(report.summary())

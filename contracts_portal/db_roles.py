"""The database role the portal runs as on PostgreSQL, and what that role may do.

Triggers refuse changes to the money and history tables, but a trigger is a weak
last line on its own: any connection can tell django-pgtrigger's triggers to stand
aside for itself (``SET pgtrigger.ignore``), and the owner of a table can disable or
drop its triggers. A real ledger therefore also takes the right away: in production
the web app, the Celery worker and beat connect as a *runtime role* that owns
nothing, while migrations run as the *owner* of the tables, who grants the runtime
role exactly this:

- on an append-only table, INSERT and SELECT only: no UPDATE, no DELETE, whatever a
  session sets. A table is append-only when its model is an ``AppendOnlyModel`` or
  carries an unconditional ``pgtrigger.Protect`` on UPDATE or DELETE (what the
  trigger refuses, the role is not granted), so a new append-only model is covered
  the next time the grants run, with no list to keep up to date;
- on every other table of the project (Django's and third-party apps' included),
  SELECT, INSERT, UPDATE and DELETE; on ``django_migrations``, SELECT;
- on sequences, USAGE and SELECT (never setval).

It never gets TRUNCATE, REFERENCES or TRIGGER, cannot CREATE in the schema, and as
it owns nothing it cannot ALTER a table or DISABLE a TRIGGER. Everything is revoked
and granted again in one transaction, so running the grants again (after each
``migrate``) is safe and corrects any privilege granted by hand since.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import pgtrigger
from django.apps import apps
from django.conf import settings
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, router, transaction
from django.db.migrations.recorder import MigrationRecorder

from .append_only import AppendOnlyModel

# The name of the environment variable holding the password, not a password.
PASSWORD_ENV = "DATABASE_RUNTIME_PASSWORD"  # nosec B105
READ_WRITE = ("SELECT", "INSERT", "UPDATE", "DELETE")
READ_ONLY = ("SELECT",)
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# What a runtime role must not be able to do beyond its grants (in the order _ensure_role reads them).
ROLE_ATTRIBUTES = {
    "rolsuper": "NOSUPERUSER",
    "rolcreatedb": "NOCREATEDB",
    "rolcreaterole": "NOCREATEROLE",
    "rolreplication": "NOREPLICATION",
    "rolbypassrls": "NOBYPASSRLS",
}


class RuntimeRoleError(Exception):
    """The runtime role cannot be set up as asked; the message says why and what to do."""


@dataclass(frozen=True)
class TableGrant:
    table: str
    privileges: tuple[str, ...]

    @property
    def append_only(self) -> bool:
        return "INSERT" in self.privileges and "UPDATE" not in self.privileges and "DELETE" not in self.privileges


@dataclass
class GrantReport:
    role: str
    created: bool = False
    password_set: bool = False
    grants: list[TableGrant] = field(default_factory=list)
    missing_tables: list[str] = field(default_factory=list)

    def summary(self) -> str:
        append_only = [grant.table for grant in self.grants if grant.append_only]
        lines = [
            f"{'Created' if self.created else 'Updated'} the runtime role {self.role}"
            f"{' and set its password' if self.password_set else ''}: it owns nothing, "
            f"may only insert and read on {len(append_only)} append-only tables "
            f"({', '.join(sorted(append_only))}), and read and write the other "
            f"{len(self.grants) - len(append_only)} tables."
        ]
        if self.missing_tables:
            lines.append(
                f"Not created yet, so not granted: {', '.join(sorted(self.missing_tables))}. "
                "Run migrate, then this again."
            )
        return "\n".join(lines)


def protected_operations(model) -> frozenset[str]:
    """The row operations the database must never allow on ``model``'s table."""
    if issubclass(model, AppendOnlyModel):
        return frozenset({"UPDATE", "DELETE"})
    refused = set()
    for trigger in getattr(model._meta, "triggers", ()):
        unconditional = getattr(trigger, "condition", None) is None
        if isinstance(trigger, pgtrigger.Protect) and not isinstance(trigger, pgtrigger.ReadOnly) and unconditional:
            refused |= {str(operation) for operation in trigger.operation} & {"UPDATE", "DELETE"}
    return frozenset(refused)


def table_grants(using: str = DEFAULT_DB_ALIAS) -> list[TableGrant]:
    """What the runtime role gets on each table of the project's models in ``using``."""
    grants: dict[str, TableGrant] = {}
    for model in apps.get_models(include_auto_created=True):
        opts = model._meta
        if opts.proxy or not opts.managed or not router.allow_migrate_model(using, model):
            continue
        refused = protected_operations(model)
        if opts.db_table in grants:
            refused |= set(READ_WRITE) - set(grants[opts.db_table].privileges)
        grants[opts.db_table] = TableGrant(opts.db_table, tuple(p for p in READ_WRITE if p not in refused))
    migrations_table = MigrationRecorder.Migration._meta.db_table
    grants.setdefault(migrations_table, TableGrant(migrations_table, READ_ONLY))
    return sorted(grants.values(), key=lambda grant: grant.table)


def append_only_tables(using: str = DEFAULT_DB_ALIAS) -> list[str]:
    return [grant.table for grant in table_grants(using) if grant.append_only]


def refuse_unless_postgresql(connection) -> None:
    if connection.vendor != "postgresql":
        raise RuntimeRoleError(
            f"The runtime role needs PostgreSQL, and the {connection.alias!r} database is "
            f"{connection.display_name}: it has no roles or privileges to grant, so the portal "
            "always runs there as the owner of its tables. Nothing was changed."
        )


def refuse_invalid_role_name(role: str) -> None:
    if not ROLE_NAME.fullmatch(role or ""):
        raise RuntimeRoleError(
            f"{role!r} is not a role name this command accepts: use lower-case letters, "
            "digits and underscores, starting with a letter or an underscore, at most 63 characters."
        )


def grant_runtime_role(*, role: str, password: str | None = None, using: str = DEFAULT_DB_ALIAS) -> GrantReport:
    """Create the runtime role if it does not exist and give it exactly the privileges
    described in this module's docstring. Run as the owner of the tables (the role
    that runs ``migrate``). Idempotent; with ``password`` it also (re)sets the password,
    sent to the server already hashed so it never appears in a statement log."""
    connection = connections[using]
    refuse_unless_postgresql(connection)
    refuse_invalid_role_name(role)
    report = GrantReport(role=role)
    try:
        with transaction.atomic(using=using), connection.cursor() as cursor:
            report.created = _ensure_role(connection, cursor, role)
            if password:
                _set_password(connection, cursor, role, password)
                report.password_set = True
            existing = set(connection.introspection.table_names(cursor))
            grants = [grant for grant in table_grants(using) if grant.table in existing]
            report.missing_tables = [grant.table for grant in table_grants(using) if grant.table not in existing]
            _refuse_unsafe_role(cursor, role, [grant.table for grant in grants])
            _apply_grants(connection, cursor, role, grants)
            _refuse_leftover_privileges(cursor, role, grants)
            report.grants = grants
    except DatabaseError as error:
        raise RuntimeRoleError(
            f"PostgreSQL refused to set up the runtime role {role}: {str(error).strip()}. "
            "Run this as the owner of the portal's tables (the role that runs migrate), "
            "with the right to create roles. Nothing was changed."
        ) from error
    return report


def _ensure_role(connection, cursor, role: str) -> bool:
    quoted = connection.ops.quote_name(role)
    cursor.execute("SELECT current_user")
    (current_user,) = cursor.fetchone()
    if current_user == role:
        raise RuntimeRoleError(
            f"You are connected as {role}, the runtime role itself. Connect as the owner of the "
            "tables (the role that runs migrate) to grant it its privileges."
        )
    cursor.execute(
        "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolcanlogin "
        "FROM pg_roles WHERE rolname = %s",
        [role],
    )
    row = cursor.fetchone()
    if row is None:
        cursor.execute(f"CREATE ROLE {quoted} LOGIN {' '.join(ROLE_ATTRIBUTES.values())}")
        return True
    *attributes, can_login = row
    wrong = [keyword for has, keyword in zip(attributes, ROLE_ATTRIBUTES.values(), strict=True) if has]
    if wrong or not can_login:
        cursor.execute(f"ALTER ROLE {quoted} LOGIN {' '.join(ROLE_ATTRIBUTES.values())}")
    return False


def _set_password(connection, cursor, role: str, password: str) -> None:
    verifier = connection.connection.pgconn.encrypt_password(password.encode(), role.encode()).decode()
    cursor.execute(f"ALTER ROLE {connection.ops.quote_name(role)} PASSWORD %s", [verifier])


def _refuse_unsafe_role(cursor, role: str, tables: list[str]) -> None:
    cursor.execute(
        """
        SELECT DISTINCT pg_describe_object(d.classid, d.objid, d.objsubid)
        FROM pg_shdepend d
        WHERE d.refobjid = (SELECT oid FROM pg_roles WHERE rolname = %s)
          AND d.deptype = 'o'
          AND d.dbid IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
        """,
        [role],
    )
    owned = sorted(name for (name,) in cursor.fetchall())
    if owned:
        raise RuntimeRoleError(
            f"The runtime role {role} owns objects in this database ({', '.join(owned)}), and an owner can "
            f"alter them, disable their triggers or grant itself anything. As the owner of the tables, run "
            f"REASSIGN OWNED BY {role} TO current_user; then run this again."
        )
    cursor.execute(
        """
        SELECT DISTINCT owner.rolname
        FROM pg_tables t JOIN pg_roles owner ON owner.rolname = t.tableowner
        WHERE t.tablename = ANY(%s) AND t.schemaname = current_schema()
          AND pg_has_role(%s, owner.oid, 'MEMBER')
        """,
        [tables, role],
    )
    owners = sorted(name for (name,) in cursor.fetchall())
    if owners:
        raise RuntimeRoleError(
            f"The runtime role {role} is a member of {', '.join(owners)}, which owns the portal's tables, so it "
            f"could act as the owner. Run REVOKE {', '.join(owners)} FROM {role}; then run this again."
        )


def _apply_grants(connection, cursor, role: str, grants: list[TableGrant]) -> None:
    quote = connection.ops.quote_name
    quoted_role = quote(role)
    cursor.execute("SELECT current_schema()")
    (schema,) = cursor.fetchone()
    cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {quote(schema)} FROM {quoted_role}")
    cursor.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {quote(schema)} FROM {quoted_role}")
    cursor.execute(f"REVOKE CREATE ON SCHEMA {quote(schema)} FROM {quoted_role}")
    cursor.execute("SELECT has_schema_privilege(%s, %s, 'USAGE')", [role, schema])
    if not cursor.fetchone()[0]:
        cursor.execute(f"GRANT USAGE ON SCHEMA {quote(schema)} TO {quoted_role}")
    for grant in grants:
        cursor.execute(f"GRANT {', '.join(grant.privileges)} ON TABLE {quote(grant.table)} TO {quoted_role}")
    cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {quote(schema)} TO {quoted_role}")
    cursor.execute("SELECT has_schema_privilege(%s, %s, 'CREATE')", [role, schema])
    if cursor.fetchone()[0]:
        raise RuntimeRoleError(
            f"Every role may create tables in the schema {schema} (the default before PostgreSQL 15), so {role} "
            f"could too. As the owner of the database, run REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC; "
            f"GRANT CREATE ON SCHEMA {schema} TO <the owner of the tables>; then run this again."
        )


def _refuse_leftover_privileges(cursor, role: str, grants: list[TableGrant]) -> None:
    """Privileges the role still has beyond its grants come from PUBLIC or from another
    role it belongs to; name them rather than leave a hole."""
    cursor.execute(
        "SELECT t.name, p.name FROM unnest(%s::text[]) t(name) CROSS JOIN unnest(%s::text[]) p(name) "
        "WHERE has_table_privilege(%s, quote_ident(t.name), p.name) ORDER BY 1, 2",
        [[grant.table for grant in grants], list(TABLE_PRIVILEGES), role],
    )
    granted = {grant.table: grant.privileges for grant in grants}
    extra = [f"{privilege} on {table}" for table, privilege in cursor.fetchall() if privilege not in granted[table]]
    if extra:
        raise RuntimeRoleError(
            f"The runtime role {role} would still have {', '.join(extra)}, granted to PUBLIC or to a role "
            f"it belongs to. Revoke those grants as the owner of the tables, then run this again."
        )


def grant_after_migrate(sender, *, using: str = DEFAULT_DB_ALIAS, verbosity: int = 1, stdout=None, **kwargs) -> None:
    """``post_migrate``: when the ``DATABASE_RUNTIME_ROLE`` setting names the runtime role,
    every ``migrate`` ends by granting it, so a deployment cannot forget to, and a table
    added by a migration is granted (or protected) as soon as it exists."""
    role = getattr(settings, "DATABASE_RUNTIME_ROLE", "")
    if not role:
        return
    try:
        report = grant_runtime_role(role=role, password=os.environ.get(PASSWORD_ENV) or None, using=using)
    except RuntimeRoleError as error:
        raise CommandError(str(error)) from error
    if verbosity >= 1 and stdout is not None:
        stdout.write(report.summary() + "\n")

"""The runtime database role (contracts_portal/db_roles.py, ``manage.py grant_runtime_role``).

Any connection may tell django-pgtrigger's triggers to stand aside for itself
(``SET pgtrigger.ignore``), so on PostgreSQL the portal runs as a role that owns
nothing and may only INSERT and SELECT on the append-only tables: even with every
trigger ignored, it cannot UPDATE or DELETE a ledger row. These tests set the role up
with the command, then act as it (``SET LOCAL ROLE`` inside the test's transaction, or
a second connection logged in as it) and check what it can and cannot do, and that
the services work end to end under it.

Role names are shared by every database of the server: each test run names its role
after its own test database, and a role created inside a test's transaction is gone
when the transaction rolls back.
"""

import re
import secrets
from datetime import timedelta
from types import SimpleNamespace

import pgtrigger
import psycopg
import pytest
import time_machine
from django.apps import apps
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import ProgrammingError, connection
from django.test import override_settings
from django.utils import timezone

from billing.models import Invoice, LedgerEntry, LedgerTransaction, Payment, Refund
from billing.services.refunds import refund_create
from contracts import services
from contracts.models import (
    Contract,
    ContractState,
    DiaryEntry,
    EscrowRefundRequest,
    FlagDecision,
    FlagDecisionKind,
    MilestoneState,
    RefundRequestState,
)
from contracts.services import MilestoneChoice, MilestoneDecision
from contracts.tasks import sweep_scheduled_work
from contracts_portal import db_roles
from contracts_portal.append_only import AppendOnlyModel
from tests.factories import (
    DiaryEntryFactory,
    FixedContractFactory,
    HourlyContractFactory,
)
from tests.fixtures.contracts import funded
from tests.fixtures.database import append_only_rows, execute, refused, row
from tests.fixtures.flags import flag_about
from tests.fixtures.money import assert_ledger_balanced
from tests.fixtures.people import reviewer

# The money and history tables the issue names; the grants derive theirs from the models.
APPEND_ONLY = (
    "billing_escrowmovement",
    "billing_invoice",
    "billing_ledgerentry",
    "billing_ledgertransaction",
    "billing_payment",
    "billing_refund",
    "contracts_flagdecision",
    "contracts_statechange",
)
TAMPERING = {
    "billing_escrowmovement": "amount_cents = 1",
    "billing_invoice": "amount_cents = 1",
    "billing_ledgerentry": "amount_cents = amount_cents + 100",
    "billing_ledgertransaction": "memo = 'rewritten'",
    "billing_payment": "amount_cents = 1",
    "billing_refund": "amount_cents = 1",
    "contracts_flagdecision": "note = 'rewritten'",
    "contracts_statechange": "reason = 'rewritten'",
}


# Helpers.


def role_name(suffix: str = "runtime") -> str:
    """A role name of this test database's own: other runs on the server use theirs."""
    database = re.sub(r"[^a-z0-9_]", "_", connection.settings_dict["NAME"].lower())
    return f"{database[:50]}_{suffix}"


def set_role(role: str) -> None:
    execute(f'SET LOCAL ROLE "{role}"')


def ignore_every_trigger() -> None:
    """What any connection may do: switch every django-pgtrigger trigger off for itself."""
    pgids = sorted(trigger.get_pgid(model) for model, trigger in pgtrigger.registered())
    execute(f"SET LOCAL pgtrigger.ignore = '{{{','.join(pgids)}}}'")


def privileges(role: str, table: str) -> set[str]:
    return {
        privilege
        for privilege in db_roles.TABLE_PRIVILEGES
        if execute("SELECT has_table_privilege(%s, %s, %s)", [role, table, privilege])[0][0]
    }


@pytest.fixture
def runtime_role(db):
    """The runtime role, created and granted by the command inside the test's transaction."""
    role = role_name()
    call_command("grant_runtime_role", role=role, verbosity=0)
    return role


@pytest.fixture
def money_rows(db):
    """One row of every append-only table, made by the services (as the owner)."""
    return append_only_rows()


# Which tables are append-only comes from the models.


@pytest.mark.django_db
def test_append_only_tables_are_derived_from_the_models_and_hold_every_money_and_history_table():
    derived = set(db_roles.append_only_tables())

    assert set(APPEND_ONLY) <= derived
    for model in apps.get_models():
        if issubclass(model, AppendOnlyModel):
            assert model._meta.db_table in derived


def test_a_model_protected_by_an_unconditional_trigger_loses_exactly_the_operations_it_protects():
    def model_with(*triggers):
        return type("Model", (), {"_meta": SimpleNamespace(triggers=list(triggers))})

    only_delete = model_with(pgtrigger.Protect(name="x", operation=pgtrigger.Delete))
    conditional = model_with(
        pgtrigger.Protect(name="y", operation=pgtrigger.Update | pgtrigger.Delete, condition=pgtrigger.Q(old__id=1))
    )
    read_only_fields = model_with(pgtrigger.ReadOnly(name="z", fields=["title"]))

    assert db_roles.protected_operations(Payment) == {"UPDATE", "DELETE"}
    assert db_roles.protected_operations(only_delete) == {"DELETE"}
    assert db_roles.protected_operations(conditional) == frozenset()
    assert db_roles.protected_operations(read_only_fields) == frozenset()
    assert db_roles.protected_operations(Contract) == frozenset()


@pytest.mark.django_db
def test_every_other_table_of_the_project_is_read_and_written_and_migrations_only_read():
    grants = {grant.table: grant.privileges for grant in db_roles.table_grants()}

    for table in ("contracts_contract", "contracts_diaryentry", "django_session", "auth_user", "axes_accessattempt"):
        assert grants[table] == ("SELECT", "INSERT", "UPDATE", "DELETE")
    for table in APPEND_ONLY:
        assert grants[table] == ("SELECT", "INSERT")
    assert grants["django_migrations"] == ("SELECT",)


# The runtime role cannot rewrite history, whatever triggers it ignores.


@pytest.mark.postgres
@pytest.mark.django_db
def test_without_the_runtime_role_pgtrigger_ignore_lets_a_connection_rewrite_a_ledger_entry(money_rows):
    """Control: the hole the runtime role closes. The owner, ignoring the triggers, can."""
    pk = money_rows["billing_ledgerentry"]
    before = LedgerEntry.objects.get(pk=pk).amount_cents
    ignore_every_trigger()

    execute("UPDATE billing_ledgerentry SET amount_cents = amount_cents + 100 WHERE id = %s", [pk])

    assert LedgerEntry.objects.get(pk=pk).amount_cents == before + 100


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("table", sorted(TAMPERING))
def test_runtime_role_cannot_update_an_append_only_row_even_with_pgtrigger_ignore_set(money_rows, runtime_role, table):
    pk = money_rows[table]
    before = row(table, pk)
    set_role(runtime_role)
    ignore_every_trigger()

    error = refused(f"UPDATE {table} SET {TAMPERING[table]} WHERE id = %s", [pk])  # noqa: S608

    assert isinstance(error, ProgrammingError)
    assert f"permission denied for table {table}" in str(error)
    assert row(table, pk) == before


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("table", sorted(TAMPERING))
def test_runtime_role_cannot_delete_an_append_only_row_even_with_pgtrigger_ignore_set(money_rows, runtime_role, table):
    pk = money_rows[table]
    before = row(table, pk)
    set_role(runtime_role)
    ignore_every_trigger()

    error = refused(f"DELETE FROM {table} WHERE id = %s", [pk])  # noqa: S608

    assert isinstance(error, ProgrammingError)
    assert f"permission denied for table {table}" in str(error)
    assert row(table, pk) == before


@pytest.mark.postgres
@pytest.mark.django_db
def test_runtime_role_has_no_update_delete_or_truncate_on_any_append_only_table(runtime_role):
    for table in db_roles.append_only_tables():
        assert privileges(runtime_role, table) == {"SELECT", "INSERT"}, table


@pytest.mark.postgres
@pytest.mark.django_db
def test_runtime_role_inserts_and_reads_a_balanced_ledger_transaction(runtime_role):
    contract = HourlyContractFactory()
    set_role(runtime_role)
    [(tx_id,)] = execute(
        "INSERT INTO billing_ledgertransaction (idempotency_key, kind, contract_id, milestone_id, memo, created_at) "
        "VALUES ('raw:runtime-role', 'refund', %s, NULL, 'raw', now()) RETURNING id",
        [contract.pk],
    )
    accounts = execute(
        "INSERT INTO billing_ledgeraccount (code, kind, user_id, contract_id) VALUES "
        "('test:a', 'client_funds', NULL, NULL), ('test:b', 'earnings', NULL, NULL) RETURNING id"
    )
    for (account_id,), amount in zip(accounts, (-500, 500), strict=True):
        execute(
            "INSERT INTO billing_ledgerentry (transaction_id, account_id, amount_cents) VALUES (%s, %s, %s)",
            [tx_id, account_id, amount],
        )
    execute("SET CONSTRAINTS ALL IMMEDIATE")  # the balance check runs now, as the runtime role

    assert execute(
        "SELECT sum(amount_cents), count(*) FROM billing_ledgerentry WHERE transaction_id = %s", [tx_id]
    ) == [(0, 2)]


@pytest.mark.postgres
@pytest.mark.django_db
def test_runtime_role_changes_ordinary_rows_a_contract_and_a_diary_entry(runtime_role):
    contract = HourlyContractFactory()
    entry = DiaryEntryFactory(contract=contract, minutes=30)
    other = DiaryEntryFactory(contract=contract, minutes=15)
    set_role(runtime_role)

    execute("UPDATE contracts_contract SET title = 'Renamed' WHERE id = %s", [contract.pk])
    execute("UPDATE contracts_diaryentry SET minutes = 45 WHERE id = %s", [entry.pk])
    execute("DELETE FROM contracts_diaryentry WHERE id = %s", [other.pk])

    assert Contract.objects.get(pk=contract.pk).title == "Renamed"
    assert list(DiaryEntry.objects.filter(contract=contract).values_list("minutes", flat=True)) == [45]


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_database_rules_still_hold_for_the_runtime_role_on_ordinary_tables(runtime_role):
    """Its UPDATE on the diary does not bypass the lock trigger of an ended contract."""
    contract = HourlyContractFactory()
    entry = DiaryEntryFactory(contract=contract, minutes=30)
    services.contract_end(contract=contract, by=contract.client, reason="completed")
    set_role(runtime_role)

    error = refused("UPDATE contracts_diaryentry SET minutes = 600 WHERE id = %s", [entry.pk])

    assert f"work diary of contract {contract.pk} is locked" in str(error)


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("TRUNCATE billing_ledgerentry CASCADE", "permission denied for table billing_ledgerentry"),
        ("TRUNCATE contracts_contract CASCADE", "permission denied for table contracts_contract"),
        ("ALTER TABLE billing_ledgerentry DISABLE TRIGGER ALL", "must be owner of table billing_ledgerentry"),
        ("ALTER TABLE billing_payment DROP CONSTRAINT payment_positive", "must be owner of table billing_payment"),
        ("CREATE TABLE runtime_role_smuggled (id int)", "permission denied for schema"),
        ("SET session_replication_role = replica", "permission denied to set parameter"),
        ("SELECT setval(pg_get_serial_sequence('billing_payment', 'id'), 1)", "permission denied for sequence"),
    ],
)
def test_runtime_role_cannot_truncate_alter_disable_triggers_or_create(runtime_role, sql, message):
    set_role(runtime_role)

    error = refused(sql)

    assert message in str(error)


@pytest.mark.postgres
@pytest.mark.django_db
def test_runtime_role_cannot_grant_itself_what_it_was_not_given(runtime_role):
    set_role(runtime_role)

    execute(f'GRANT UPDATE, DELETE ON billing_payment TO "{runtime_role}"')  # PostgreSQL only warns

    assert privileges(runtime_role, "billing_payment") == {"SELECT", "INSERT"}


@pytest.mark.postgres
@pytest.mark.django_db
def test_runtime_role_owns_nothing_logs_in_and_has_no_administrative_attribute(runtime_role):
    [attributes] = execute(
        "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls "
        "FROM pg_roles WHERE rolname = %s",
        [runtime_role],
    )
    owned = execute(
        "SELECT count(*) FROM pg_shdepend "
        "WHERE deptype = 'o' AND refobjid = (SELECT oid FROM pg_roles WHERE rolname = %s)",
        [runtime_role],
    )
    [(member_of_owner,)] = execute(
        "SELECT pg_has_role(%s, (SELECT relowner FROM pg_class WHERE relname = 'billing_ledgerentry'), 'MEMBER')",
        [runtime_role],
    )

    assert attributes == (True, False, False, False, False, False)
    assert owned == [(0,)]
    assert member_of_owner is False


# The services work as the runtime role: the grants are complete.


@pytest.mark.postgres
@pytest.mark.django_db
def test_ending_billing_refunding_disputes_flags_and_the_sweep_all_work_as_the_runtime_role(
    runtime_role, django_capture_on_commit_callbacks
):
    set_role(runtime_role)
    assert execute("SELECT current_user") == [(runtime_role,)]

    with django_capture_on_commit_callbacks(execute=True):
        hourly = HourlyContractFactory()
        DiaryEntryFactory(contract=hourly, minutes=120)
        services.contract_end(contract=hourly, by=hourly.client, reason="completed")
        payment = Payment.objects.get(contract=hourly)
        refund_create(payment=payment, by=hourly.freelancer, amount_cents=20_00, idempotency_key="runtime-role-1")

        fixed = FixedContractFactory()
        paid, unpaid = funded(fixed), funded(fixed, 80_00)
        services.contract_end(
            contract=fixed,
            by=fixed.client,
            reason="completed",
            milestone_decisions={
                paid.pk: MilestoneDecision(MilestoneChoice.PAY_IN_FULL),
                unpaid.pk: MilestoneDecision(MilestoneChoice.PAY_NOTHING),
            },
        )
        request = EscrowRefundRequest.objects.get(milestone=unpaid)
        services.refund_request_dispute(request=request, by=fixed.freelancer, statement="The sketches were delivered.")
        admin = reviewer()
        services.refund_request_resolve(request=request, by=admin, freelancer_cents=30_00, note="Part was delivered.")
        services.flag_decide(
            flag=flag_about(fixed.client, contract=fixed),
            by=admin,
            decision=FlagDecisionKind.WARN,
            note="Keep it here.",
        )

    with (
        time_machine.travel(timezone.now() + timedelta(days=15), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        sweep_scheduled_work()

    assert execute("SELECT current_user") == [(runtime_role,)]
    assert Contract.objects.filter(pk__in=[hourly.pk, fixed.pk], state=ContractState.ENDED).count() == 2
    assert Invoice.objects.get(contract=hourly).minutes == 120
    assert Refund.objects.get(payment=payment).amount_cents == 20_00
    assert EscrowRefundRequest.objects.get(pk=request.pk).state == RefundRequestState.RESOLVED
    assert MilestoneState.RELEASED in set(fixed.milestones.values_list("state", flat=True))
    assert FlagDecision.objects.filter(decided_by=admin).count() == 1
    assert LedgerTransaction.objects.count() >= 6
    assert len(mail.outbox) > 0
    assert_ledger_balanced()


# The command: idempotent, corrects drift, refuses what it cannot make safe.


@pytest.mark.postgres
@pytest.mark.django_db
def test_running_the_grants_again_takes_back_a_privilege_granted_by_hand(runtime_role):
    execute(f'GRANT UPDATE, DELETE, TRUNCATE ON billing_payment TO "{runtime_role}"')
    execute(f'REVOKE ALL ON contracts_contract FROM "{runtime_role}"')
    assert "UPDATE" in privileges(runtime_role, "billing_payment")

    call_command("grant_runtime_role", role=runtime_role, verbosity=0)

    assert privileges(runtime_role, "billing_payment") == {"SELECT", "INSERT"}
    assert privileges(runtime_role, "contracts_contract") == {"SELECT", "INSERT", "UPDATE", "DELETE"}


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_command_reports_what_it_granted(capsys):
    role = role_name()

    call_command("grant_runtime_role", role=role)

    out = capsys.readouterr().out
    assert f"Created the runtime role {role}: it owns nothing" in out
    assert f"only insert and read on {len(db_roles.append_only_tables())} append-only tables" in out
    assert "billing_ledgerentry" in out


@pytest.mark.postgres
@pytest.mark.django_db
def test_an_existing_role_with_administrative_attributes_is_stripped_of_them():
    role = role_name()
    execute(f'CREATE ROLE "{role}" NOLOGIN SUPERUSER CREATEDB CREATEROLE BYPASSRLS')

    call_command("grant_runtime_role", role=role, verbosity=0)

    assert execute(
        "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = %s",
        [role],
    ) == [(True, False, False, False, False)]


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_password_is_read_from_the_environment_and_sent_already_hashed(monkeypatch):
    role = role_name()
    password = secrets.token_urlsafe(16)
    monkeypatch.setenv("PORTAL_TEST_ROLE_PASSWORD", password)

    call_command("grant_runtime_role", role=role, password_env="PORTAL_TEST_ROLE_PASSWORD", verbosity=0)

    [(stored,)] = execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [role])
    assert stored.startswith(("SCRAM-SHA-256$", "md5"))
    assert password not in stored


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_runtime_role_that_is_a_member_of_the_owner_is_refused(runtime_role):
    [(owner,)] = execute("SELECT tableowner FROM pg_tables WHERE tablename = 'billing_ledgerentry'")
    execute(f'GRANT "{owner}" TO "{runtime_role}"')

    with pytest.raises(CommandError, match=f"is a member of {owner}, which owns the portal's tables"):
        call_command("grant_runtime_role", role=runtime_role, verbosity=0)


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_runtime_role_that_owns_a_table_is_refused(runtime_role):
    execute("CREATE TABLE runtime_role_owned (id int)")
    execute(f'ALTER TABLE runtime_role_owned OWNER TO "{runtime_role}"')

    with pytest.raises(CommandError, match="owns objects in this database \\(table runtime_role_owned\\)"):
        call_command("grant_runtime_role", role=runtime_role, verbosity=0)


@pytest.mark.postgres
@pytest.mark.django_db
def test_granting_while_connected_as_the_runtime_role_is_refused(runtime_role):
    set_role(runtime_role)

    with pytest.raises(CommandError, match="You are connected as .* the runtime role itself"):
        call_command("grant_runtime_role", role=runtime_role, verbosity=0)


def test_the_command_refuses_on_sqlite_and_says_why(monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    monkeypatch.setattr(connection, "display_name", "SQLite")

    with pytest.raises(CommandError) as excinfo:
        call_command("grant_runtime_role", role="portal_app", verbosity=0)

    message = str(excinfo.value)
    assert "The runtime role needs PostgreSQL, and the 'default' database is SQLite" in message
    assert "Nothing was changed." in message


def test_the_command_asks_for_a_role_name_and_refuses_an_unsafe_one():
    with pytest.raises(CommandError, match="Name the runtime role"):
        call_command("grant_runtime_role", verbosity=0)
    with pytest.raises(db_roles.RuntimeRoleError, match="is not a role name this command accepts"):
        db_roles.refuse_invalid_role_name('portal"; DROP TABLE billing_payment; --')


# migrate grants the role a setting names, so a deployment cannot forget it.


@pytest.mark.postgres
@pytest.mark.django_db
def test_migrate_grants_the_runtime_role_the_setting_names(monkeypatch):
    role = role_name()
    monkeypatch.delenv(db_roles.PASSWORD_ENV, raising=False)

    with override_settings(DATABASE_RUNTIME_ROLE=role):
        call_command("migrate", verbosity=0)

    assert privileges(role, "billing_ledgerentry") == {"SELECT", "INSERT"}
    assert privileges(role, "contracts_contract") == {"SELECT", "INSERT", "UPDATE", "DELETE"}


@pytest.mark.postgres
@pytest.mark.django_db
def test_migrate_leaves_roles_alone_when_no_runtime_role_is_named():
    role = role_name()

    with override_settings(DATABASE_RUNTIME_ROLE=""):
        call_command("migrate", verbosity=0)

    assert execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", [role]) == [(0,)]


# A second connection, logged in as the runtime role, as web, worker and beat connect.


@pytest.fixture
def committed_login_role(transactional_db):
    """The runtime role, committed with a password (a login needs it), dropped afterwards."""
    role = role_name("login")
    password = secrets.token_urlsafe(16)
    yield role, password
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone():
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE "{role}"')


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_logged_in_as_the_runtime_role_cannot_rewrite_a_payment_with_triggers_ignored(
    committed_login_role, monkeypatch
):
    role, password = committed_login_role
    hourly = HourlyContractFactory()
    DiaryEntryFactory(contract=hourly, minutes=60)
    services.contract_end(contract=hourly, by=hourly.client, reason="completed")
    payment = Payment.objects.get(contract=hourly)
    monkeypatch.setenv(db_roles.PASSWORD_ENV, password)
    call_command("grant_runtime_role", role=role, verbosity=0)
    pgids = sorted(trigger.get_pgid(model) for model, trigger in pgtrigger.registered())
    db = connection.settings_dict

    with psycopg.connect(
        host=db["HOST"] or None, port=db["PORT"] or None, dbname=db["NAME"], user=role, password=password
    ) as other:
        other.execute(f"SET pgtrigger.ignore = '{{{','.join(pgids)}}}'")
        assert other.execute(
            "SELECT current_user, amount_cents FROM billing_payment WHERE id = %s", [payment.pk]
        ).fetchone() == (
            role,
            payment.amount_cents,
        )
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied for table billing_payment"):
            other.execute("UPDATE billing_payment SET amount_cents = 1 WHERE id = %s", [payment.pk])
        other.rollback()
        with pytest.raises(
            psycopg.errors.InsufficientPrivilege, match="permission denied for table billing_ledgerentry"
        ):
            other.execute("DELETE FROM billing_ledgerentry WHERE transaction_id = %s", [payment.ledger_transaction_id])
        other.rollback()

    assert Payment.objects.get(pk=payment.pk).amount_cents == payment.amount_cents

"""The rules PostgreSQL itself enforces, checked through paths that bypass the model
layer (raw SQL on ``connection.cursor()``): the work diary locks when its contract
ends, invoiced time never changes, the money and history tables are append-only,
a ledger transaction balances by COMMIT, and refunds never exceed their payment.

Every statement expected to fail runs in its own ``transaction.atomic()`` (a
savepoint), so the test's transaction survives the error and can look again.
"""

from datetime import timedelta

import pytest
from django.db import IntegrityError, InternalError, ProgrammingError, transaction
from django.utils import timezone

from billing.models import (
    Invoice,
    LedgerEntry,
    LedgerTransaction,
    Payment,
    Refund,
    TransactionKind,
)
from billing.services.invoices import invoice_unbilled_time
from billing.services.ledger import client_funds_account, earnings_account, platform_fees_account
from billing.services.refunds import refund_create
from contracts import services
from contracts.models import Contract, ContractState, DiaryEntry
from contracts.services.locking import lock_contract
from tests.factories import DiaryEntryFactory, HourlyContractFactory
from tests.fixtures.database import append_only_rows, execute, refused, row
from tests.fixtures.money import milestone_payment

pytestmark = [pytest.mark.postgres]

DIARY_COLUMNS = "(contract_id, work_date, minutes, memo, invoice_id, created_at, updated_at)"


def insert_diary_sql() -> str:
    return f"INSERT INTO contracts_diaryentry {DIARY_COLUMNS} VALUES (%s, %s, %s, %s, NULL, now(), now()) RETURNING id"


def end_contract(contract: Contract, by=None) -> Contract:
    services.contract_end(contract=contract, by=by or contract.client, reason="completed")
    ended = Contract.objects.get(pk=contract.pk)
    assert ended.state == ContractState.ENDED
    return ended


def lock_message(contract: Contract) -> str:
    return f"work diary of contract {contract.pk} is locked: the contract has ended"


# The work diary locks when the contract ends, also for raw SQL.


@pytest.mark.django_db
def test_raw_update_of_a_diary_entry_of_an_ended_contract_is_refused_by_the_database():
    contract = HourlyContractFactory()
    entry = DiaryEntryFactory(contract=contract, minutes=90, memo="Built the export")
    end_contract(contract)

    error = refused("UPDATE contracts_diaryentry SET minutes = 600 WHERE id = %s", [entry.pk])

    assert isinstance(error, IntegrityError)
    assert lock_message(contract) in str(error)
    assert execute("SELECT minutes, memo FROM contracts_diaryentry WHERE id = %s", [entry.pk]) == [
        (90, "Built the export")
    ]


@pytest.mark.django_db
def test_raw_update_of_an_unbilled_diary_entry_of_an_open_contract_is_allowed():
    contract = HourlyContractFactory()
    entry = DiaryEntryFactory(contract=contract, minutes=90)

    execute("UPDATE contracts_diaryentry SET minutes = 600 WHERE id = %s", [entry.pk])

    assert DiaryEntry.objects.get(pk=entry.pk).minutes == 600


@pytest.mark.django_db
def test_raw_delete_of_a_diary_entry_of_an_ended_contract_is_refused_by_the_database():
    contract = HourlyContractFactory()
    entry = DiaryEntryFactory(contract=contract, minutes=45)
    end_contract(contract, by=contract.freelancer)

    error = refused("DELETE FROM contracts_diaryentry WHERE id = %s", [entry.pk])

    assert isinstance(error, IntegrityError)
    assert lock_message(contract) in str(error)
    assert DiaryEntry.objects.filter(pk=entry.pk).count() == 1


@pytest.mark.django_db
def test_raw_delete_of_an_unbilled_diary_entry_of_an_open_contract_is_allowed():
    contract = HourlyContractFactory()
    entry = DiaryEntryFactory(contract=contract, minutes=45)

    execute("DELETE FROM contracts_diaryentry WHERE id = %s", [entry.pk])

    assert DiaryEntry.objects.filter(pk=entry.pk).count() == 0


@pytest.mark.django_db
def test_raw_insert_into_the_diary_of_an_ended_contract_is_refused_by_the_database():
    contract = HourlyContractFactory()
    end_contract(contract)
    today = timezone.now().date()

    error = refused(insert_diary_sql(), [contract.pk, today, 60, "Extra hour after the end"])

    assert isinstance(error, IntegrityError)
    assert lock_message(contract) in str(error)
    assert DiaryEntry.objects.filter(contract=contract).count() == 0


@pytest.mark.django_db
def test_raw_insert_into_the_diary_of_an_open_contract_is_allowed():
    contract = HourlyContractFactory()
    today = timezone.now().date()

    [(entry_id,)] = execute(insert_diary_sql(), [contract.pk, today, 60, "Regular hour"])

    entry = DiaryEntry.objects.get(pk=entry_id)
    assert (entry.contract_id, entry.minutes, entry.memo, entry.invoice_id) == (contract.pk, 60, "Regular hour", None)


@pytest.mark.django_db
def test_raw_insert_into_the_diary_of_a_paused_contract_is_not_refused_by_the_lock():
    """The database lock is about ended contracts; pausing is a model-layer rule."""
    contract = HourlyContractFactory()
    services.contract_pause(contract=contract, by=contract.client)

    [(entry_id,)] = execute(insert_diary_sql(), [contract.pk, timezone.now().date(), 30, "Paused-time fix"])

    assert DiaryEntry.objects.get(pk=entry_id).minutes == 30


@pytest.mark.django_db
def test_raw_update_moving_an_entry_into_the_diary_of_an_ended_contract_is_refused():
    """Refused twice over: the target diary is locked, and an entry never changes contract."""
    ended = HourlyContractFactory()
    end_contract(ended)
    open_contract = HourlyContractFactory(client=ended.client, freelancer=ended.freelancer)
    entry = DiaryEntryFactory(contract=open_contract, minutes=30)

    error = refused("UPDATE contracts_diaryentry SET contract_id = %s WHERE id = %s", [ended.pk, entry.pk])

    assert isinstance(error, IntegrityError)
    assert f"diary entry {entry.pk}: its contract cannot change" in str(error)
    assert DiaryEntry.objects.get(pk=entry.pk).contract_id == open_contract.pk


@pytest.mark.django_db
def test_orm_update_that_bypasses_the_model_checks_is_refused_by_the_trigger_after_the_end():
    """An ORM update that skips the model-layer guard still meets the trigger."""
    contract = HourlyContractFactory()
    entry = DiaryEntryFactory(contract=contract, minutes=30)
    end_contract(contract)

    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        # models.QuerySet.update, not DiaryEntryQuerySet.update: no model-layer guard.
        super(type(DiaryEntry.objects.all()), DiaryEntry.objects.filter(pk=entry.pk)).update(minutes=1)

    assert lock_message(contract) in str(excinfo.value)
    assert DiaryEntry.objects.get(pk=entry.pk).minutes == 30


# Invoiced time never changes, even while the contract is open.


def invoice_now(contract: Contract, key: str) -> Invoice:
    with transaction.atomic():
        locked = lock_contract(contract.pk)
        return invoice_unbilled_time(contract=locked, key=key, at=timezone.now())


@pytest.mark.django_db
def test_raw_update_of_an_invoiced_diary_entry_is_refused_on_an_open_contract():
    contract = HourlyContractFactory()
    entry = DiaryEntryFactory(contract=contract, minutes=120)
    invoice = invoice_now(contract, "test:weekly-invoice")
    assert invoice.minutes == 120
    assert DiaryEntry.objects.get(pk=entry.pk).invoice_id == invoice.pk
    assert Contract.objects.get(pk=contract.pk).state == ContractState.ACTIVE

    error = refused("UPDATE contracts_diaryentry SET minutes = 240 WHERE id = %s", [entry.pk])

    assert isinstance(error, IntegrityError)
    assert f"diary entry {entry.pk} is invoiced and cannot change" in str(error)
    assert DiaryEntry.objects.get(pk=entry.pk).minutes == 120


@pytest.mark.django_db
def test_raw_update_unlinking_an_invoiced_entry_from_its_invoice_is_refused():
    contract = HourlyContractFactory()
    entry = DiaryEntryFactory(contract=contract, minutes=120)
    invoice = invoice_now(contract, "test:weekly-invoice")

    error = refused("UPDATE contracts_diaryentry SET invoice_id = NULL WHERE id = %s", [entry.pk])

    assert isinstance(error, IntegrityError)
    assert f"diary entry {entry.pk} is invoiced and cannot change" in str(error)
    assert DiaryEntry.objects.get(pk=entry.pk).invoice_id == invoice.pk


@pytest.mark.django_db
def test_raw_delete_of_an_invoiced_diary_entry_is_refused_on_an_open_contract():
    contract = HourlyContractFactory()
    entry = DiaryEntryFactory(contract=contract, minutes=120)
    invoice_now(contract, "test:weekly-invoice")

    error = refused("DELETE FROM contracts_diaryentry WHERE id = %s", [entry.pk])

    assert isinstance(error, IntegrityError)
    assert f"diary entry {entry.pk} is invoiced and cannot change" in str(error)
    assert DiaryEntry.objects.filter(pk=entry.pk).count() == 1


@pytest.mark.django_db
def test_unbilled_entry_beside_an_invoiced_one_stays_editable_on_an_open_contract():
    contract = HourlyContractFactory()
    billed = DiaryEntryFactory(contract=contract, minutes=120)
    invoice_now(contract, "test:weekly-invoice")
    unbilled = DiaryEntryFactory(contract=contract, minutes=30)

    execute("UPDATE contracts_diaryentry SET minutes = 45 WHERE id = %s", [unbilled.pk])

    assert DiaryEntry.objects.get(pk=unbilled.pk).minutes == 45
    assert DiaryEntry.objects.get(pk=billed.pk).minutes == 120


# Money and history rows are append-only.


@pytest.fixture
def money_rows(db):
    return append_only_rows()


TAMPERING = {
    "billing_ledgerentry": "amount_cents = amount_cents + 100",
    "billing_ledgertransaction": "memo = 'rewritten'",
    "billing_payment": "amount_cents = 1",
    "billing_refund": "amount_cents = 1",
    "billing_invoice": "amount_cents = 1",
    "billing_escrowmovement": "amount_cents = 1",
    "contracts_statechange": "reason = 'rewritten'",
}


@pytest.mark.django_db
@pytest.mark.parametrize("table", sorted(TAMPERING))
def test_raw_update_of_an_append_only_row_is_refused_by_the_database(money_rows, table):
    pk = money_rows[table]
    before = row(table, pk)

    error = refused(f"UPDATE {table} SET {TAMPERING[table]} WHERE id = %s", [pk])  # noqa: S608

    # RAISE EXCEPTION without an error code (P0001): psycopg 3 reports ProgrammingError, psycopg2 InternalError.
    assert isinstance(error, ProgrammingError | InternalError)
    assert f"pgtrigger: Cannot update or delete rows from {table} table" in str(error)
    assert row(table, pk) == before


@pytest.mark.django_db
@pytest.mark.parametrize("table", sorted(TAMPERING))
def test_raw_delete_of_an_append_only_row_is_refused_by_the_database(money_rows, table):
    pk = money_rows[table]
    before = row(table, pk)

    error = refused(f"DELETE FROM {table} WHERE id = %s", [pk])  # noqa: S608

    # RAISE EXCEPTION without an error code (P0001): psycopg 3 reports ProgrammingError, psycopg2 InternalError.
    assert isinstance(error, ProgrammingError | InternalError)
    assert f"pgtrigger: Cannot update or delete rows from {table} table" in str(error)
    assert row(table, pk) == before


@pytest.mark.django_db
def test_rows_of_a_table_that_is_not_append_only_can_be_changed_with_the_same_raw_sql(money_rows):
    """Control: the refusals above come from the triggers, not from the raw-SQL path."""
    contract_id = Payment.objects.get(pk=money_rows["billing_payment"]).contract_id

    execute("UPDATE contracts_contract SET title = 'Renamed' WHERE id = %s", [contract_id])

    assert Contract.objects.get(pk=contract_id).title == "Renamed"


# A ledger transaction's entries sum to zero, checked at COMMIT (deferred trigger).


def insert_transaction(key: str) -> int:
    [(tx_id,)] = execute(
        "INSERT INTO billing_ledgertransaction (idempotency_key, kind, contract_id, milestone_id, memo, created_at) "
        "VALUES (%s, %s, NULL, NULL, 'raw', now()) RETURNING id",
        [key, TransactionKind.REFUND],
    )
    return tx_id


def insert_entry(tx_id: int, account_id: int, amount_cents: int) -> None:
    execute(
        "INSERT INTO billing_ledgerentry (transaction_id, account_id, amount_cents) VALUES (%s, %s, %s)",
        [tx_id, account_id, amount_cents],
    )


@pytest.fixture
def accounts(db):
    contract = HourlyContractFactory()
    return client_funds_account(contract.client), earnings_account(contract.freelancer), platform_fees_account()


@pytest.mark.django_db(transaction=True)
def test_unbalanced_ledger_transaction_inserted_with_raw_sql_fails_at_commit(accounts):
    client_funds, earnings, _ = accounts
    reached_end_of_block = False

    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        tx_id = insert_transaction("raw:unbalanced")
        insert_entry(tx_id, client_funds.pk, -10_000)
        insert_entry(tx_id, earnings.pk, 9_900)
        reached_end_of_block = True  # each INSERT was accepted; only COMMIT checks

    assert reached_end_of_block is True
    assert f"ledger transaction {tx_id} does not balance: entries sum to -100 cents" in str(excinfo.value)
    assert LedgerTransaction.objects.filter(idempotency_key="raw:unbalanced").count() == 0
    assert LedgerEntry.objects.filter(transaction_id=tx_id).count() == 0


@pytest.mark.django_db(transaction=True)
def test_balanced_ledger_transaction_inserted_with_raw_sql_commits(accounts):
    client_funds, earnings, fees = accounts

    with transaction.atomic():
        tx_id = insert_transaction("raw:balanced")
        insert_entry(tx_id, client_funds.pk, -10_500)  # unbalanced until the last entry
        insert_entry(tx_id, earnings.pk, 9_000)
        insert_entry(tx_id, fees.pk, 1_500)

    amounts = sorted(LedgerEntry.objects.filter(transaction_id=tx_id).values_list("amount_cents", flat=True))
    assert amounts == [-10_500, 1_500, 9_000]


@pytest.mark.django_db
def test_unbalanced_ledger_transaction_fails_when_constraints_are_checked_immediately(accounts):
    client_funds, earnings, _ = accounts

    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        tx_id = insert_transaction("raw:unbalanced-immediate")
        insert_entry(tx_id, client_funds.pk, -5_000)
        insert_entry(tx_id, earnings.pk, 4_000)
        execute("SET CONSTRAINTS ALL IMMEDIATE")

    assert f"ledger transaction {tx_id} does not balance: entries sum to -1000 cents" in str(excinfo.value)
    assert LedgerTransaction.objects.filter(idempotency_key="raw:unbalanced-immediate").count() == 0


@pytest.mark.django_db
def test_balanced_ledger_transaction_passes_when_constraints_are_checked_immediately(accounts):
    client_funds, earnings, _ = accounts

    with transaction.atomic():
        tx_id = insert_transaction("raw:balanced-immediate")
        insert_entry(tx_id, client_funds.pk, -5_000)
        insert_entry(tx_id, earnings.pk, 5_000)
        execute("SET CONSTRAINTS ALL IMMEDIATE")

    assert LedgerEntry.objects.filter(transaction_id=tx_id).count() == 2


# The total refunded on a payment never exceeds the payment.


@pytest.fixture
def payment(db) -> Payment:
    """A $100.00 milestone payment (10% service fee) made by the services."""
    paid = milestone_payment(100_00)
    assert (paid.amount_cents, paid.freelancer_fee_cents) == (100_00, 10_00)
    return paid


def insert_refund_sql() -> str:
    return (
        "INSERT INTO billing_refund (payment_id, amount_cents, freelancer_fee_returned_cents, "
        "client_fee_returned_cents, reason, created_by_id, created_at, ledger_transaction_id) "
        "VALUES (%s, %s, 0, 0, 'raw', %s, now(), %s) RETURNING id"
    )


def bare_transaction(key: str) -> int:
    return LedgerTransaction.objects.create(
        idempotency_key=key, kind=TransactionKind.REFUND, created_at=timezone.now() - timedelta(seconds=1)
    ).pk


@pytest.mark.django_db
def test_raw_insert_of_a_refund_beyond_the_payment_is_refused_by_the_database(payment):
    error = refused(insert_refund_sql(), [payment.pk, 100_01, payment.freelancer_id, bare_transaction("raw:r1")])

    assert isinstance(error, IntegrityError)
    assert f"refunds of payment {payment.pk} would reach 10001 cents, more than the 10000 cents paid" in str(error)
    assert Refund.objects.filter(payment=payment).count() == 0


@pytest.mark.django_db
def test_raw_insert_of_a_refund_beyond_what_is_left_after_earlier_refunds_is_refused(payment):
    refund_create(payment=payment, by=payment.freelancer, amount_cents=60_00, idempotency_key="first-60")

    error = refused(insert_refund_sql(), [payment.pk, 40_01, payment.freelancer_id, bare_transaction("raw:r2")])

    assert isinstance(error, IntegrityError)
    assert f"refunds of payment {payment.pk} would reach 10001 cents, more than the 10000 cents paid" in str(error)
    assert sorted(Refund.objects.filter(payment=payment).values_list("amount_cents", flat=True)) == [60_00]


@pytest.mark.django_db
def test_raw_insert_of_a_refund_up_to_the_rest_of_the_payment_is_allowed(payment):
    refund_create(payment=payment, by=payment.freelancer, amount_cents=60_00, idempotency_key="first-60")

    [(refund_id,)] = execute(
        insert_refund_sql(), [payment.pk, 40_00, payment.freelancer_id, bare_transaction("raw:r3")]
    )

    assert Refund.objects.get(pk=refund_id).amount_cents == 40_00
    assert sorted(Refund.objects.filter(payment=payment).values_list("amount_cents", flat=True)) == [40_00, 60_00]

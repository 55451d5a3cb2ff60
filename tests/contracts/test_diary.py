"""The work diary of hourly contracts: who records time and how much, the weekly edit
deadline, and the lock at the end of the contract, which holds for every path that
writes rows (services, model methods, querysets, the admin)."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import transaction
from django.urls import reverse

from billing.services.invoices import invoice_unbilled_time
from contracts import services
from contracts.models import Contract, ContractState, DiaryEntry, EndReason
from contracts.models.diary import DIARY_LOCKED_MESSAGE, ENTRY_BILLED_MESSAGE
from contracts_portal.errors import DomainError
from tests.factories import DiaryEntryFactory, FixedContractFactory, HourlyContractFactory, UserFactory

# Week of Monday 2025-03-10 to Sunday 2025-03-16; "now" is its Wednesday afternoon.
MONDAY = date(2025, 3, 10)
WEDNESDAY = date(2025, 3, 12)
NOW = datetime(2025, 3, 12, 15, 0, tzinfo=UTC)
STARTED = datetime(2025, 2, 3, 9, 0, tzinfo=UTC)
LAST_FRIDAY = date(2025, 3, 7)


@pytest.fixture
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


class DiaryContractFactory(HourlyContractFactory):
    """$50.00 an hour, 40 hours a week, started on a known day."""

    started_at = STARTED


def add(contract, work_date=WEDNESDAY, minutes=60, memo="Worked on the API", by=None):
    return services.diary_entry_add(
        contract=contract, by=by or contract.freelancer, work_date=work_date, minutes=minutes, memo=memo
    )


def diary_rows(*contracts):
    """The stored diary rows of ``contracts``, for before/after comparisons."""
    entries = DiaryEntry.objects.filter(contract__in=contracts).order_by("id")
    return list(entries.values_list("id", "contract_id", "work_date", "minutes", "memo", "invoice_id"))


def ended_contract_with_entry():
    """An hourly contract that ended (its time invoiced) and the entry it held."""
    contract = DiaryContractFactory()
    entry = DiaryEntryFactory(contract=contract, work_date=MONDAY, minutes=120)
    services.contract_end(contract=contract, by=contract.client, reason=EndReason.COMPLETED)
    contract = Contract.objects.get(pk=contract.pk)
    assert contract.state == ContractState.ENDED
    return contract, DiaryEntry.objects.get(pk=entry.pk)


def invoice_time(contract):
    with transaction.atomic():
        return invoice_unbilled_time(contract=contract, key=f"test:week:{contract.pk}", at=NOW)


# Who may record time, on which contracts.


@pytest.mark.django_db
def test_freelancer_records_time_on_active_hourly_contract(frozen_now):
    contract = DiaryContractFactory()
    entry = add(contract, minutes=135, memo="  Fixed the login bug  ")
    assert diary_rows(contract) == [(entry.pk, contract.pk, WEDNESDAY, 135, "Fixed the login bug", None)]


@pytest.mark.django_db
def test_client_cannot_record_time(frozen_now):
    contract = DiaryContractFactory()
    with pytest.raises(DomainError) as refused:
        add(contract, by=contract.client)
    assert refused.value.message == "Only the freelancer of this contract can record time in its work diary."
    assert diary_rows(contract) == []


@pytest.mark.django_db
def test_stranger_cannot_record_time(frozen_now):
    contract = DiaryContractFactory()
    with pytest.raises(DomainError) as refused:
        add(contract, by=UserFactory())
    assert refused.value.message == "Only the freelancer of this contract can record time in its work diary."
    assert diary_rows(contract) == []


@pytest.mark.django_db
def test_fixed_price_contract_has_no_work_diary(frozen_now):
    contract = FixedContractFactory(started_at=STARTED)
    with pytest.raises(DomainError) as refused:
        add(contract)
    assert refused.value.message == "Only hourly contracts have a work diary."
    assert diary_rows(contract) == []


# How much time, on which days.


@pytest.mark.django_db
def test_weekly_hour_limit_reached_exactly_is_accepted(frozen_now):
    contract = DiaryContractFactory(weekly_hour_limit=40)
    add(contract, work_date=MONDAY, minutes=16 * 60)
    add(contract, work_date=date(2025, 3, 11), minutes=16 * 60)
    add(contract, work_date=WEDNESDAY, minutes=7 * 60)
    add(contract, work_date=WEDNESDAY, minutes=60)
    assert sum(row[3] for row in diary_rows(contract)) == 40 * 60


@pytest.mark.django_db
def test_one_minute_over_weekly_hour_limit_is_refused_with_time_left(frozen_now):
    contract = DiaryContractFactory(weekly_hour_limit=40)
    add(contract, work_date=MONDAY, minutes=16 * 60)
    add(contract, work_date=date(2025, 3, 11), minutes=16 * 60)
    add(contract, work_date=WEDNESDAY, minutes=7 * 60)
    before = diary_rows(contract)
    with pytest.raises(DomainError) as refused:
        add(contract, work_date=WEDNESDAY, minutes=61)
    assert refused.value.message == (
        "This contract allows 40 hours a week; 1:00 hours are left in the week of 2025-03-10."
    )
    assert diary_rows(contract) == before


@pytest.mark.django_db
def test_weekly_hour_limit_counts_only_the_week_of_the_entry(frozen_now):
    contract = DiaryContractFactory(weekly_hour_limit=10)
    with time_machine.travel(datetime(2025, 3, 8, 12, 0, tzinfo=UTC), tick=False):
        add(contract, work_date=LAST_FRIDAY, minutes=10 * 60)
    entry = add(contract, work_date=MONDAY, minutes=10 * 60)
    assert entry.minutes == 600
    assert DiaryEntry.objects.filter(contract=contract).count() == 2


@pytest.mark.django_db
def test_single_entry_of_more_than_24_hours_is_refused(frozen_now):
    contract = DiaryContractFactory(weekly_hour_limit=None)
    with pytest.raises(DomainError) as refused:
        add(contract, minutes=24 * 60 + 1)
    assert refused.value.message == "A day has at most 24 hours."
    assert diary_rows(contract) == []
    assert add(contract, minutes=24 * 60).minutes == 1440


@pytest.mark.django_db
def test_day_total_over_24_hours_is_refused(frozen_now):
    contract = DiaryContractFactory(weekly_hour_limit=None)
    add(contract, work_date=MONDAY, minutes=20 * 60)
    add(contract, work_date=MONDAY, minutes=4 * 60)
    before = diary_rows(contract)
    with pytest.raises(DomainError) as refused:
        add(contract, work_date=MONDAY, minutes=1)
    assert refused.value.message == "That would be more than 24 hours on 2025-03-10."
    assert diary_rows(contract) == before


@pytest.mark.django_db
def test_time_cannot_be_recorded_for_a_future_day(frozen_now):
    contract = DiaryContractFactory()
    with pytest.raises(DomainError) as refused:
        add(contract, work_date=date(2025, 3, 13))
    assert refused.value.message == (
        "Time can only be recorded for today or earlier days: today is Wed Mar 12, 2025 in UTC."
    )
    assert diary_rows(contract) == []


@pytest.mark.django_db
def test_time_cannot_be_recorded_before_contract_start(frozen_now):
    contract = DiaryContractFactory(started_at=datetime(2025, 3, 11, 16, 0, tzinfo=UTC))
    with pytest.raises(DomainError) as refused:
        add(contract, work_date=MONDAY)
    assert refused.value.message == "The contract started on 2025-03-11; record time from that day on."
    assert diary_rows(contract) == []
    assert add(contract, work_date=date(2025, 3, 11)).work_date == date(2025, 3, 11)


# Diary and contract state.


@pytest.mark.django_db
def test_paused_contract_accepts_no_new_time(frozen_now):
    contract = DiaryContractFactory()
    services.contract_pause(contract=contract, by=contract.client)
    with pytest.raises(DomainError) as refused:
        add(contract)
    assert refused.value.message == "This contract is paused: no new time can be recorded."
    assert diary_rows(contract) == []


@pytest.mark.django_db
def test_contract_under_notice_still_accepts_new_time(frozen_now):
    contract = DiaryContractFactory(notice_days=7)
    services.contract_give_notice(contract=contract, by=contract.client, reason=EndReason.COMPLETED)
    assert Contract.objects.get(pk=contract.pk).state == ContractState.ENDING
    entry = add(contract, minutes=90)
    assert diary_rows(contract) == [(entry.pk, contract.pk, WEDNESDAY, 90, "Worked on the API", None)]


@pytest.mark.django_db
def test_freelancer_edits_open_unbilled_entry(frozen_now):
    contract = DiaryContractFactory()
    entry = add(contract, work_date=MONDAY, minutes=60)
    services.diary_entry_edit(
        entry=entry, by=contract.freelancer, work_date=date(2025, 3, 11), minutes=75, memo="Tests"
    )
    assert diary_rows(contract) == [(entry.pk, contract.pk, date(2025, 3, 11), 75, "Tests", None)]


@pytest.mark.django_db
def test_freelancer_deletes_open_unbilled_entry(frozen_now):
    contract = DiaryContractFactory()
    entry = add(contract)
    services.diary_entry_delete(entry=entry, by=contract.freelancer)
    assert diary_rows(contract) == []


@pytest.mark.django_db
def test_client_cannot_edit_or_delete_entries(frozen_now):
    contract = DiaryContractFactory()
    entry = add(contract, minutes=60)
    before = diary_rows(contract)
    with pytest.raises(DomainError) as refused_edit:
        services.diary_entry_edit(entry=entry, by=contract.client, work_date=WEDNESDAY, minutes=30, memo="Less")
    with pytest.raises(DomainError) as refused_delete:
        services.diary_entry_delete(entry=entry, by=contract.client)
    message = "Only the freelancer of this contract can record time in its work diary."
    assert refused_edit.value.message == refused_delete.value.message == message
    assert diary_rows(contract) == before


@pytest.mark.django_db
def test_edit_counts_the_weekly_limit_without_the_entry_itself(frozen_now):
    contract = DiaryContractFactory(weekly_hour_limit=10)
    add(contract, work_date=MONDAY, minutes=6 * 60)
    entry = add(contract, work_date=WEDNESDAY, minutes=4 * 60)
    services.diary_entry_edit(entry=entry, by=contract.freelancer, work_date=WEDNESDAY, minutes=4 * 60, memo="Same")
    with pytest.raises(DomainError) as refused:
        services.diary_entry_edit(
            entry=entry, by=contract.freelancer, work_date=WEDNESDAY, minutes=4 * 60 + 1, memo="More"
        )
    assert refused.value.message == (
        "This contract allows 10 hours a week; 4:00 hours are left in the week of 2025-03-10."
    )
    assert DiaryEntry.objects.get(pk=entry.pk).minutes == 240


# The week edit deadline: last week's time may change until Monday 12:00 UTC.


@pytest.fixture
def last_week_entry():
    with time_machine.travel(datetime(2025, 3, 7, 18, 0, tzinfo=UTC), tick=False):
        contract = DiaryContractFactory()
        return add(contract, work_date=LAST_FRIDAY, minutes=120)


@pytest.mark.django_db
def test_last_weeks_entry_editable_until_monday_1159_utc(last_week_entry):
    entry = last_week_entry
    with time_machine.travel(datetime(2025, 3, 10, 11, 59, 59, tzinfo=UTC), tick=False):
        services.diary_entry_edit(
            entry=entry, by=entry.contract.freelancer, work_date=LAST_FRIDAY, minutes=150, memo="Review"
        )
    assert DiaryEntry.objects.get(pk=entry.pk).minutes == 150


@pytest.mark.django_db
def test_last_weeks_entry_cannot_be_edited_or_deleted_from_monday_noon_utc(last_week_entry):
    entry = last_week_entry
    contract = entry.contract
    freelancer = contract.freelancer
    before = diary_rows(contract)
    with time_machine.travel(datetime(2025, 3, 10, 12, 0, tzinfo=UTC), tick=False):
        with pytest.raises(DomainError) as refused_edit:
            services.diary_entry_edit(entry=entry, by=freelancer, work_date=LAST_FRIDAY, minutes=150, memo="Late")
        with pytest.raises(DomainError) as refused_delete:
            services.diary_entry_delete(entry=entry, by=freelancer)
    message = "That week has been closed for invoicing; its time can no longer change."
    assert refused_edit.value.message == refused_delete.value.message == message
    assert diary_rows(contract) == before


@pytest.mark.django_db
def test_time_for_last_week_cannot_be_added_from_monday_noon_utc(last_week_entry):
    contract = last_week_entry.contract
    with time_machine.travel(datetime(2025, 3, 10, 11, 59, tzinfo=UTC), tick=False):
        add(contract, work_date=date(2025, 3, 6), minutes=30)
    with (
        time_machine.travel(datetime(2025, 3, 10, 12, 0, tzinfo=UTC), tick=False),
        pytest.raises(DomainError) as refused,
    ):
        add(contract, work_date=date(2025, 3, 6), minutes=30)
    assert refused.value.message == (
        "The week of 2025-03-03 was closed for invoicing on Monday 2025-03-10 at 12:00 UTC; "
        "its time can no longer change."
    )
    assert DiaryEntry.objects.filter(contract=contract).count() == 2


# Invoiced time never changes.


@pytest.mark.django_db
def test_invoiced_entry_cannot_be_edited_or_deleted(frozen_now):
    contract = DiaryContractFactory()
    entry = add(contract, minutes=60)
    invoice = invoice_time(contract)
    assert invoice.minutes == 60
    entry.refresh_from_db()
    before = diary_rows(contract)
    with pytest.raises(DomainError) as refused_edit:
        services.diary_entry_edit(entry=entry, by=contract.freelancer, work_date=WEDNESDAY, minutes=30, memo="Less")
    with pytest.raises(DomainError) as refused_delete:
        services.diary_entry_delete(entry=entry, by=contract.freelancer)
    assert refused_edit.value.message == refused_delete.value.message == ENTRY_BILLED_MESSAGE
    entry.minutes = 30
    with pytest.raises(DomainError, match="already been invoiced"):
        entry.save()
    with pytest.raises(DomainError, match="already been invoiced"):
        DiaryEntry.objects.filter(pk=entry.pk).update(minutes=30)
    with pytest.raises(DomainError, match="already been invoiced"):
        DiaryEntry.objects.filter(pk=entry.pk).delete()
    assert diary_rows(contract) == before


# The diary locks when the contract ends: services.


@pytest.mark.django_db
def test_ended_contract_diary_refuses_new_time(frozen_now):
    contract, _ = ended_contract_with_entry()
    before = diary_rows(contract)
    with pytest.raises(DomainError) as refused:
        add(contract, minutes=30)
    assert refused.value.message == DIARY_LOCKED_MESSAGE
    assert diary_rows(contract) == before


@pytest.mark.django_db
def test_ended_contract_diary_refuses_edit_and_delete(frozen_now):
    contract, entry = ended_contract_with_entry()
    before = diary_rows(contract)
    with pytest.raises(DomainError) as refused_edit:
        services.diary_entry_edit(entry=entry, by=contract.freelancer, work_date=MONDAY, minutes=30, memo="Less")
    with pytest.raises(DomainError) as refused_delete:
        services.diary_entry_delete(entry=entry, by=contract.freelancer)
    assert refused_edit.value.message == refused_delete.value.message == DIARY_LOCKED_MESSAGE
    assert diary_rows(contract) == before


# The diary locks when the contract ends: the model layer, for any code path.


@pytest.mark.django_db
def test_locked_diary_entry_save_raises(frozen_now):
    contract, entry = ended_contract_with_entry()
    before = diary_rows(contract)
    entry.minutes = 600
    with pytest.raises(DomainError) as refused:
        entry.save()
    assert refused.value.message == DIARY_LOCKED_MESSAGE
    assert diary_rows(contract) == before


@pytest.mark.django_db
def test_locked_diary_entry_delete_raises(frozen_now):
    contract, entry = ended_contract_with_entry()
    before = diary_rows(contract)
    with pytest.raises(DomainError) as refused:
        entry.delete()
    assert refused.value.message == DIARY_LOCKED_MESSAGE
    assert diary_rows(contract) == before


@pytest.mark.django_db
def test_new_entry_saved_on_ended_contract_raises(frozen_now):
    contract, _ = ended_contract_with_entry()
    before = diary_rows(contract)
    with pytest.raises(DomainError) as refused:
        DiaryEntry.objects.create(contract=contract, work_date=WEDNESDAY, minutes=30, memo="After the end")
    assert refused.value.message == DIARY_LOCKED_MESSAGE
    assert diary_rows(contract) == before


@pytest.mark.django_db
def test_new_entry_on_ended_contract_raises_even_with_stale_contract_instance(frozen_now):
    """The lock is the contract's state in the database, not the copy a caller holds."""
    contract = DiaryContractFactory()
    services.contract_end(contract=contract, by=contract.freelancer, reason=EndReason.COMPLETED)
    assert contract.state == ContractState.ACTIVE  # the caller's copy predates the end
    with pytest.raises(DomainError) as refused:
        DiaryEntry.objects.create(contract=contract, work_date=WEDNESDAY, minutes=30, memo="After the end")
    assert refused.value.message == DIARY_LOCKED_MESSAGE
    assert diary_rows(contract) == []


@pytest.mark.django_db
def test_entry_cannot_be_moved_into_an_ended_contracts_diary(frozen_now):
    ended, _ = ended_contract_with_entry()
    open_contract = DiaryContractFactory(client=ended.client, freelancer=ended.freelancer)
    entry = add(open_contract, minutes=45)
    before = diary_rows(ended, open_contract)
    entry.contract = ended
    with pytest.raises(DomainError) as refused:
        entry.save()
    assert refused.value.message == DIARY_LOCKED_MESSAGE
    assert diary_rows(ended, open_contract) == before


@pytest.mark.django_db
def test_locked_diary_queryset_update_raises(frozen_now):
    contract, _ = ended_contract_with_entry()
    before = diary_rows(contract)
    with pytest.raises(DomainError) as refused:
        DiaryEntry.objects.filter(contract=contract).update(minutes=600)
    assert refused.value.message == DIARY_LOCKED_MESSAGE
    with pytest.raises(DomainError):
        contract.diary_entries.update(memo="Rewritten")
    assert diary_rows(contract) == before


@pytest.mark.django_db
def test_locked_diary_queryset_delete_raises(frozen_now):
    contract, _ = ended_contract_with_entry()
    before = diary_rows(contract)
    with pytest.raises(DomainError) as refused:
        DiaryEntry.objects.filter(contract=contract).delete()
    assert refused.value.message == DIARY_LOCKED_MESSAGE
    with pytest.raises(DomainError):
        contract.diary_entries.all().delete()
    assert diary_rows(contract) == before


@pytest.mark.django_db
def test_locked_diary_bulk_create_raises(frozen_now):
    contract, _ = ended_contract_with_entry()
    before = diary_rows(contract)
    with pytest.raises(DomainError) as refused:
        DiaryEntry.objects.bulk_create(
            [DiaryEntry(contract=contract, work_date=WEDNESDAY, minutes=30, memo="After the end")]
        )
    assert refused.value.message == DIARY_LOCKED_MESSAGE
    assert diary_rows(contract) == before


@pytest.mark.django_db
def test_locked_diary_bulk_update_raises(frozen_now):
    contract, _ = ended_contract_with_entry()
    before = diary_rows(contract)
    entries = list(DiaryEntry.objects.filter(contract=contract))
    for entry in entries:
        entry.minutes = 600
    with pytest.raises(DomainError) as refused:
        DiaryEntry.objects.bulk_update(entries, ["minutes"])
    assert refused.value.message == DIARY_LOCKED_MESSAGE
    assert diary_rows(contract) == before


# The diary lock in the Django admin.


@pytest.mark.django_db
def test_admin_change_of_locked_entry_shows_form_error_and_keeps_entry(client, frozen_now):
    contract, entry = ended_contract_with_entry()
    before = diary_rows(contract)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:contracts_diaryentry_change", args=[entry.pk]),
        {"contract": contract.pk, "work_date": "2025-03-10", "minutes": "600", "memo": "Changed in admin"},
    )
    assert response.status_code == 200
    assert list(response.context["adminform"].form.non_field_errors()) == [DIARY_LOCKED_MESSAGE]
    assert DIARY_LOCKED_MESSAGE in response.content.decode()
    assert diary_rows(contract) == before


@pytest.mark.django_db
def test_admin_cannot_add_entry_to_ended_contract(client, frozen_now):
    contract, _ = ended_contract_with_entry()
    before = diary_rows(contract)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:contracts_diaryentry_add"),
        {"contract": contract.pk, "work_date": "2025-03-12", "minutes": "60", "memo": "Added in admin"},
    )
    assert response.status_code == 200
    assert list(response.context["adminform"].form.non_field_errors()) == [DIARY_LOCKED_MESSAGE]
    assert diary_rows(contract) == before


@pytest.mark.django_db
def test_admin_delete_of_locked_entry_is_forbidden(client, frozen_now):
    contract, entry = ended_contract_with_entry()
    before = diary_rows(contract)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(reverse("admin:contracts_diaryentry_delete", args=[entry.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert diary_rows(contract) == before

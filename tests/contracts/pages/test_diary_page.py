"""The work diary of an hourly contract: the freelancer records, edits and deletes
time within the weekly limit while the contract is open; the client reads it; once
the contract has ended the diary is locked, also against forged posts."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from contracts import services
from contracts.models import DiaryEntry
from contracts.models.diary import DIARY_LOCKED_MESSAGE
from tests.factories import DiaryEntryFactory, HourlyContractFactory
from tests.fixtures.pages import html, messages_of, signed_in, text

# Someone not party to the contract, or another contract's entry.


@pytest.mark.django_db
def test_someone_not_party_gets_404_for_diary_edit_and_delete_and_the_entry_is_unchanged(client, hourly, stranger):
    entry = DiaryEntryFactory(contract=hourly, minutes=60, memo="Original")
    signed_in(client, stranger)
    edit_url = reverse("diary_entry_edit", args=[hourly.pk, entry.pk])

    assert client.get(edit_url).status_code == 404
    forged = {"work_date": entry.work_date.isoformat(), "hours": "9", "minutes": "0", "memo": "Forged"}
    assert client.post(edit_url, forged).status_code == 404
    assert client.post(reverse("diary_entry_delete", args=[hourly.pk, entry.pk])).status_code == 404

    entry.refresh_from_db()
    assert (entry.minutes, entry.memo) == (60, "Original")


@pytest.mark.django_db
def test_diary_entry_of_one_contract_is_404_through_another_contract_of_the_same_user(client, hourly, freelancer):
    other = HourlyContractFactory(freelancer=freelancer)
    entry = DiaryEntryFactory(contract=other, minutes=60)
    signed_in(client, freelancer)

    response = client.post(reverse("diary_entry_delete", args=[hourly.pk, entry.pk]))

    assert response.status_code == 404
    assert DiaryEntry.objects.filter(pk=entry.pk).exists()


# Recording time.


def diary_data(hours: int, minutes: int, memo: str, work_date=None) -> dict:
    work_date = work_date or timezone.now().date()
    return {"work_date": work_date.isoformat(), "hours": str(hours), "minutes": str(minutes), "memo": memo}


@pytest.mark.django_db
def test_freelancer_adds_time_to_the_diary(client, hourly):
    signed_in(client, hourly.freelancer)

    response = client.post(reverse("diary", args=[hourly.pk]), diary_data(1, 30, "Wrote the endpoints"), follow=True)

    entry = DiaryEntry.objects.get(contract=hourly)
    assert (entry.minutes, entry.memo, entry.work_date) == (90, "Wrote the endpoints", timezone.now().date())
    assert messages_of(response) == ["Time recorded."]
    assert "Wrote the endpoints" in text(response)


@pytest.mark.django_db
def test_freelancer_edits_a_diary_entry(client, hourly):
    entry = DiaryEntryFactory(contract=hourly, minutes=60, memo="First draft")
    signed_in(client, hourly.freelancer)
    url = reverse("diary_entry_edit", args=[hourly.pk, entry.pk])

    form_page = client.get(url)
    response = client.post(url, diary_data(2, 15, "Second draft", entry.work_date), follow=True)

    assert form_page.status_code == 200
    assert 'value="First draft"' in html(form_page)
    entry.refresh_from_db()
    assert (entry.minutes, entry.memo) == (135, "Second draft")
    assert messages_of(response) == ["Diary entry updated."]


@pytest.mark.django_db
def test_freelancer_deletes_a_diary_entry(client, hourly):
    entry = DiaryEntryFactory(contract=hourly, minutes=60)
    signed_in(client, hourly.freelancer)

    response = client.post(reverse("diary_entry_delete", args=[hourly.pk, entry.pk]), follow=True)

    assert not DiaryEntry.objects.filter(pk=entry.pk).exists()
    assert messages_of(response) == ["Diary entry deleted."]


@pytest.mark.django_db
def test_client_cannot_add_time_and_is_told_why(client, hourly):
    signed_in(client, hourly.client)

    response = client.post(reverse("diary", args=[hourly.pk]), diary_data(1, 0, "Client's own time"))

    assert response.status_code == 400
    assert DiaryEntry.objects.count() == 0
    assert "Only the freelancer of this contract can record time in its work diary." in text(response)


@pytest.mark.django_db
def test_client_sees_no_record_form_and_no_edit_links(client, hourly):
    entry = DiaryEntryFactory(contract=hourly, minutes=60)
    signed_in(client, hourly.client)

    response = client.get(reverse("diary", args=[hourly.pk]))

    assert "Record time" not in text(response)
    assert reverse("diary_entry_edit", args=[hourly.pk, entry.pk]) not in html(response)


@pytest.mark.django_db
def test_client_cannot_edit_or_delete_diary_entries(client, hourly):
    entry = DiaryEntryFactory(contract=hourly, minutes=60, memo="Original")
    signed_in(client, hourly.client)

    form_page = client.get(reverse("diary_entry_edit", args=[hourly.pk, entry.pk]), follow=True)
    edit = client.post(
        reverse("diary_entry_edit", args=[hourly.pk, entry.pk]), diary_data(5, 0, "Changed", entry.work_date)
    )
    delete = client.post(reverse("diary_entry_delete", args=[hourly.pk, entry.pk]), follow=True)

    only_freelancer = "Only the freelancer of this contract can record time in its work diary."
    assert form_page.redirect_chain == [(reverse("diary", args=[hourly.pk]), 302)]
    assert messages_of(form_page) == [only_freelancer]
    assert edit.status_code == 400
    assert only_freelancer in text(edit)
    assert messages_of(delete) == [only_freelancer]
    entry.refresh_from_db()
    assert (entry.minutes, entry.memo) == (60, "Original")


@pytest.mark.django_db
def test_time_over_the_weekly_limit_is_refused_and_the_typed_values_are_kept(client, client_user, freelancer):
    contract = HourlyContractFactory(client=client_user, freelancer=freelancer, weekly_hour_limit=2)
    today = timezone.now().date()
    DiaryEntryFactory(contract=contract, minutes=90, work_date=today)
    signed_in(client, freelancer)

    response = client.post(reverse("diary", args=[contract.pk]), diary_data(1, 5, "Extra polishing"))

    monday = today - timedelta(days=today.weekday())
    assert response.status_code == 400
    assert f"This contract allows 2 hours a week; 0:30 hours are left in the week of {monday:%Y-%m-%d}." in text(
        response
    )
    assert 'value="Extra polishing"' in html(response)
    assert re.search(r'name="hours" value="1"', html(response))
    assert re.search(r'name="minutes" value="5"', html(response))
    assert DiaryEntry.objects.filter(contract=contract).count() == 1


@pytest.mark.django_db
def test_diary_refuses_new_time_while_paused(client, hourly):
    services.contract_pause(contract=hourly, by=hourly.client)
    signed_in(client, hourly.freelancer)

    response = client.get(reverse("diary", args=[hourly.pk]))

    assert "This contract is paused: no new time can be recorded now." in text(response)
    assert "Add time" not in text(response)


# The diary locks when the contract ends.


@pytest.fixture
def ended_with_entry(hourly):
    entry = DiaryEntryFactory(contract=hourly, minutes=60, memo="Before the end")
    services.contract_end(contract=hourly, by=hourly.freelancer, reason="completed")
    hourly.refresh_from_db()
    entry.refresh_from_db()
    return hourly, entry


@pytest.mark.django_db
def test_forged_add_after_the_end_is_refused_as_locked(client, ended_with_entry):
    contract, _entry = ended_with_entry
    signed_in(client, contract.freelancer)

    response = client.post(reverse("diary", args=[contract.pk]), diary_data(1, 0, "After the end"))

    assert response.status_code == 400
    assert DIARY_LOCKED_MESSAGE in text(response)
    assert DiaryEntry.objects.filter(contract=contract).count() == 1


@pytest.mark.django_db
def test_forged_edit_after_the_end_is_refused_as_locked(client, ended_with_entry):
    contract, entry = ended_with_entry
    signed_in(client, contract.freelancer)
    url = reverse("diary_entry_edit", args=[contract.pk, entry.pk])

    opened = client.get(url, follow=True)
    response = client.post(url, diary_data(3, 0, "Padded", entry.work_date))

    assert messages_of(opened) == [DIARY_LOCKED_MESSAGE]
    assert response.status_code == 400
    assert DIARY_LOCKED_MESSAGE in text(response)
    entry.refresh_from_db()
    assert (entry.minutes, entry.memo) == (60, "Before the end")


@pytest.mark.django_db
def test_forged_delete_after_the_end_is_refused_as_locked(client, ended_with_entry):
    contract, entry = ended_with_entry
    signed_in(client, contract.freelancer)

    response = client.post(reverse("diary_entry_delete", args=[contract.pk, entry.pk]), follow=True)

    assert messages_of(response) == [DIARY_LOCKED_MESSAGE]
    assert DiaryEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
def test_locked_diary_page_shows_locked_and_no_edit_or_delete_links(client, ended_with_entry):
    contract, entry = ended_with_entry
    signed_in(client, contract.freelancer)

    response = client.get(reverse("diary", args=[contract.pk]))

    assert response.status_code == 200
    assert '<span class="tag locked">Locked</span>' in html(response)
    assert "This diary is locked" in text(response)
    assert "Before the end" in text(response)
    assert reverse("diary_entry_edit", args=[contract.pk, entry.pk]) not in html(response)
    assert reverse("diary_entry_delete", args=[contract.pk, entry.pk]) not in html(response)
    assert "Add time" not in text(response)


@pytest.mark.django_db
def test_fixed_contract_has_no_diary_page(client, fixed):
    signed_in(client, fixed.freelancer)

    response = client.get(reverse("diary", args=[fixed.pk]), follow=True)

    assert response.redirect_chain == [(reverse("contract_detail", args=[fixed.pk]), 302)]
    assert messages_of(response) == ["Fixed-price contracts have milestones, not a work diary."]

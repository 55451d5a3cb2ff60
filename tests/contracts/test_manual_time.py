"""Manual time (issue 14): an hourly contract agreed without manual time takes time
only as it is worked. The freelancer records time for their own today, in their time
zone, and may change or delete an entry only until that day is over for them; the
diary page says so. With manual time, earlier days of open weeks are fine as before."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from contracts import services
from contracts.models import DiaryEntry
from contracts_portal.errors import DomainError
from tests.factories import HourlyContractFactory
from tests.fixtures.pages import html, signed_in, text
from tests.fixtures.people import person

# 11:00 UTC on Wednesday Mar 11 is midnight starting Thursday Mar 12 in Auckland (NZDT, UTC+13).
AUCKLAND_MIDNIGHT = datetime(2026, 3, 11, 11, 0, tzinfo=UTC)
THURSDAY = date(2026, 3, 12)
WEDNESDAY = date(2026, 3, 11)


@pytest.fixture
def kiri(db):
    return person("kiri", first_name="Kiri", time_zone="Pacific/Auckland")


@pytest.fixture
def live(kiri, clara):
    """An hourly contract without manual time, Kiri the freelancer in Auckland."""
    return HourlyContractFactory(
        client=clara, freelancer=kiri, manual_time_allowed=False, started_at=AUCKLAND_MIDNIGHT - timedelta(days=30)
    )


def at(moment):
    return time_machine.travel(moment, tick=False)


def add(contract, work_date, minutes=60):
    return services.diary_entry_add(
        contract=contract, by=contract.freelancer, work_date=work_date, minutes=minutes, memo="Work"
    )


def refusal(call) -> str:
    with pytest.raises(DomainError) as refused:
        call()
    return refused.value.message


@pytest.mark.django_db
def test_without_manual_time_the_freelancer_records_time_only_for_their_own_today(live):
    with at(AUCKLAND_MIDNIGHT):
        add(live, THURSDAY)
        message = refusal(lambda: add(live, WEDNESDAY))

    assert message == (
        "This contract does not allow manual time: time can be recorded only for today, "
        "Thu Mar 12, 2026 in Pacific/Auckland."
    )
    assert list(DiaryEntry.objects.filter(contract=live).values_list("work_date", flat=True)) == [THURSDAY]


@pytest.mark.django_db
def test_without_manual_time_an_entry_can_be_changed_or_deleted_only_until_its_day_is_over_for_the_freelancer(
    live, kiri
):
    with at(AUCKLAND_MIDNIGHT):
        entry = add(live, THURSDAY)
    with at(AUCKLAND_MIDNIGHT + timedelta(hours=23, minutes=59)):  # 23:59 on Thursday in Auckland
        services.diary_entry_edit(entry=entry, by=kiri, work_date=THURSDAY, minutes=90, memo="Longer")
    with at(AUCKLAND_MIDNIGHT + timedelta(days=1)):  # Friday in Auckland, still Thursday in UTC
        expected = (
            "This contract does not allow manual time: an entry can be changed or deleted only on its own day, "
            "and this one is of Thu Mar 12, 2026 (today is Fri Mar 13, 2026 in Pacific/Auckland)."
        )
        assert (
            refusal(
                lambda: services.diary_entry_edit(entry=entry, by=kiri, work_date=THURSDAY, minutes=30, memo="Less")
            )
            == expected
        )
        assert refusal(lambda: services.diary_entry_delete(entry=entry, by=kiri)) == expected
        assert services.diary_entry_change_refusal(entry=entry, by=kiri) == expected

    assert list(DiaryEntry.objects.filter(contract=live).values_list("minutes", "memo")) == [(90, "Longer")]


@pytest.mark.django_db
def test_without_manual_time_todays_entry_cannot_be_moved_to_another_day(live, kiri):
    with at(AUCKLAND_MIDNIGHT):
        entry = add(live, THURSDAY)
        message = refusal(
            lambda: services.diary_entry_edit(entry=entry, by=kiri, work_date=WEDNESDAY, minutes=60, memo="Work")
        )

    assert message.startswith("This contract does not allow manual time: time can be recorded only for today")
    assert DiaryEntry.objects.get(pk=entry.pk).work_date == THURSDAY


@pytest.mark.django_db
def test_with_manual_time_earlier_days_of_an_open_week_are_recorded_and_changed(kiri, clara):
    contract = HourlyContractFactory(client=clara, freelancer=kiri, started_at=AUCKLAND_MIDNIGHT - timedelta(days=30))
    with at(AUCKLAND_MIDNIGHT):
        entry = add(contract, date(2026, 3, 9))
    with at(AUCKLAND_MIDNIGHT + timedelta(days=1)):
        services.diary_entry_edit(entry=entry, by=kiri, work_date=date(2026, 3, 10), minutes=45, memo="Moved")

    assert DiaryEntry.objects.get(pk=entry.pk).work_date == date(2026, 3, 10)


@pytest.mark.django_db
def test_the_diary_page_says_time_is_recorded_for_today_only_and_offers_only_today(client, live, kiri, clara):
    with at(AUCKLAND_MIDNIGHT):
        add(live, THURSDAY)
        freelancer_page = signed_in(client, kiri).get(reverse("diary", args=[live.pk]))
        client_page = signed_in(client, clara).get(reverse("diary", args=[live.pk]))

    assert (
        "This contract does not allow manual time: you record time only for your today (Thu Mar 12, 2026, "
        "Pacific/Auckland), and can change or delete an entry only until that day is over for you."
    ) in text(freelancer_page)
    assert 'min="2026-03-12"' in html(freelancer_page) and 'max="2026-03-12"' in html(freelancer_page)
    assert "the freelancer records time only for their own today" in text(client_page)


@pytest.mark.django_db
def test_the_diary_page_offers_no_edit_of_an_entry_whose_day_is_over(client, live, kiri):
    with at(AUCKLAND_MIDNIGHT):
        entry = add(live, THURSDAY)
    edit = reverse("diary_entry_edit", args=[live.pk, entry.pk])
    with at(AUCKLAND_MIDNIGHT + timedelta(hours=1)):
        assert edit in html(signed_in(client, kiri).get(reverse("diary", args=[live.pk])))
    with at(AUCKLAND_MIDNIGHT + timedelta(days=1)):
        assert edit not in html(client.get(reverse("diary", args=[live.pk])))
        response = client.get(edit, follow=True)

    assert "an entry can be changed or deleted only on its own day" in text(response)

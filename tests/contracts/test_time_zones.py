"""Each person has a time zone: first the one their browser reports, then the one they
choose in their settings. Dates they type are days in it, every time shown is in it
with the zone named, and the weekly billing cycle alone stays Monday 00:00 to Sunday
23:59 UTC, shown as such."""

import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile
from accounts.profiles import profile_time_zone_set
from accounts.time_zones import format_moment, time_zone_named
from contracts import services
from contracts.models import DiaryEntry, OutgoingEmail
from contracts.services.mail import queue_email
from contracts_portal.errors import DomainError
from contracts_portal.middleware import UserTimezoneMiddleware
from tests.factories import DiaryEntryFactory, HourlyContractFactory, UserFactory
from tests.fixtures.pages import signed_in
from tests.fixtures.people import person

pytestmark = pytest.mark.django_db

# Monday 2026-11-30 19:00 UTC is already Tuesday 2026-12-01 08:00 in Auckland (NZDT, UTC+13).
AUCKLAND_TUESDAY_MORNING = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)
MONDAY = date(2026, 11, 30)
TUESDAY = date(2026, 12, 1)
WEDNESDAY = date(2026, 12, 2)
# Tuesday 2026-12-01 06:00 UTC is still Monday 2026-11-30 22:00 in Los Angeles (PST, UTC-8).
LOS_ANGELES_MONDAY_EVENING = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
STARTED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def hourly_for(freelancer, **kwargs):
    return HourlyContractFactory(freelancer=freelancer, started_at=kwargs.pop("started_at", STARTED), **kwargs)


def record(client, contract, work_date: date, memo: str = "Wrote the importer"):
    return client.post(
        reverse("diary", args=[contract.pk]),
        {"work_date": work_date.isoformat(), "hours": "2", "minutes": "0", "memo": memo},
    )


def page_text(response) -> str:
    """The text a person reads: inline tags dropped, other tags a space, whitespace collapsed."""
    html = re.sub(r"</?(time|strong|a|span)\b[^>]*>", "", response.content.decode())
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def zone_of_request(user, *, cookie: str = "") -> str:
    """The time zone active while a request of ``user`` with the ``tz`` cookie is handled."""
    request = RequestFactory().get("/")
    request.user = user
    if cookie:
        request.COOKIES["tz"] = cookie
    seen = []
    UserTimezoneMiddleware(lambda request: seen.append(timezone.get_current_timezone_name()))(request)
    return seen[0]


def stored_zone(user) -> str:
    return Profile.objects.filter(user=user).values_list("time_zone", flat=True).first() or ""


# The diary's "no future dates" rule uses the freelancer's own today.


def test_freelancer_in_auckland_records_time_for_their_tuesday_while_utc_is_still_monday():
    freelancer = person("aroha", time_zone="Pacific/Auckland")
    contract = hourly_for(freelancer)

    with time_machine.travel(AUCKLAND_TUESDAY_MORNING, tick=False):
        entry = services.diary_entry_add(
            contract=contract, by=freelancer, work_date=TUESDAY, minutes=90, memo="Morning standup"
        )

    assert DiaryEntry.objects.get(pk=entry.pk).work_date == TUESDAY


def test_freelancer_in_auckland_cannot_record_time_for_their_tomorrow():
    freelancer = person("aroha", time_zone="Pacific/Auckland")
    contract = hourly_for(freelancer)

    with time_machine.travel(AUCKLAND_TUESDAY_MORNING, tick=False), pytest.raises(DomainError) as refused:
        services.diary_entry_add(contract=contract, by=freelancer, work_date=WEDNESDAY, minutes=60, memo="Later")

    assert refused.value.message == (
        "Time can only be recorded for today or earlier days: today is Tue Dec 1, 2026 in Pacific/Auckland."
    )
    assert not DiaryEntry.objects.filter(contract=contract).exists()


def test_freelancer_in_los_angeles_cannot_record_tuesday_on_monday_evening_though_utc_is_tuesday():
    freelancer = person("lena", time_zone="America/Los_Angeles")
    contract = hourly_for(freelancer)

    with time_machine.travel(LOS_ANGELES_MONDAY_EVENING, tick=False):
        with pytest.raises(DomainError) as refused:
            services.diary_entry_add(contract=contract, by=freelancer, work_date=TUESDAY, minutes=60, memo="Early")
        monday = services.diary_entry_add(contract=contract, by=freelancer, work_date=MONDAY, minutes=60, memo="Late")

    assert "today is Mon Nov 30, 2026 in America/Los_Angeles" in refused.value.message
    assert list(DiaryEntry.objects.filter(contract=contract).values_list("pk", "work_date")) == [(monday.pk, MONDAY)]


def test_an_edit_moving_an_entry_to_the_freelancers_tomorrow_is_refused_and_the_entry_unchanged():
    freelancer = person("lena", time_zone="America/Los_Angeles")
    contract = hourly_for(freelancer)
    entry = DiaryEntryFactory(contract=contract, work_date=MONDAY, minutes=60, memo="Late")

    with time_machine.travel(LOS_ANGELES_MONDAY_EVENING, tick=False), pytest.raises(DomainError):
        services.diary_entry_edit(entry=entry, by=freelancer, work_date=TUESDAY, minutes=60, memo="Moved")

    entry.refresh_from_db()
    assert (entry.work_date, entry.memo) == (MONDAY, "Late")


def test_the_contracts_first_day_is_the_day_it_started_where_the_freelancer_is():
    """Started Tuesday 02:00 UTC, which is Monday 18:00 in Los Angeles: Monday counts."""
    freelancer = person("lena", time_zone="America/Los_Angeles")
    contract = hourly_for(freelancer, started_at=datetime(2026, 12, 1, 2, 0, tzinfo=UTC))

    with time_machine.travel(LOS_ANGELES_MONDAY_EVENING, tick=False):
        services.diary_entry_add(contract=contract, by=freelancer, work_date=MONDAY, minutes=60, memo="Kick-off")
        with pytest.raises(DomainError) as refused:
            services.diary_entry_add(
                contract=contract, by=freelancer, work_date=date(2026, 11, 29), minutes=60, memo="Before"
            )

    assert refused.value.message == "The contract started on 2026-11-30; record time from that day on."


def test_a_closed_week_is_named_in_utc_and_in_the_freelancers_time():
    freelancer = person("aroha", time_zone="Pacific/Auckland")
    contract = hourly_for(freelancer)

    with (
        time_machine.travel(datetime(2026, 11, 30, 12, 30, tzinfo=UTC), tick=False),
        pytest.raises(DomainError) as refused,
    ):
        services.diary_entry_add(
            contract=contract, by=freelancer, work_date=date(2026, 11, 29), minutes=60, memo="Sunday"
        )

    assert refused.value.message == (
        "The week of 2026-11-23 was closed for invoicing on Monday 2026-11-30 at 12:00 UTC "
        "(Dec 1, 2026 01:00 NZDT); its time can no longer change."
    )


def test_auckland_morning_through_the_diary_page_prefills_and_records_the_local_today(client):
    freelancer = person("aroha", time_zone="Pacific/Auckland")
    contract = hourly_for(freelancer)
    signed_in(client, freelancer)

    with time_machine.travel(AUCKLAND_TUESDAY_MORNING, tick=False):
        page = client.get(reverse("diary", args=[contract.pk]))
        recorded = record(client, contract, TUESDAY)
        refused = record(client, contract, WEDNESDAY, memo="Tomorrow")

    assert page.status_code == 200
    assert page.context["form"]["work_date"].value() == TUESDAY
    assert 'value="2026-12-01"' in page.content.decode() and 'max="2026-12-01"' in page.content.decode()
    assert recorded.status_code == 302
    assert refused.status_code == 400
    assert "today is Tue Dec 1, 2026 in Pacific/Auckland" in refused.content.decode()
    assert list(DiaryEntry.objects.filter(contract=contract).values_list("work_date", "memo")) == [
        (TUESDAY, "Wrote the importer")
    ]


def test_los_angeles_evening_through_the_diary_page_refuses_tuesday(client):
    freelancer = person("lena", time_zone="America/Los_Angeles")
    contract = hourly_for(freelancer)
    signed_in(client, freelancer)

    with time_machine.travel(LOS_ANGELES_MONDAY_EVENING, tick=False):
        page = client.get(reverse("diary", args=[contract.pk]))
        refused = record(client, contract, TUESDAY)

    assert page.context["form"]["work_date"].value() == MONDAY
    assert refused.status_code == 400
    assert not DiaryEntry.objects.filter(contract=contract).exists()


# The zone is first taken from the browser, once; afterwards the stored one wins.


def test_the_browsers_zone_is_stored_on_the_first_signed_in_request_and_used_at_once(client):
    freelancer = person("aroha")
    contract = hourly_for(freelancer)
    signed_in(client, freelancer, browser_zone="Pacific/Auckland")

    with time_machine.travel(AUCKLAND_TUESDAY_MORNING, tick=False):
        recorded = record(client, contract, TUESDAY)

    assert recorded.status_code == 302
    assert stored_zone(freelancer) == "Pacific/Auckland"


def test_a_later_different_browser_zone_does_not_overwrite_the_stored_one(client):
    freelancer = person("aroha")
    signed_in(client, freelancer, browser_zone="Pacific/Auckland")
    client.get(reverse("my_jobs"))

    client.cookies["tz"] = "Europe/Paris"
    page = client.get(reverse("account_settings"))

    assert stored_zone(freelancer) == "Pacific/Auckland"
    assert "Your time zone is Pacific/Auckland: it is" in page_text(page)
    assert "Your browser is set to Europe/Paris" in page_text(page)
    assert zone_of_request(freelancer, cookie="Europe/Paris") == "Pacific/Auckland"


def test_the_browsers_zone_is_written_once_not_on_every_request(client):
    freelancer = person("aroha")
    signed_in(client, freelancer, browser_zone="Pacific/Auckland")
    client.get(reverse("my_jobs"))

    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("my_jobs"))

    profile_queries = [query["sql"] for query in captured if "accounts_profile" in query["sql"]]
    assert len(profile_queries) == 1 and profile_queries[0].lstrip().upper().startswith("SELECT")


def test_the_diary_reads_the_profile_once_per_request_for_the_page_and_the_service(client):
    freelancer = person("aroha", time_zone="Pacific/Auckland")
    contract = hourly_for(freelancer)
    signed_in(client, freelancer)

    with time_machine.travel(AUCKLAND_TUESDAY_MORNING, tick=False), CaptureQueriesContext(connection) as captured:
        assert record(client, contract, TUESDAY).status_code == 302

    assert sum("accounts_profile" in query["sql"] for query in captured) == 1


@pytest.mark.parametrize("cookie", ["Mars/Olympus_Mons", "../../etc/passwd", "", "pacific/auckland", "x" * 5000])
def test_a_cookie_that_is_not_a_time_zone_stores_nothing_and_times_stay_utc(client, cookie):
    freelancer = person("aroha")
    signed_in(client, freelancer, browser_zone=cookie)

    response = client.get(reverse("my_jobs"))

    assert response.status_code == 200
    assert not Profile.objects.filter(user=freelancer).exists()
    assert zone_of_request(freelancer, cookie=cookie) == "UTC"


def test_anonymous_visitors_get_the_cookies_zone_and_nothing_is_stored():
    assert zone_of_request(AnonymousUser(), cookie="Asia/Tokyo") == "Asia/Tokyo"
    assert zone_of_request(AnonymousUser(), cookie="") == "UTC"
    assert not Profile.objects.exists()


def test_the_zone_is_active_for_the_request_only():
    user = person("aroha", time_zone="Pacific/Auckland")

    assert zone_of_request(user) == "Pacific/Auckland"
    assert timezone.get_current_timezone_name() == "UTC"


# The settings page.


def test_settings_page_shows_the_stored_zone_selected_and_the_time_there(client):
    person("aroha", time_zone="Pacific/Auckland")
    signed_in(client, UserFactory(username="aroha"))

    with time_machine.travel(AUCKLAND_TUESDAY_MORNING, tick=False):
        page = client.get(reverse("account_settings"))

    html = page.content.decode()
    assert page.status_code == 200
    assert re.search(r'<option value="Pacific/Auckland"[^>]*selected', html)
    assert '<optgroup label="Europe">' in html
    assert "it is Dec 1, 2026 08:00 NZDT there" in page_text(page)
    assert 'href="/settings/"' in html  # the header links to it


def test_settings_page_saves_a_valid_zone_with_a_success_message(client):
    freelancer = person("aroha", time_zone="Pacific/Auckland")
    signed_in(client, freelancer)

    with time_machine.travel(datetime(2026, 12, 2, 13, 5, tzinfo=UTC), tick=False):
        response = client.post(reverse("account_settings"), {"time_zone": "Europe/Paris"}, follow=True)

    assert response.redirect_chain == [(reverse("account_settings"), 302)]
    assert stored_zone(freelancer) == "Europe/Paris"
    assert "Time zone saved: times are now shown in Europe/Paris; it is Dec 2, 2026 14:05 CET there." in page_text(
        response
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Mars/Olympus_Mons", "Choose a time zone from the list, such as Europe/Paris."),
        ("", "Choose your time zone."),
        ("x" * 5000, "Choose a time zone from the list, such as Europe/Paris."),
    ],
)
def test_settings_page_refuses_an_unknown_zone_at_the_field_and_stores_nothing(client, value, message):
    freelancer = person("aroha", time_zone="Pacific/Auckland")
    signed_in(client, freelancer)

    response = client.post(reverse("account_settings"), {"time_zone": value})

    assert response.status_code == 400
    assert response.context["form"].errors == {"time_zone": [message]}
    assert message in response.content.decode()
    assert stored_zone(freelancer) == "Pacific/Auckland"


def test_the_settings_service_refuses_an_unknown_zone_with_a_sentence():
    freelancer = person("aroha")

    with pytest.raises(DomainError) as refused:
        profile_time_zone_set(user=freelancer, time_zone="Atlantis/Capital")

    assert refused.value.message == "Choose a time zone from the list, such as Europe/Paris."
    assert not Profile.objects.exists()


def test_settings_page_needs_sign_in(client):
    response = client.get(reverse("account_settings"))

    assert response.status_code == 302 and response.url.startswith(reverse("login"))


# Times shown are in the viewer's zone, with the zone named; the billing week stays UTC.


def test_contract_page_shows_times_in_each_viewers_zone_with_the_zone_named(client):
    freelancer = person("aroha", time_zone="Pacific/Auckland")
    contract = hourly_for(freelancer, client=person("paul", time_zone="Europe/Paris"))

    signed_in(client, freelancer)
    for_freelancer = page_text(client.get(reverse("contract_detail", args=[contract.pk])))
    signed_in(client, contract.client)
    for_client = page_text(client.get(reverse("contract_detail", args=[contract.pk])))

    assert "Nov 2, 2026 22:00 NZDT — contract started" in for_freelancer
    assert "Nov 2, 2026 10:00 CET — contract started" in for_client


def test_diary_page_shows_the_billing_week_in_utc_while_the_freelancers_week_has_turned():
    """Monday Dec 7 08:00 in Auckland is still Sunday Dec 6 in UTC: the week shown is
    the UTC one, and its close is named in UTC and in Auckland time."""
    freelancer = person("aroha", time_zone="Pacific/Auckland")
    contract = hourly_for(freelancer)
    browser = signed_in(Client(), freelancer)

    with time_machine.travel(datetime(2026, 12, 6, 19, 0, tzinfo=UTC), tick=False):
        page = page_text(browser.get(reverse("diary", args=[contract.pk])))

    assert "Billing week: Mon Nov 30 (00:00 UTC) – Sun Dec 6 (23:59 UTC), in UTC whatever your time zone." in page
    assert (
        "Last week was invoiced on Nov 30, 2026 12:00 UTC (Dec 1, 2026 01:00 NZDT your time); "
        "this week's entries can be changed until Dec 7, 2026 12:00 UTC, Dec 8, 2026 01:00 NZDT your time." in page
    )
    assert "The dates you type are days in your time zone, Pacific/Auckland" in page


def test_diary_page_before_monday_noon_says_until_when_last_week_can_change(client):
    freelancer = person("aroha", time_zone="Pacific/Auckland")
    contract = hourly_for(freelancer)
    signed_in(client, freelancer)

    with time_machine.travel(datetime(2026, 11, 30, 9, 0, tzinfo=UTC), tick=False):
        page = page_text(client.get(reverse("diary", args=[contract.pk])))

    assert (
        "Last week's entries can be changed until Nov 30, 2026 12:00 UTC, Dec 1, 2026 01:00 NZDT your time, "
        "when that week is invoiced." in page
    )


def test_the_when_filter_names_the_zone_and_writes_offsets_where_there_is_no_abbreviation():
    moment = datetime(2026, 12, 2, 13, 5, tzinfo=UTC)
    template = Template('{% load local_time %}{{ moment|when }}|{{ moment|when:"UTC" }}|{{ nothing|when|default:"—" }}')

    with timezone.override(time_zone_named("Europe/Paris")):
        rendered = template.render(Context({"moment": moment, "nothing": None}))

    assert rendered == "Dec 2, 2026 14:05 CET|Dec 2, 2026 13:05 UTC|—"
    assert format_moment(moment, time_zone_named("Asia/Dubai")) == "Dec 2, 2026 17:05 UTC+4"
    assert format_moment(moment, time_zone_named("Asia/Kathmandu")) == "Dec 2, 2026 18:50 UTC+5:45"
    assert format_moment(moment, time_zone_named("America/Sao_Paulo")) == "Dec 2, 2026 10:05 UTC-3"


def test_an_email_is_written_in_its_recipients_zone_or_names_utc():
    closes_at = datetime(2026, 12, 16, 9, 30, tzinfo=UTC)
    contract = hourly_for(person("aroha", time_zone="Pacific/Auckland"), client=person("carl"))

    # Rendered while someone else's zone is active (a request in Paris): the recipient's wins.
    with timezone.override(time_zone_named("Europe/Paris")):
        for user in (contract.freelancer, contract.client):
            queue_email(
                key=f"test:{user.pk}",
                user=user,
                subject="Reminder",
                template="feedback_reminder",
                context={"contract": contract, "closes_at": closes_at, "contract_url": "http://x/"},
            )

    to_freelancer = OutgoingEmail.objects.get(key=f"test:{contract.freelancer.pk}")
    to_client = OutgoingEmail.objects.get(key=f"test:{contract.client.pk}")
    assert "until Dec 16, 2026 22:30 NZDT." in to_freelancer.body_text
    assert "until Dec 16, 2026 22:30 NZDT." in to_freelancer.body_html
    assert "until Dec 16, 2026 09:30 UTC." in to_client.body_text

"""My Jobs: the contracts of the person signed in, as freelancer and as client, 20 a
page and newest first, filtered by active and ended, with the other party, the state
and the hours recorded this week or the escrow held."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from contracts import services
from tests.factories import DiaryEntryFactory, FixedContractFactory, HourlyContractFactory
from tests.fixtures.contracts import funded
from tests.fixtures.pages import day, html, section, signed_in, text, text_of


@pytest.mark.django_db
def test_my_jobs_shows_25_contracts_20_per_page_newest_first(client, freelancer):
    now = timezone.now()
    for age in range(25):
        HourlyContractFactory(freelancer=freelancer, title=f"Job {age:02d}", started_at=now - timedelta(days=age))
    signed_in(client, freelancer)

    first = client.get(reverse("my_jobs"))
    second = client.get(reverse("my_jobs"), {"page": 2})

    first_titles = re.findall(r">(Job \d\d)</a>", html(first))
    second_titles = re.findall(r">(Job \d\d)</a>", html(second))
    assert first_titles == [f"Job {age:02d}" for age in range(20)]
    assert second_titles == [f"Job {age:02d}" for age in range(20, 25)]
    assert "Page 1 of 2" in text(first)
    assert "Page 2 of 2" in text(second)


@pytest.mark.django_db
def test_my_jobs_filters_active_and_ended_contracts(client, freelancer):
    HourlyContractFactory(freelancer=freelancer, title="Still running")
    finished = HourlyContractFactory(freelancer=freelancer, title="All done")
    services.contract_end(contract=finished, by=freelancer, reason="completed")
    signed_in(client, freelancer)

    active = client.get(reverse("my_jobs"))
    ended = client.get(reverse("my_jobs"), {"status": "ended"})
    everything = client.get(reverse("my_jobs"), {"status": "all"})

    assert re.findall(r">([^<>]+)</a></td>", html(active)) == ["Still running"]
    assert re.findall(r">([^<>]+)</a></td>", html(ended)) == ["All done"]
    assert sorted(re.findall(r">([^<>]+)</a></td>", html(everything))) == ["All done", "Still running"]
    assert "Active (1)" in text(active)
    assert "Ended (1)" in text(active)


@pytest.mark.django_db
def test_my_jobs_rows_show_kind_other_party_state_and_hours_this_week_or_escrow(client, client_user, freelancer):
    now = timezone.now()
    hourly = HourlyContractFactory(client=client_user, freelancer=freelancer, title="Hourly job", started_at=now)
    DiaryEntryFactory(contract=hourly, minutes=135, work_date=now.date())
    fixed = FixedContractFactory(
        client=client_user, freelancer=freelancer, title="Fixed job", started_at=now - timedelta(days=1)
    )
    funded(fixed, 300_00)
    funded(fixed, 1_234_56)
    signed_in(client, freelancer)

    response = client.get(reverse("my_jobs"))

    rows = [text_of(row) for row in re.findall(r"<tr>\s*<td data-label=\"Contract\">.*?</tr>", html(response), re.S)]
    assert rows == [
        f"Hourly job Hourly Freelancer Ada Lovelace Active 2:15 h this week {day(hourly.started_at)}",
        f"Fixed job Fixed-price Freelancer Ada Lovelace Active $1,534.56 in escrow {day(fixed.started_at)}",
    ]


@pytest.mark.django_db
def test_my_jobs_shows_the_freelancer_as_other_party_to_the_client(client, client_user, freelancer):
    HourlyContractFactory(client=client_user, freelancer=freelancer, title="Hourly job")
    signed_in(client, client_user)

    response = client.get(reverse("my_jobs"))

    row = text_of(section(response, 'data-label="Contract"', "</tr>"))
    assert "Client Grace Hopper Active" in row

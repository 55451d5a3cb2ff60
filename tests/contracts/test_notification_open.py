"""Opening a notification marks it read and takes the person to what it is about:
its link (a path on this site only), else its contract, else the notifications.
Only its owner can open it; the list itself marks nothing read."""

from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from contracts.models import Notification

T0 = datetime(2026, 11, 16, 9, 30, tzinfo=UTC)


@pytest.fixture
def contract(hourly):
    """Clara's hourly contract with Felix (tests/fixtures/contracts.py)."""
    return hourly


def notify(user, message="Something happened", *, contract=None, link="", read_at=None):
    return Notification.objects.create(
        user=user, contract=contract, kind="contract", message=message, link=link, created_at=T0, read_at=read_at
    )


def open_path(notification) -> str:
    return reverse("notification_open", args=[notification.pk])


def read_at(notification):
    return Notification.objects.get(pk=notification.pk).read_at


@pytest.mark.django_db
def test_opening_a_notification_marks_it_read_and_goes_to_its_contract(client, felix, contract):
    notification = notify(felix, contract=contract)
    client.force_login(felix)

    response = client.get(open_path(notification))

    assert response.status_code == 302
    assert response["Location"] == reverse("contract_detail", args=[contract.pk])
    assert read_at(notification) is not None


@pytest.mark.django_db
def test_opening_a_notification_with_a_link_goes_to_that_place_on_the_contract_page(client, felix, contract):
    link = reverse("contract_detail", args=[contract.pk]) + "#refund-requests"
    notification = notify(felix, contract=contract, link=link)
    client.force_login(felix)

    response = client.get(open_path(notification))

    assert response["Location"] == link
    assert read_at(notification) is not None


@pytest.mark.django_db
def test_a_notification_about_nothing_to_open_goes_back_to_the_notifications(client, felix):
    notification = notify(felix)
    client.force_login(felix)

    response = client.get(open_path(notification))

    assert response["Location"] == reverse("notifications")
    assert read_at(notification) is not None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "link",
    [
        "https://evil.example.com/",
        "//evil.example.com/contracts/1/",
        "/\\evil.example.com",
        "\\\\evil.example.com",
        "javascript:alert(1)",
        "http:evil.example.com",
        "contracts/1/",
        "logout",
    ],
)
def test_a_stored_link_that_leaves_the_site_is_never_followed(client, felix, contract, link):
    with_contract = notify(felix, contract=contract, link=link)
    without = notify(felix, link=link)
    client.force_login(felix)

    to_contract = client.get(open_path(with_contract))
    to_list = client.get(open_path(without))

    assert to_contract["Location"] == reverse("contract_detail", args=[contract.pk])
    assert to_list["Location"] == reverse("notifications")


@pytest.mark.django_db
def test_opening_an_already_read_notification_keeps_when_it_was_read(client, felix, contract):
    notification = notify(felix, contract=contract, read_at=T0)
    client.force_login(felix)

    response = client.get(open_path(notification))

    assert response.status_code == 302
    assert read_at(notification) == T0


@pytest.mark.django_db
def test_someone_elses_notification_is_404_and_stays_unread(client, clara, felix, contract):
    notification = notify(felix, contract=contract)
    client.force_login(clara)

    response = client.get(open_path(notification))

    assert response.status_code == 404
    assert read_at(notification) is None


@pytest.mark.django_db
def test_a_notification_that_does_not_exist_is_404(client, felix):
    client.force_login(felix)

    assert client.get(reverse("notification_open", args=[987654])).status_code == 404


@pytest.mark.django_db
def test_opening_a_notification_needs_sign_in(felix, contract):
    notification = notify(felix, contract=contract)

    response = Client().get(open_path(notification))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert read_at(notification) is None


@pytest.mark.django_db
def test_opening_is_a_link_not_a_form_so_a_post_is_refused(client, felix, contract):
    notification = notify(felix, contract=contract)
    client.force_login(felix)

    response = client.post(open_path(notification))

    assert response.status_code == 405
    assert read_at(notification) is None


@pytest.mark.django_db
def test_the_list_links_each_notification_through_open_and_marks_nothing_read_by_itself(client, felix, contract):
    unread = notify(felix, "Unread news", contract=contract)
    read = notify(felix, "Old news", read_at=T0)
    client.force_login(felix)

    html = client.get(reverse("notifications")).content.decode()

    assert f'href="{open_path(unread)}"' in html
    assert f'href="{open_path(read)}"' in html
    assert f'href="{reverse("contract_detail", args=[contract.pk])}"' not in html
    assert read_at(unread) is None


@pytest.mark.django_db
def test_the_header_count_goes_down_by_one_when_a_notification_is_opened(client, felix, contract):
    opened = notify(felix, "First", contract=contract)
    notify(felix, "Second", contract=contract)
    client.force_login(felix)
    assert client.get(reverse("notifications")).context["unread_notifications"] == 2

    response = client.get(open_path(opened), follow=True)

    assert response.redirect_chain == [(reverse("contract_detail", args=[contract.pk]), 302)]
    assert response.context["unread_notifications"] == 1
    assert 'aria-label="1 unread"' in response.content.decode()

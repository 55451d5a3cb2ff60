"""Every page of the portal asks for sign-in, and a contract's pages are a 404 for
someone not party to it. What each page refuses to whom is in that page's file."""

import pytest
from django.urls import reverse

from tests.fixtures.pages import signed_in


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["jobs", "contract", "end", "diary", "refunds", "notifications"])
def test_anonymous_visitor_is_sent_to_sign_in_from_every_page(client, hourly, page):
    url = {
        "jobs": reverse("my_jobs"),
        "contract": reverse("contract_detail", args=[hourly.pk]),
        "end": reverse("contract_end", args=[hourly.pk]),
        "diary": reverse("diary", args=[hourly.pk]),
        "refunds": reverse("refunds"),
        "notifications": reverse("notifications"),
    }[page]

    response = client.get(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["contract_detail", "contract_end", "diary"])
def test_someone_not_party_to_a_contract_gets_404_for_its_pages(client, hourly, stranger, page):
    signed_in(client, stranger)

    response = client.get(reverse(page, args=[hourly.pk]))

    assert response.status_code == 404

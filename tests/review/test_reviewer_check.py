"""Who reviews is decided by one function, ``contracts.models.is_reviewer``: signed
in, active and holding ``contracts.review_flags``. The review pages, the reviewers'
services, the rule on disputed refunds and the header's Review link all ask it, so
they cannot disagree about who reviews."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from contracts import services
from contracts.models import flags
from contracts.models.refund_request import may_review
from tests.factories import UserFactory
from tests.fixtures.people import reviewer, with_permission


@pytest.mark.django_db
def test_a_reviewer_is_signed_in_active_and_holds_the_review_permission():
    assert services.is_reviewer(reviewer())
    assert not services.is_reviewer(reviewer(is_active=False))
    assert not services.is_reviewer(UserFactory(is_staff=True))
    assert not services.is_reviewer(AnonymousUser())
    assert not services.is_reviewer(None)


@pytest.mark.django_db
def test_the_disputed_refund_rule_refuses_whom_the_reviewer_check_refuses():
    for user in (reviewer(), reviewer(is_active=False), UserFactory(is_staff=True), AnonymousUser()):
        assert may_review(None, user) == services.is_reviewer(user)


@pytest.mark.django_db
def test_every_reviewer_check_reads_the_one_review_permission(client, monkeypatch):
    """Point the check at another permission: services, the refund rule, the review
    pages and the header's link all follow it at once."""
    monkeypatch.setattr(flags, "REVIEW_PERMISSION", "contracts.add_accountsuspension")
    holder = with_permission(UserFactory(), "add_accountsuspension")
    former = reviewer()
    review_link = f'href="{reverse("review_queue")}"'

    assert services.is_reviewer(holder) and not services.is_reviewer(former)
    assert may_review(None, holder) and not may_review(None, former)
    client.force_login(holder)
    assert client.get(reverse("review_queue")).status_code == 200
    assert review_link in client.get(reverse("my_jobs")).content.decode()
    client.force_login(former)
    assert client.get(reverse("review_queue")).status_code == 403
    assert review_link not in client.get(reverse("my_jobs")).content.decode()

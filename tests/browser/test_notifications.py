"""What a person clicks: work submitted in the browser e-mails the client a link to
the milestone; the client opens the notification from the list, lands on the
milestone, and the unread count in the header goes down."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from contracts import services
from contracts.models import Notification
from tests.factories import FixedContractFactory, MilestoneFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_submitted_work_is_emailed_and_opening_its_notification_marks_it_read_and_shows_the_milestone(
    page, live_server, signed_in, settings
):
    settings.PORTAL_BASE_URL = live_server.url
    clara = UserFactory(username="clara", first_name="Clara", last_name="Client")
    UserFactory(username="felix", first_name="Felix", last_name="Freelancer")
    contract = FixedContractFactory(client=clara, freelancer__username="felix", title="API work")
    milestone = MilestoneFactory(contract=contract, title="Backend", amount_cents=100_00)
    services.milestone_fund(milestone=milestone, by=clara)
    Notification.objects.all().delete()
    Notification.objects.create(user=clara, contract=contract, kind="contract", message="An older note")

    signed_in("felix")
    page.goto(f"{live_server.url}/contracts/{contract.pk}/")
    page.get_by_role("button", name="Submit work").click()
    expect(page.locator(f"#milestone-{milestone.pk}")).to_contain_text("Work submitted")

    (email,) = [m for m in mail.outbox if m.to == [clara.email]]
    assert email.subject.startswith("Review the work on “Backend” of “API work” by ")
    link = f"{live_server.url}/contracts/{contract.pk}/#milestone-{milestone.pk}"
    assert link in email.body

    page.get_by_role("button", name="Sign out").click()
    signed_in("clara")
    header = page.get_by_role("navigation", name="Main")
    expect(header.get_by_label("2 unread")).to_be_visible()
    header.get_by_role("link", name=re.compile("Notifications")).click()
    page.get_by_role("link", name=re.compile("Felix Freelancer submitted work")).click()

    expect(page).to_have_url(link)
    expect(page.locator(f"#milestone-{milestone.pk}")).to_contain_text("Backend")
    expect(header.get_by_label("1 unread")).to_be_visible()
    assert Notification.objects.get(user=clara, message__contains="submitted work").read_at is not None
    assert Notification.objects.get(user=clara, message="An older note").read_at is None

    page.goto(link)  # the e-mail's link, as the client is signed in
    expect(page.locator(f"#milestone-{milestone.pk}")).to_contain_text("Work submitted")

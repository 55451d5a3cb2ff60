"""Ending a contract in the browser, with a real Celery worker on Redis (not eager):
the closure checklists and feedback requests reach both parties, once."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from playwright.sync_api import expect

from contracts.models import EmailState, OutgoingEmail
from contracts_portal.celery import app
from tests.factories import HourlyContractFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ending_in_the_browser_has_a_real_worker_send_checklists_and_feedback_requests_once(
    page,
    live_server,
    signed_in,
    celery_on_redis,
):
    client = UserFactory(username="clara")
    freelancer = UserFactory(username="felix")
    contract = HourlyContractFactory(client=client, freelancer=freelancer, title="Data migration")

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        signed_in("clara")
        page.goto(f"{live_server.url}/contracts/{contract.pk}/")
        page.get_by_label("Contract options").click()
        page.get_by_role("link", name="End contract").click()
        dialog = page.locator("dialog[open]")
        dialog.get_by_label("Job completed successfully").check()
        dialog.get_by_role("button", name="End contract").click()
        expect(page.locator("#messages")).to_contain_text("The contract has ended.")

        deadline = time.monotonic() + 30
        while OutgoingEmail.objects.filter(state=EmailState.SENT).count() < 4 or len(mail.outbox) < 4:
            assert time.monotonic() < deadline, "waited 30 s for the worker to send the four e-mails"
            time.sleep(0.2)
        time.sleep(1)  # anything more the worker would have sent

    sent = sorted((message.to[0], message.subject) for message in mail.outbox)
    assert sent == sorted(
        [
            (client.email, "Closing “Data migration”: your checklist"),
            (client.email, "How did “Data migration” go? Leave feedback"),
            (freelancer.email, "Closing “Data migration”: your checklist"),
            (freelancer.email, "How did “Data migration” go? Leave feedback"),
        ]
    )
    page.reload()
    expect(page.locator("#checklist")).to_contain_text("Revoke passwords given to the freelancer")

"""Bugs the reliability work found, each pinned by the smallest test that shows it."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from billing.models import Invoice
from contracts import services
from contracts.models import ContractState, DiaryEntry
from contracts.models.diary import DIARY_LOCKED_MESSAGE
from contracts_portal.errors import DomainError
from tests.factories import DiaryEntryFactory, HourlyContractFactory

pytestmark = pytest.mark.django_db


@time_machine.travel("2026-01-06 09:00Z", tick=False)  # a Tuesday: the week stays open throughout
def test_diary_locks_at_the_end_of_the_notice_period_before_the_sweep_records_the_end():
    """The end takes effect at the notice's effective time; the sweep may record it
    later. In between, the freelancer could still edit or delete time, which the end
    then billed (found by the property model's "ended diary unchanged" rule)."""
    contract = HourlyContractFactory(notice_days=2)
    entry = DiaryEntryFactory(contract=contract, minutes=60)
    contract = services.contract_give_notice(contract=contract, by=contract.freelancer, reason="other")

    with time_machine.travel(contract.notice_effective_at + timedelta(minutes=5), tick=False):
        with pytest.raises(DomainError) as edit:
            services.diary_entry_edit(
                entry=entry, by=contract.freelancer, work_date=entry.work_date, minutes=600, memo="More"
            )
        with pytest.raises(DomainError) as delete:
            services.diary_entry_delete(entry=entry, by=contract.freelancer)
        assert edit.value.message == delete.value.message == DIARY_LOCKED_MESSAGE

        services.contract_elapse_notice(contract_id=contract.pk)

    assert contract.__class__.objects.get(pk=contract.pk).state == ContractState.ENDED
    assert DiaryEntry.objects.get(pk=entry.pk).minutes == 60
    assert Invoice.objects.get(contract=contract).minutes == 60


@time_machine.travel("2026-01-06 09:00Z", tick=False)
def test_diary_stays_editable_during_the_notice_period():
    contract = HourlyContractFactory(notice_days=2)
    entry = DiaryEntryFactory(contract=contract, minutes=60)
    contract = services.contract_give_notice(contract=contract, by=contract.freelancer, reason="other")

    with time_machine.travel(timezone.now() + timedelta(days=1), tick=False):
        services.diary_entry_edit(
            entry=entry, by=contract.freelancer, work_date=entry.work_date, minutes=90, memo="Fix"
        )

    assert DiaryEntry.objects.get(pk=entry.pk).minutes == 90

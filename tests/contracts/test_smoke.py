import pytest

from contracts import services
from contracts.models import ContractState
from tests.factories import DiaryEntryFactory, HourlyContractFactory


@pytest.mark.django_db
def test_smoke_hourly_end_bills_time():
    contract = HourlyContractFactory()
    DiaryEntryFactory(contract=contract, minutes=90)
    plan = services.contract_end(contract=contract, by=contract.freelancer, reason="completed")
    contract.refresh_from_db()
    assert contract.state == ContractState.ENDED
    assert plan.unbilled_cents == 7500
    assert contract.invoices.get().amount_cents == 7500

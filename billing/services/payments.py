from datetime import datetime

from django.conf import settings

from ..models import Payment, PaymentSource, TransactionKind
from ..money import fee_cents
from .ledger import Line, client_funds_account, earnings_account, ledger_post, platform_fees_account


def charge_client_and_pay_freelancer(*, contract, amount_cents: int, key: str, at: datetime, memo: str) -> Payment:
    """Charge the client ``amount_cents`` plus the marketplace fee and pay the
    freelancer the amount less the service fee, in one ledger transaction."""
    client_fee = fee_cents(amount_cents, settings.CLIENT_MARKETPLACE_FEE_BPS)
    freelancer_fee = fee_cents(amount_cents, settings.FREELANCER_SERVICE_FEE_BPS)
    ledger_transaction = ledger_post(
        key=key,
        kind=TransactionKind.HOURLY_INVOICE,
        contract=contract,
        at=at,
        memo=memo,
        lines=[
            Line(client_funds_account(contract.client), -(amount_cents + client_fee)),
            Line(earnings_account(contract.freelancer), amount_cents - freelancer_fee),
            Line(platform_fees_account(), client_fee + freelancer_fee),
        ],
    )
    return Payment.objects.create(
        contract=contract,
        client_id=contract.client_id,
        freelancer_id=contract.freelancer_id,
        source=PaymentSource.HOURLY_INVOICE,
        amount_cents=amount_cents,
        freelancer_fee_cents=freelancer_fee,
        client_fee_cents=client_fee,
        paid_at=at,
        ledger_transaction=ledger_transaction,
    )

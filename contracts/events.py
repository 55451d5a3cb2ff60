"""Signals other parts of the portal listen to. They are sent inside the
transaction that made the change, so a receiver's rows (scheduled reminders, flags)
commit or roll back with it; work outside the database belongs in
``delay_on_commit`` from those receivers."""

from django.dispatch import Signal

# sent with: contract, plan (contracts.services.ending.EndPlan)
contract_ended = Signal()

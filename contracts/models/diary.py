from datetime import UTC, date, datetime, time, timedelta

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q

from contracts_portal.db_guards import frozen_columns
from contracts_portal.errors import DomainError

DIARY_LOCKED_MESSAGE = "This contract has ended, so its work diary is locked: no time can be added, changed or removed."
ENTRY_BILLED_MESSAGE = "This time has already been invoiced, so it can no longer be changed or removed."


def week_start(day: date) -> date:
    """Monday of the billing week (Monday 00:00 to Sunday 23:59 UTC) holding ``day``."""
    return day - timedelta(days=day.weekday())


def week_edit_deadline(day: date) -> datetime:
    """The Monday after the week of ``day``, at ``HOURLY_WEEK_INVOICE_HOUR_UTC``: when that
    week is invoiced."""
    next_monday = week_start(day) + timedelta(days=7)
    return datetime.combine(next_monday, time(hour=settings.HOURLY_WEEK_INVOICE_HOUR_UTC), tzinfo=UTC)


def _contract_has_ended(*contract_ids: int) -> bool:
    """Read from the database, not from a contract object the caller may hold from
    before the end."""
    from .contract import Contract, ContractState

    return Contract.objects.filter(pk__in=contract_ids, state=ContractState.ENDED).exists()


class DiaryEntryQuerySet(models.QuerySet):
    """Refuses bulk changes that would touch a locked diary or invoiced time.

    On PostgreSQL a trigger refuses the same, also for raw SQL; this guard gives the
    same answer on SQLite and a readable message everywhere.
    """

    def _refuse_locked(self) -> None:
        if self.filter(contract__state="ended").exists():
            raise DomainError(DIARY_LOCKED_MESSAGE)

    def _refuse_billed(self) -> None:
        if self.filter(invoice__isnull=False).exists():
            raise DomainError(ENTRY_BILLED_MESSAGE)

    def update(self, **kwargs):
        self._refuse_locked()
        self._refuse_billed()
        target = kwargs.get("contract", kwargs.get("contract_id"))
        if target is not None and _contract_has_ended(getattr(target, "pk", target)):
            raise DomainError(DIARY_LOCKED_MESSAGE)
        return super().update(**kwargs)

    def delete(self):
        self._refuse_locked()
        self._refuse_billed()
        return super().delete()

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        if _contract_has_ended(*{obj.contract_id for obj in objs}):
            raise DomainError(DIARY_LOCKED_MESSAGE)
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, fields, batch_size=None):
        self.filter(pk__in=[obj.pk for obj in objs])._refuse_locked()
        self.filter(pk__in=[obj.pk for obj in objs])._refuse_billed()
        return super().bulk_update(objs, fields, batch_size=batch_size)


DIARY_LOCK_SQL = """
DECLARE
    contract_state text;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT state INTO contract_state FROM contracts_contract WHERE id = OLD.contract_id FOR SHARE;
        IF contract_state = 'ended' THEN
            RAISE EXCEPTION 'work diary of contract % is locked: the contract has ended', OLD.contract_id
                USING ERRCODE = 'check_violation';
        END IF;
        IF OLD.invoice_id IS NOT NULL THEN
            RAISE EXCEPTION 'diary entry % is invoiced and cannot change', OLD.id
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT state INTO contract_state FROM contracts_contract WHERE id = NEW.contract_id FOR SHARE;
        IF contract_state = 'ended' THEN
            RAISE EXCEPTION 'work diary of contract % is locked: the contract has ended', NEW.contract_id
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END IF;
    RETURN OLD;
END;
"""


class DiaryEntry(models.Model):
    """Time a freelancer records on an hourly contract.

    The diary locks at the instant the contract ends (the contract row is locked and
    its state read ``FOR SHARE`` by the trigger, so no write slips in beside the end),
    and invoiced time never changes again.
    """

    contract = models.ForeignKey("contracts.Contract", on_delete=models.PROTECT, related_name="diary_entries")
    work_date = models.DateField()
    minutes = models.PositiveIntegerField()
    memo = models.CharField(max_length=500)
    invoice = models.ForeignKey(
        "billing.Invoice", on_delete=models.PROTECT, null=True, blank=True, related_name="diary_entries"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DiaryEntryQuerySet.as_manager()

    class Meta:
        ordering = ("-work_date", "-id")
        verbose_name_plural = "diary entries"
        indexes = [
            models.Index(fields=["contract", "work_date"], name="diary_contract_date"),
            models.Index(fields=["contract"], condition=Q(invoice__isnull=True), name="diary_unbilled"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(minutes__gt=0) & Q(minutes__lte=24 * 60), name="diary_minutes_in_a_day"),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="diary_locked_after_end",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                func=DIARY_LOCK_SQL,
            ),
            frozen_columns(
                "diary_entry_contract_frozen", "contract", message="diary entry %: its contract cannot change"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.work_date}: {self.minutes} min on contract #{self.contract_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            DiaryEntry.objects.select_related("contract").get(pk=self.pk).refuse_change()
        if _contract_has_ended(self.contract_id):
            raise DomainError(DIARY_LOCKED_MESSAGE)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        DiaryEntry.objects.select_related("contract").get(pk=self.pk).refuse_change()
        return super().delete(*args, **kwargs)

    @property
    def is_billed(self) -> bool:
        return self.invoice_id is not None

    @property
    def edit_deadline(self) -> datetime:
        return week_edit_deadline(self.work_date)

    def refuse_change(self) -> None:
        """Raise when this entry may not be changed or removed (locked diary or invoiced)."""
        if self.contract.diary_locked:
            raise DomainError(DIARY_LOCKED_MESSAGE)
        if self.is_billed:
            raise DomainError(ENTRY_BILLED_MESSAGE)

from datetime import date, timedelta, tzinfo

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.profiles import user_time_zone
from accounts.time_zones import format_moment, zone_name
from contracts_portal.errors import DomainError

from ..models import Contract, ContractState, DiaryEntry, week_edit_deadline, week_start, weekly_limits
from ..models.diary import DIARY_LOCKED_MESSAGE
from .locking import lock_contract

MINUTES_IN_A_DAY = 24 * 60


def _check_freelancer(contract: Contract, by, *, adding: bool = False) -> None:
    if not (by and by.is_authenticated and by.pk == contract.freelancer_id):
        raise DomainError("Only the freelancer of this contract can record time in its work diary.")
    if not contract.is_hourly:
        raise DomainError("Only hourly contracts have a work diary.")
    # New time after a notice period is over is refused with the notice's own message.
    if contract.diary_locked and not (adding and contract.state == ContractState.ENDING):
        raise DomainError(DIARY_LOCKED_MESSAGE)


def _today_text(today: date, zone: tzinfo) -> str:
    return f"{today:%a %b} {today.day}, {today.year} in {zone_name(zone)}"


def _check_manual_time(contract: Contract, work_date: date, *, zone: tzinfo, changing: bool = False) -> None:
    """Without manual time (``Contract.manual_time_allowed``), the freelancer records
    time only for their own today, in their time zone, and may change or remove an
    entry only until that day is over for them: the diary holds time as it is worked,
    not time typed in afterwards."""
    if contract.manual_time_allowed:
        return
    today = timezone.localdate(timezone.now(), zone)
    if work_date == today:
        return
    if changing:
        raise DomainError(
            f"This contract does not allow manual time: an entry can be changed or deleted only on its own day, "
            f"and this one is of {work_date:%a %b} {work_date.day}, {work_date.year} "
            f"(today is {_today_text(today, zone)})."
        )
    raise DomainError(
        f"This contract does not allow manual time: time can be recorded only for today, {_today_text(today, zone)}."
    )


def _check_day(
    contract: Contract, work_date: date, minutes: int, *, zone: tzinfo, excluding: int | None = None
) -> None:
    """The day rules. ``work_date`` is a day as the freelancer typed it, in their time
    zone ``zone``: "today" and the contract's first day are theirs, while the billing
    week it falls in, when that week closes and its weekly limit, stay in UTC."""
    now = timezone.now()
    if minutes <= 0:
        raise DomainError("Record at least one minute.")
    if minutes > MINUTES_IN_A_DAY:
        raise DomainError("A day has at most 24 hours.")
    today = timezone.localdate(now, zone)
    if work_date > today:
        raise DomainError(f"Time can only be recorded for today or earlier days: today is {_today_text(today, zone)}.")
    _check_manual_time(contract, work_date, zone=zone)
    first_day = timezone.localdate(contract.started_at, zone)
    if work_date < first_day:
        raise DomainError(f"The contract started on {first_day:%Y-%m-%d}; record time from that day on.")
    deadline = week_edit_deadline(work_date)
    if now >= deadline:
        yours = "" if zone_name(zone) == "UTC" else f" ({format_moment(deadline, zone)})"
        raise DomainError(
            f"The week of {week_start(work_date):%Y-%m-%d} was closed for invoicing on "
            f"{deadline:%A %Y-%m-%d at %H:%M} UTC{yours}; its time can no longer change."
        )
    others = DiaryEntry.objects.filter(contract=contract)
    if excluding is not None:
        others = others.exclude(pk=excluding)
    day_total = others.filter(work_date=work_date).aggregate(total=Sum("minutes"))["total"] or 0
    if day_total + minutes > MINUTES_IN_A_DAY:
        raise DomainError(f"That would be more than 24 hours on {work_date:%Y-%m-%d}.")
    monday = week_start(work_date)
    hours = weekly_limits(contract).for_week(monday)
    if hours is not None:
        week_total = (
            others.filter(work_date__range=(monday, monday + timedelta(days=6))).aggregate(total=Sum("minutes"))[
                "total"
            ]
            or 0
        )
        limit = hours * 60
        if week_total + minutes > limit:
            left = max(limit - week_total, 0)
            raise DomainError(
                f"This contract allows {hours} hours a week; "
                f"{left // 60}:{left % 60:02d} hours are left in the week of {monday:%Y-%m-%d}."
            )


def diary_entry_add(*, contract: Contract, by, work_date: date, minutes: int, memo: str) -> DiaryEntry:
    with transaction.atomic():
        contract = lock_contract(contract.pk)
        _check_freelancer(contract, by, adding=True)
        if not contract.diary_accepts_new_time:
            raise DomainError(f"This contract is {contract.get_state_display().lower()}: no new time can be recorded.")
        if not memo.strip():
            raise DomainError("Describe the work done.")
        _check_day(contract, work_date, minutes, zone=user_time_zone(by))
        return DiaryEntry.objects.create(contract=contract, work_date=work_date, minutes=minutes, memo=memo.strip())


def _locked_entry(entry_id: int, by) -> DiaryEntry:
    contract_id = DiaryEntry.objects.filter(pk=entry_id).values_list("contract_id", flat=True).first()
    if contract_id is None:
        raise DomainError("This diary entry does not exist.")
    contract = lock_contract(contract_id)
    entry = DiaryEntry.objects.select_for_update().get(pk=entry_id)
    entry.contract = contract
    _check_changeable(entry, by)
    return entry


def _check_changeable(entry: DiaryEntry, by) -> None:
    _check_freelancer(entry.contract, by)
    entry.refuse_change()
    if timezone.now() >= entry.edit_deadline:
        raise DomainError("That week has been closed for invoicing; its time can no longer change.")
    _check_manual_time(entry.contract, entry.work_date, zone=user_time_zone(by), changing=True)


def diary_entry_change_refusal(*, entry: DiaryEntry, by) -> str | None:
    """Why ``by`` cannot change the entry now, or None: read without locks, to decide
    whether to show the edit form (the edit itself checks again under the lock)."""
    try:
        _check_changeable(entry, by)
    except DomainError as error:
        return error.message
    return None


def diary_entry_edit(*, entry: DiaryEntry, by, work_date: date, minutes: int, memo: str) -> DiaryEntry:
    with transaction.atomic():
        entry = _locked_entry(entry.pk, by)
        if not memo.strip():
            raise DomainError("Describe the work done.")
        _check_day(entry.contract, work_date, minutes, zone=user_time_zone(by), excluding=entry.pk)
        entry.work_date = work_date
        entry.minutes = minutes
        entry.memo = memo.strip()
        entry.save()
        return entry


def diary_entry_delete(*, entry: DiaryEntry, by) -> None:
    with transaction.atomic():
        entry = _locked_entry(entry.pk, by)
        entry.delete()

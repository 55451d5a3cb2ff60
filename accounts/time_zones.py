"""IANA time zones: which names the portal accepts, the list people choose from, and
how a moment is written in a zone with the zone named."""

import zoneinfo
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cache

from django.core.exceptions import ValidationError
from django.utils import dateformat, timezone

# The regions of the tz database whose zones are places people live in; the
# legacy aliases outside them (US/Pacific, EST5EDT, Etc/GMT+5) stay valid but are
# not offered.
REGIONS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")
MOMENT_FORMAT = "M j, Y H:i"


@cache
def known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def time_zone_named(name) -> zoneinfo.ZoneInfo | None:
    """The zone called ``name``, or None when it is not a name of the tz database."""
    if not isinstance(name, str) or name not in known_time_zones():
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def validate_time_zone(value: str) -> None:
    if time_zone_named(value) is None:
        raise ValidationError("Choose a time zone from the list, such as Europe/Paris.", code="invalid_time_zone")


def zone_name(zone: tzinfo) -> str:
    """The IANA name of a zone (Pacific/Auckland), or UTC."""
    return getattr(zone, "key", None) or ("UTC" if zone.utcoffset(None) == timedelta(0) else str(zone))


def offset_label(offset: timedelta | None) -> str:
    """An offset from UTC as people write it: UTC, UTC+13, UTC+5:30, UTC-3."""
    if not offset:
        return "UTC"
    sign = "+" if offset > timedelta(0) else "-"
    hours, rest = divmod(abs(int(offset.total_seconds())) // 60, 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def zone_label(moment: datetime) -> str:
    """The short name of the zone at ``moment`` (CET, NZDT, PST, UTC); where the tz
    database has no abbreviation for it (it writes +04), the offset: UTC+4."""
    name = moment.tzname() or ""
    if name and name[0] not in "+-":
        return name
    return offset_label(moment.utcoffset())


def format_moment(moment: datetime | date, zone: tzinfo | None = None) -> str:
    """``moment`` in ``zone`` (by default the active zone: the viewer's) with the zone
    named: Dec 2, 2026 14:05 CET. A plain date is written without a time."""
    if not isinstance(moment, datetime):
        return dateformat.format(moment, "M j, Y")
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    local = timezone.localtime(moment, zone)
    return f"{dateformat.format(local, MOMENT_FORMAT)} {zone_label(local)}"


def time_zone_choices(*, current: str = "", at: datetime | None = None) -> list:
    """Grouped choices for a select: UTC first, then every zone of each region with its
    offset now ("Auckland (UTC+13)"); ``current``, if it is a legacy alias, is kept
    at the end so the select still shows it."""
    at = at or timezone.now()
    groups: dict[str, list[tuple[str, str]]] = {region: [] for region in REGIONS}
    for name in sorted(known_time_zones()):
        region, _, place = name.partition("/")
        if region in groups and place:
            offset = offset_label(at.astimezone(zoneinfo.ZoneInfo(name)).utcoffset())
            groups[region].append((name, f"{place.replace('_', ' ')} ({offset})"))
    choices: list = [("UTC", "UTC (Coordinated Universal Time)")]
    choices += [(region, zones) for region, zones in groups.items() if zones]
    offered = {"UTC"} | {name for zones in groups.values() for name, _ in zones}
    if current and current not in offered and time_zone_named(current) is not None:
        choices.append(("Other", [(current, current)]))
    return choices

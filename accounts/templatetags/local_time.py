from datetime import date

from django import template

from ..time_zones import format_moment, time_zone_named

register = template.Library()


@register.filter
def when(value, zone: str = "") -> str:
    """A moment in the viewer's time zone with the zone named: ``{{ value|when }}`` →
    Dec 2, 2026 14:05 CET. ``{{ value|when:"UTC" }}`` writes it in that zone instead.
    Empty for no value, so ``|default:"—"`` still works."""
    if not isinstance(value, date):
        return ""
    return format_moment(value, time_zone_named(zone) if zone else None)

from django import template

from billing.money import format_cents

from .. import models

register = template.Library()


@register.filter
def money(cents) -> str:
    """Integer cents as dollars: 123456 → $1,234.56."""
    if cents in (None, ""):
        return ""
    return format_cents(int(cents))


@register.filter
def hours(minutes) -> str:
    """Minutes as hours and minutes: 135 → 2:15."""
    minutes = int(minutes or 0)
    return f"{minutes // 60}:{minutes % 60:02d}"


@register.filter
def humanize_transition(name: str) -> str:
    return name.replace("_", " ")


@register.simple_tag
def actions_for(obj, user) -> list[str]:
    """The transitions ``user`` may take on a contract, milestone or refund request
    now, read from the transitions' own permissions and conditions:
    ``{% actions_for contract request.user as actions %}{% if "end" in actions %}``."""
    return obj.actions_for(user)


@register.filter
def is_reviewer(user) -> bool:
    """``{% if user|is_reviewer %}``: the reviewer check of ``contracts.models.is_reviewer``."""
    return models.is_reviewer(user)


@register.simple_tag
def refusal(obj, transition_name: str, user) -> str:
    """Why ``user`` cannot take the transition now, or an empty string."""
    return obj.refusal(transition_name, user) or ""


@register.filter
def dollars(cents) -> str:
    """Integer cents as the plain amount a person types in a form: 123456 → 1234.56."""
    if cents in (None, ""):
        return ""
    cents = int(cents)
    return f"{cents // 100}.{cents % 100:02d}"

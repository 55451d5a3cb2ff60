from django import template

from ..terms import percent as percent_of

register = template.Library()


@register.filter
def percent(basis_points) -> str:
    """A fee in basis points as a person reads it: ``{{ policy.FREELANCER_SERVICE_FEE_BPS|percent }}`` → 10%."""
    return percent_of(int(basis_points))

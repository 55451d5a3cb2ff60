"""How the pages name people and carry the account forms' submission key."""

from django import template
from django.utils.html import format_html

from ..profiles import display_name as name_of
from ..profiles import headline as headline_of
from ..submission import SUBMISSION_FIELD, new_submission_key

register = template.Library()


@register.filter
def display_name(user) -> str:
    """``{{ user|display_name }}``: the name they chose, else their full name, else their username."""
    return name_of(user) if user is not None and getattr(user, "pk", None) else ""


@register.filter
def headline(user) -> str:
    return headline_of(user) if user is not None and getattr(user, "pk", None) else ""


@register.simple_tag
def submission_key() -> str:
    """The hidden field that makes a double click send one e-mail (``accounts.submission``)."""
    return format_html('<input type="hidden" name="{}" value="{}">', SUBMISSION_FIELD, new_submission_key())

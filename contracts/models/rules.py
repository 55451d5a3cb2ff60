"""Conditions and permissions of state transitions, each with the sentence a person
reads when it refuses.

django-fsm calls a condition with the instance and a permission with the instance and
the user; a ``Rule`` is such a callable that also carries its refusal, so services,
templates and error messages all read the same rule.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import connection
from django_fsm import has_transition_perm
from django_fsm import transition as fsm_transition


class Rule:
    def __init__(self, check: Callable[..., bool], refusal: str) -> None:
        self.check = check
        self.refusal = refusal
        self.__name__ = check.__name__

    def __call__(self, *args: Any) -> bool:
        return bool(self.check(*args))

    def refusal_for(self, instance: Any) -> str:
        """The refusal sentence, with ``{obj.…}`` read from the instance and
        ``{settings.…}`` from the policy as currently set."""
        return self.refusal.format(obj=instance, settings=settings)


def rule(refusal: str) -> Callable[[Callable[..., bool]], Rule]:
    def wrap(check: Callable[..., bool]) -> Rule:
        return Rule(check, refusal)

    return wrap


@rule("Only the platform can do this.")
def system_only(instance: Any, user: Any) -> bool:
    return False


def transition(**declaration):
    """django-fsm's ``@transition``, refusing to run outside ``transaction.atomic()``:
    a transition's history row and effects are written by
    ``contracts.services.transitions.take`` in the same transaction as the new state,
    so a transition taken on its own could leave the state without its record."""

    def wrap(method):
        @wraps(method)
        def in_transaction(instance, *args, **kwargs):
            if not connection.in_atomic_block:
                raise RuntimeError("State transitions must run inside transaction.atomic(); use the services.")
            return method(instance, *args, **kwargs)

        return fsm_transition(**declaration)(in_transaction)

    return wrap


def declared_transitions(model) -> dict[str, dict]:
    """Each transition of ``model`` by name, with what it declares (django-fsm's
    ``custom``: its verb, label, effects)."""
    found = {}
    for cls in reversed(model.__mro__):
        for name, value in vars(cls).items():
            meta = getattr(value, "_django_fsm", None)
            if meta is not None:
                found[name] = next(iter(meta.transitions.values())).custom
    return found


def declaration(model, name: str) -> dict:
    """What transition ``name`` of ``model`` declares; a name that is no transition of
    it fails here, loudly, not silently in a lookup table."""
    try:
        return declared_transitions(model)[name]
    except KeyError:
        raise ValueError(f"{model.__name__} has no transition named {name!r}") from None


def transition_meta(instance: Any, name: str):
    method = getattr(instance, name, None)
    if method is None or not hasattr(method, "_django_fsm"):
        raise ValueError(f"{type(instance).__name__} has no transition named {name!r}")
    return method._django_fsm


def transition_refusal(instance: Any, name: str, user: Any = None) -> str | None:
    """Why ``user`` may not take transition ``name`` now, or None when it is allowed.

    ``user=None`` means the platform itself (a deadline or an admin action already
    authorised), which skips the permission but never the state or the conditions.
    """
    meta = transition_meta(instance, name)
    state = instance.state
    transition = meta.get_transition(state)
    any_transition = next(iter(meta.transitions.values()))
    verb = any_transition.custom.get("verb", name.replace("_", " "))
    if user is not None:
        permission = any_transition.permission
        if permission is not None and not any_transition.has_perm(instance, user):
            if isinstance(permission, Rule):
                return permission.refusal_for(instance)
            return f"You are not allowed to {verb} this."
    if transition is None:
        closed = getattr(instance, "closed_state_refusal", None)
        if closed:
            return closed
        return (
            f"You cannot {verb} this {instance._meta.verbose_name} while it is {instance.get_state_display().lower()}."
        )
    for condition in transition.conditions:
        if not condition(instance):
            if isinstance(condition, Rule):
                return condition.refusal_for(instance)
            return f"You cannot {verb} this {instance._meta.verbose_name} now."
    return None


def allowed_transitions(instance: Any, user: Any) -> list[str]:
    """Names of the transitions ``user`` may take now: the menu a template shows."""
    return [
        transition.name
        for transition in instance.get_available_state_transitions()
        if has_transition_perm(getattr(instance, transition.name), user)
    ]


class TransitionRulesMixin:
    """What services and templates ask a model with ruled transitions (a contract, a
    milestone, a refund request): ``refusal`` and ``actions_for``."""

    def refusal(self, transition_name: str, user: Any = None) -> str | None:
        return transition_refusal(self, transition_name, user)

    def actions_for(self, user: Any) -> list[str]:
        return allowed_transitions(self, user)

"""Columns that decide where money is or who the parties are: written once, when the
row is created, and never changed afterwards by any path.

The admin shows them read-only and services never change them; on PostgreSQL a
trigger refuses an UPDATE that changes one, so raw SQL, a shell or a future admin form
cannot move escrow to another contract or make someone else a party. A legitimate
change of terms is a new row written by a service, never an edit of the old one.
"""

import functools
import operator

import pgtrigger


def frozen_columns(name: str, *fields: str, message: str, when: pgtrigger.Q | None = None) -> pgtrigger.Trigger:
    """A trigger refusing any UPDATE that changes one of ``fields`` (and, with ``when``,
    only while that condition on the row holds). ``message`` may use ``%`` for the
    row's id and must not contain a single quote."""
    if "'" in message:
        raise ValueError("the message of a frozen-columns trigger cannot contain a single quote")
    changed = functools.reduce(
        operator.or_, [pgtrigger.Q(**{f"old__{field}__df": pgtrigger.F(f"new__{field}")}) for field in fields]
    )
    return pgtrigger.Trigger(
        name=name,
        when=pgtrigger.Before,
        operation=pgtrigger.Update,
        condition=changed if when is None else changed & when,
        func=f"RAISE EXCEPTION '{message}', OLD.id USING ERRCODE = 'check_violation'; RETURN NULL;",
    )

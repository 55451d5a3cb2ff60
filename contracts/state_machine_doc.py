"""docs/state-machine.md, written from the code: every transition of the portal's state
machines with its states, who may take it, its conditions and their refusal
sentences, and its declared effects (``contracts.effects``). ``manage.py
document_state_machine`` writes the file; a test fails when the committed file is not
what the code says."""

from pathlib import Path

from django.conf import settings

from offers.models import Offer

from .effects import in_order
from .models import RECORDED_CHANGES, Contract, EscrowRefundRequest, Milestone, RateChangeProposal
from .models.rules import Rule, system_only

MODELS = (Contract, Milestone, EscrowRefundRequest, RateChangeProposal, Offer)
DOCUMENT = Path(settings.BASE_DIR) / "docs" / "state-machine.md"

INTRODUCTION = """# The state machines

Generated from the code by `python manage.py document_state_machine`
(`contracts/state_machine_doc.py`); a test fails when this file and the code disagree,
so edit the transitions in `contracts/models/` (and `offers/models.py`), not this file.

Each transition is a django-fsm method whose declaration lists who may take it, when,
and what it does afterwards. `contracts.services.transitions.take` checks the rules,
changes and saves the state, then carries out the effects in one transaction, in this
order: the history row (who, when, from, to, why) for every transition; scheduled
work; notifications; e-mails; detectors. Rows written outside a transition (a refund,
a refund request, feedback, a payment out of escrow) have their effects called by the
service that writes them (`contracts/services/effects.py`).

A name in braces, such as `{obj.notice_days}` or `{settings.END_PROPOSAL_EXPIRY_DAYS}`,
is filled in from the record or the policy settings when it is shown. Transitions
marked *private reason* never show the reason for ending to the other party.
"""


def _state(value) -> str:
    return str(value)


def _who(permission) -> str:
    if permission is None:
        return "anyone allowed by the conditions"
    if permission is system_only:
        return "the platform only (deadlines, and steps of an action already allowed)"
    if isinstance(permission, Rule):
        return f"`{permission.__name__}`: “{permission.refusal}”"
    return f"`{getattr(permission, '__name__', permission)}`"


def _conditions(conditions) -> str:
    if not conditions:
        return "none"
    return "<br>".join(
        f"`{condition.__name__}`: “{condition.refusal}”" if isinstance(condition, Rule) else f"`{condition.__name__}`"
        for condition in conditions
    )


def _effects(custom: dict) -> str:
    effects = ["records the history row", *(effect.describe() for effect in in_order(custom.get("effects", ())))]
    if custom.get("private_reason"):
        effects.append("*private reason*")
    return "<br>".join(effects).replace("|", "\\|")


def _transitions(model) -> list[tuple[str, list]]:
    """(name, its django-fsm Transitions, one per source state) in declaration order."""
    found = []
    for name, value in vars(model).items():
        meta = getattr(value, "_django_fsm", None)
        if meta is not None:
            found.append((name, list(meta.transitions.values())))
    return found


def _diagram(model, transitions) -> list[str]:
    lines = ["```mermaid", "stateDiagram-v2"]
    default = model._meta.get_field("state").default
    lines.append(f"    [*] --> {_state(default)}")
    for name, each in transitions:
        for transition in each:
            target = transition.target if transition.target is not None else transition.source
            lines.append(f"    {_state(transition.source)} --> {_state(target)}: {name}")
    lines.append("```")
    return lines


def _section(model) -> list[str]:
    transitions = _transitions(model)
    field = model._meta.get_field("state")
    lines = [f"## {model._meta.verbose_name.capitalize()}", ""]
    lines.append("States: " + ", ".join(f"`{value}` ({label})" for value, label in field.choices) + ".")
    lines += ["", *_diagram(model, transitions), ""]
    lines.append("| transition | from → to | who | conditions (refusal) | effects |")
    lines.append("|---|---|---|---|---|")
    for name, each in transitions:
        first = each[0]
        sources = ", ".join(f"`{_state(transition.source)}`" for transition in each)
        target = f"`{_state(first.target)}`" if first.target is not None else "(same state)"
        label = first.custom.get("label")
        title = f"`{name}`" + (f"<br>“{label}”" if label else "")
        lines.append(
            f"| {title} | {sources} → {target} | {_who(first.permission)} | "
            f"{_conditions(first.conditions)} | {_effects(first.custom)} |"
        )
    return [*lines, ""]


RECORDED_INTRODUCTION = """## Changes recorded without a transition

A change of a contract's terms made as a new row, not by moving a state machine, is
declared next to its model (`contracts/models/terms.py`) and recorded by
`contracts.services.transitions.record`: the history row (its subject, what was done,
who, when; no source state), then its declared effects in the same order as a
transition's. Who may make the change, and when, is checked by its service
(`contracts/services/terms.py`, `milestone_add`).
"""


def _recorded_section() -> list[str]:
    lines = [RECORDED_INTRODUCTION]
    lines.append("| change | subject | effects |")
    lines.append("|---|---|---|")
    for declared in RECORDED_CHANGES:
        title = f"`{declared.name}`<br>“{declared.label}”"
        subject = f"{declared.model._meta.verbose_name}"
        lines.append(f"| {title} | {subject} | {_effects({'effects': declared.effects})} |")
    return [*lines, ""]


def render_state_machine() -> str:
    lines = [INTRODUCTION]
    for model in MODELS:
        lines += _section(model)
    lines += _recorded_section()
    return "\n".join(lines).rstrip() + "\n"

"""Every transition declares its effects where it is declared, and the declarations
hold together: each effect names something that exists, each sentence names only
what its context gives, and docs/state-machine.md is what the code says."""

import string

import pytest

from contracts.detection import DETECTORS
from contracts.effects import INVITEE, RECIPIENTS, Detect, DetectText, Email, Notify, Schedule
from contracts.models import (
    RECORDED_CHANGES,
    Contract,
    EscrowRefundRequest,
    Milestone,
    RateChangeProposal,
    WeeklyLimitChange,
)
from contracts.models.rules import declaration, declared_transitions
from contracts.services.transitions import EMAILS, HISTORY_SUBJECTS, SCHEDULERS
from contracts.state_machine_doc import DOCUMENT, MODELS, render_state_machine
from contracts.views.contract import END_ACTIONS, SIMPLE_ACTIONS
from offers.models import Offer

COMMON = {"actor", "title", "client", "freelancer", "effective", "expiry_days", "auto_release_days"}
COMMON |= {"response_days", "because"}
CONTEXT = {
    Contract: COMMON,
    Milestone: COMMON | {"milestone", "milestone_id", "amount"},
    EscrowRefundRequest: COMMON | {"requested"},
    RateChangeProposal: COMMON | {"rate", "starts", "answer_days"},
    WeeklyLimitChange: COMMON | {"limit", "starts"},
    # An offer has no contract until it is accepted: its sentences name its own terms.
    Offer: {"actor", "because", "title", "client", "freelancer", "expires", "first_funded"},
}


def effects():
    for model in MODELS:
        for name, declared in declared_transitions(model).items():
            for effect in declared.get("effects", ()):
                yield model, name, effect
    for recorded in RECORDED_CHANGES:
        for effect in recorded.effects:
            yield recorded.model, recorded.name, effect


def fields_of(template: str) -> set[str]:
    return {field.split(".")[0].split("[")[0] for _, field, _, _ in string.Formatter().parse(template) if field}


def test_the_committed_state_machine_document_is_what_the_code_generates():
    assert DOCUMENT.read_text() == render_state_machine(), "run: python manage.py document_state_machine"


def test_every_transition_has_a_verb_for_its_refusals():
    missing = [(m.__name__, n) for m in MODELS for n, d in declared_transitions(m).items() if not d.get("verb")]
    assert missing == []


@pytest.mark.parametrize(("model", "name", "effect"), list(effects()), ids=lambda value: str(value)[:60])
def test_each_declared_effect_names_something_that_exists(model, name, effect):
    if isinstance(effect, Notify | Email):
        assert effect.to in RECIPIENTS
    if isinstance(effect, Notify):
        assert effect.to != INVITEE, "someone without an account is told by e-mail only"
        assert fields_of(effect.sentence) | fields_of(effect.link) <= CONTEXT[model]
    if isinstance(effect, Email):
        assert effect.name in EMAILS
    if isinstance(effect, Schedule):
        assert effect.work in SCHEDULERS
    if isinstance(effect, Detect):
        assert DETECTORS[effect.event]
    if isinstance(effect, DetectText):
        assert fields_of(effect.event) <= {"pk", "change"}
        for attribute in (effect.text_field, effect.author_field):
            assert not attribute or attribute in {field.name for field in model._meta.get_fields()}


def test_the_menu_and_the_end_dialog_name_only_transitions_with_labels():
    for name in (*SIMPLE_ACTIONS, *END_ACTIONS):
        assert declaration(Contract, name)["label"]
    for name in END_ACTIONS:
        assert declaration(Contract, name)["confirm"]


def test_a_name_that_is_no_transition_fails_loudly():
    with pytest.raises(ValueError, match="Contract has no transition named 'finish'"):
        declaration(Contract, "finish")


def test_every_recorded_change_records_a_model_with_a_history_subject():
    assert {recorded.model for recorded in RECORDED_CHANGES} <= set(HISTORY_SUBJECTS)
    assert len({(recorded.model, recorded.name) for recorded in RECORDED_CHANGES}) == len(RECORDED_CHANGES)

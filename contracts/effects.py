"""What a transition does once it is taken, declared next to the transition itself.

Each transition of the portal's state machines (``contracts/models``) lists its
effects in django-fsm's ``custom={"effects": (...)}``, beside the ``verb`` and the
``label`` a person reads. The declarations are plain data; one function carries them
out (``contracts.services.transitions.take``), inside the transaction of the
transition, always in this order:

1. the **history** row (``StateChange``: who, when, from, to, why), for every transition;
2. **scheduled work** (``Schedule``): the deadline rows the transition starts;
3. **notifications** (``Notify``): a sentence to each party concerned;
4. **e-mails** (``Email``): the deadlines someone must act on;
5. **detectors** (``DetectText``, ``Detect``): the circumvention checks, last, so a
   flag sees every row the transition wrote.

Rows written outside a transition (a refund, a refund request, feedback, a payment
out of escrow) have their effects called explicitly by the service that writes
them (``contracts.services.effects``). A change of a contract's terms written as a
new row (a milestone added, a weekly limit changed, a rate change proposed) is
declared like a transition, as a ``Recorded`` change: a history row and the same
kinds of effects, carried out in the same order by
``contracts.services.transitions.record``.

Sentences are ``str.format`` templates; what they may name is listed in
``contracts.services.effects.sentence_context``. A ``reason`` a party gives for
ending is private: transitions marked ``private_reason`` never show it to the
other party, in a notification or in the history.
"""

from dataclasses import dataclass

# Who is told.
OTHER_PARTY = "the other party"  # of the person who took the transition; both when the platform took it
BOTH_PARTIES = "both parties"
CLIENT = "the client"
FREELANCER = "the freelancer"
# Someone an offer was sent to by e-mail who has no account yet: e-mails only.
INVITEE = "the person invited"
RECIPIENTS = (OTHER_PARTY, BOTH_PARTIES, CLIENT, FREELANCER, INVITEE)

# Everything a contract's end writes (the note given for ending, the message of its
# refund requests) is one event for the detectors: one flag per rule and person.
CONTRACT_END_EVENT = "contract-end:{pk}"


@dataclass(frozen=True)
class Notify:
    """An in-app notification to ``to``. ``link`` is an anchor of the contract page
    (formatted like the sentence). ``only_from`` / ``not_from`` limit it to
    transitions taken from (or not from) those states. ``quote_reason`` adds the
    message the person wrote for the recipient (never a private reason)."""

    to: str
    sentence: str
    kind: str = "contract"
    link: str = ""
    only_from: tuple[str, ...] = ()
    not_from: tuple[str, ...] = ()
    quote_reason: bool = False

    def applies_from(self, source: str) -> bool:
        if self.only_from and source not in self.only_from:
            return False
        return source not in self.not_from

    def describe(self) -> str:
        limits = ""
        if self.only_from:
            limits = f" (only from {', '.join(self.only_from)})"
        elif self.not_from:
            limits = f" (not from {', '.join(self.not_from)})"
        quoted = ", with their message" if self.quote_reason else ""
        return f"notifies {self.to}{limits}{quoted}: “{self.sentence}”"


@dataclass(frozen=True)
class Email:
    """A deadline e-mail to ``to``, the one ``contracts.services.effects.EMAILS``
    sends under ``name``, once per event."""

    to: str
    name: str

    def describe(self) -> str:
        return f"e-mails {self.to} ({self.name.replace('_', ' ')})"


@dataclass(frozen=True)
class Schedule:
    """Scheduled work written with the transition: ``contracts.services.scheduling``'s
    scheduler registered under ``work``."""

    work: str

    def describe(self) -> str:
        return f"schedules {self.work.replace('_', ' ')}"


@dataclass(frozen=True)
class DetectText:
    """Run the text detectors over what a person wrote. By default the text is the
    transition's reason and its author the person who took it; ``text_field`` and
    ``author_field`` name attributes of the instance instead. ``event`` keys the flag
    (``{pk}`` is the contract's id, or that of a record without one such as an offer;
    ``{change}`` the history row's): one event, one flag per rule and person."""

    source: str
    text_field: str = ""
    author_field: str = ""
    event: str = "state-change:{change}"

    def describe(self) -> str:
        return f"reads “{self.source.lower()}” for payment or contact outside the platform"


@dataclass(frozen=True)
class Detect:
    """Run the detectors registered for ``event`` (``contracts.detection``)."""

    event: str

    def describe(self) -> str:
        return f"runs the {self.event.replace('_', ' ')} detectors"


@dataclass(frozen=True)
class Recorded:
    """A change written as a new row of ``model`` rather than as a transition, which
    still goes into the contract's history (subject: the row; ``name``: what was done
    to it) and has declared ``effects`` (``contracts.services.transitions.record``)."""

    model: type
    name: str
    label: str
    effects: tuple = ()


# The step of each kind of effect, after the history row (step 1); effects of one
# step run in the order they are declared.
STEPS = {Schedule: 2, Notify: 3, Email: 4, DetectText: 5, Detect: 5}


def in_order(effects) -> list:
    return sorted(effects, key=lambda effect: STEPS[type(effect)])

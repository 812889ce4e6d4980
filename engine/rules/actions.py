"""The typed actions a rule may take, and which machine transition each one asks for."""

from __future__ import annotations

from dataclasses import dataclass

from states.account import ACCOUNT, AUTOMATIC_REASONS, HOLD_REASONS, ON_HOLD
from states.account import STATES as ACCOUNT_STATES
from states.invoice import CHASEABLE, COLLECTIBLE, INVOICE

CHANNELS = ("email", "letter", "sms", "phone", "portal")
ESCALATE_TO = ("collector", "manager", "agency", "legal")
NAME_PATTERN = r"[a-z0-9][a-z0-9_\-]*"  # templates and queues

INVOICE_LEVEL, ACCOUNT_LEVEL, EITHER_LEVEL = "invoice", "account", "either"
DUNNING_TRACK, ACCOUNT_TRACK = "dunning", "account"


def _invoice_states(trigger: str) -> frozenset[str]:
    return frozenset(s for s in COLLECTIBLE if trigger in INVOICE.triggers_from(s))


def _account_states(trigger: str) -> frozenset[str]:
    return frozenset(s for s in ACCOUNT_STATES if trigger in ACCOUNT.triggers_from(s))


@dataclass(frozen=True)
class ActionSpec:
    kind: str
    params: dict[str, tuple[str, ...] | None]  # allowed values, or None for a name / free text
    level: str  # invoice | account | either
    trigger: str | None  # the machine trigger it fires, if any
    notice: bool  # sends something to the customer (remind, dun)
    states: frozenset[str]  # states of its machine from which it can be taken
    optional: tuple[str, ...] = ()
    summary: str = ""

    def states_for(self, account: bool) -> frozenset[str]:
        """States of the machine the rule sees (account rules see the account machine)."""
        if self.level == EITHER_LEVEL and account:
            return frozenset(ACCOUNT_STATES)
        return self.states


SPECS: dict[str, ActionSpec] = {
    "remind": ActionSpec(
        "remind",
        {"channel": CHANNELS, "template": None},
        INVOICE_LEVEL,
        None,
        True,
        frozenset(CHASEABLE),
        summary="Send a courteous reminder; the invoice state does not change.",
    ),
    "dun": ActionSpec(
        "dun",
        {"channel": CHANNELS, "template": None},
        INVOICE_LEVEL,
        "dun",
        True,
        _invoice_states("dun"),
        summary="Send the next dunning notice: the level rises by exactly one (never past the maximum).",
    ),
    "escalate": ActionSpec(
        "escalate",
        {"to": ESCALATE_TO},
        INVOICE_LEVEL,
        "escalate",
        False,
        _invoice_states("escalate"),
        summary="Hand the invoice over (collector, manager, agency or legal); dunning stops.",
    ),
    "create_task": ActionSpec(
        "create_task",
        {"queue": None, "note": None},
        EITHER_LEVEL,
        None,
        False,
        frozenset(COLLECTIBLE),
        optional=("note",),
        summary="Put a task for a person in a work queue.",
    ),
    "credit_hold": ActionSpec(
        "credit_hold",
        {"reason": HOLD_REASONS},
        ACCOUNT_LEVEL,
        "place_hold",
        False,
        _account_states("place_hold"),
        summary="Put the customer's account on credit hold for a reason (adds the reason if already held).",
    ),
    "release_hold": ActionSpec(
        "release_hold",
        {"reason": AUTOMATIC_REASONS},
        ACCOUNT_LEVEL,
        "release_hold",
        False,
        _account_states("release_hold"),
        summary="Remove one automatic hold reason; the account is active again when none is left.",
    ),
}

# The `account.on_hold` value in each account state (the account rules see the machine through it).
ON_HOLD_FACT = {s: s == ON_HOLD for s in ACCOUNT_STATES}


@dataclass(frozen=True)
class Action:
    """One action of a rule as written in the file (params sorted by name)."""

    kind: str
    params: tuple[tuple[str, str], ...]

    @property
    def spec(self) -> ActionSpec:
        return SPECS[self.kind]

    def param(self, key: str) -> str:
        return dict(self.params).get(key, "")

    def as_dict(self) -> dict[str, dict[str, str]]:
        return {self.kind: dict(self.params)}

    def __str__(self) -> str:
        inner = ", ".join(f"{k}: {v}" for k, v in self.params)
        return f"{self.kind} {{{inner}}}"

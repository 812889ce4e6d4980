"""The customer credit account: active ⇄ on_hold.

A hold carries every reason that holds it. Automatic reasons (overdue, over_limit, risk) clear
by themselves; a manual hold is released only by a person, with a reason code.
"""

from __future__ import annotations

from transitions import EventData

from states.workflow import Rule, Workflow

ACTIVE, ON_HOLD = "active", "on_hold"
STATES = [ACTIVE, ON_HOLD]
AUTOMATIC_REASONS = ("overdue", "over_limit", "risk")
MANUAL = "manual"
HOLD_REASONS = (*AUTOMATIC_REASONS, MANUAL)
PERSON = "user"


def _release_permitted(e: EventData) -> bool:
    if e.kwargs.get("reason") != MANUAL:
        return True
    return e.kwargs.get("actor_kind") == PERSON and bool(str(e.kwargs.get("reason_code") or "").strip())


def _last_reason(e: EventData) -> bool:
    return int(e.kwargs.get("remaining", 0)) == 0 and _release_permitted(e)


def _other_reasons_remain(e: EventData) -> bool:
    return int(e.kwargs.get("remaining", 0)) > 0 and _release_permitted(e)


_MANUAL_RULE = "a manual hold is released only by a person with a reason code"

RULES: list[Rule] = [
    Rule("place_hold", [ACTIVE], ON_HOLD),
    Rule("place_hold", [ON_HOLD], None, label="add a reason"),
    Rule("release_hold", [ON_HOLD], ACTIVE, (_last_reason,), label="last reason", why_refused=_MANUAL_RULE),
    Rule(
        "release_hold",
        [ON_HOLD],
        None,
        (_other_reasons_remain,),
        label="other reasons remain",
        why_refused=_MANUAL_RULE,
    ),
]

ACCOUNT = Workflow("account", STATES, ACTIVE, frozenset(), RULES)

"""The invoice machine.

open ─(past due + grace)→ overdue ─dun→ dunning(level 1..N) ─escalate→ escalated ─write_off→ written_off
side states `promised` and `disputed` pause dunning; `paid` and `cancelled` are final; a reversed
payment reopens a paid invoice.
"""

from __future__ import annotations

from typing import Any

from transitions import EventData

from states.workflow import Rule, Workflow

OPEN, OVERDUE, DUNNING, ESCALATED = "open", "overdue", "dunning", "escalated"
PROMISED, DISPUTED = "promised", "disputed"
PAID, CANCELLED, WRITTEN_OFF = "paid", "cancelled", "written_off"

STATES = [OPEN, OVERDUE, DUNNING, ESCALATED, PROMISED, DISPUTED, PAID, CANCELLED, WRITTEN_OFF]
FINAL = frozenset({PAID, CANCELLED, WRITTEN_OFF})
# States in which an invoice is still owed and visible to automatic collection.
COLLECTIBLE = frozenset({OPEN, OVERDUE, DUNNING, ESCALATED, PROMISED, DISPUTED})
# States from which a notice may be sent (never paid, cancelled, disputed or promised).
CHASEABLE = frozenset({OPEN, OVERDUE, DUNNING})
DEFAULT_MAX_LEVEL = 5


def _m(e: EventData) -> Any:
    """The subject (an invoice row or any object with state, dunning_level, open_amount)."""
    return e.model


def _target_level(e: EventData) -> int:
    level = e.kwargs.get("level")
    return int(level) if level is not None else int(_m(e).dunning_level) + 1


def _next_level_allowed(e: EventData) -> bool:
    """Levels advance exactly one at a time and never past the maximum."""
    max_level = int(e.kwargs.get("max_level", DEFAULT_MAX_LEVEL))
    target = _target_level(e)
    return target == int(_m(e).dunning_level) + 1 and target <= max_level


def _set_level(e: EventData) -> None:
    _m(e).dunning_level = _target_level(e)


def _has_level(e: EventData) -> bool:
    return int(_m(e).dunning_level) > 0


def _past_due_no_level(e: EventData) -> bool:
    return int(_m(e).dunning_level) == 0 and bool(e.kwargs.get("past_due", False))


def _not_yet_due(e: EventData) -> bool:
    return int(_m(e).dunning_level) == 0 and not e.kwargs.get("past_due", False)


def _settled(e: EventData) -> bool:
    return int(_m(e).open_amount) <= 0


def _still_owed(e: EventData) -> bool:
    return int(_m(e).open_amount) > 0


def _resume(trigger: str, sources: list[str], extra: tuple = ()) -> list[Rule]:
    """Leave a pause (promise, dispute, escalation, payment) to where collection stood."""
    return [
        Rule(trigger, sources, DUNNING, (*extra, _has_level), label="level > 0"),
        Rule(trigger, sources, OVERDUE, (*extra, _past_due_no_level), label="past due, level 0"),
        Rule(trigger, sources, OPEN, (*extra, _not_yet_due), label="not yet due"),
    ]


RULES: list[Rule] = [
    Rule("mark_overdue", [OPEN], OVERDUE),
    Rule(
        "dun",
        [OVERDUE, DUNNING],
        DUNNING,
        (_next_level_allowed,),
        (_set_level,),
        label="next level <= max",
        why_refused="dunning levels advance one at a time and never past the maximum",
    ),
    Rule("escalate", [OVERDUE, DUNNING], ESCALATED),
    *_resume("recall", [ESCALATED]),
    Rule("write_off", [ESCALATED], WRITTEN_OFF),
    Rule("promise", [OPEN, OVERDUE, DUNNING, ESCALATED], PROMISED),
    *_resume("keep_promise", [PROMISED]),
    *_resume("break_promise", [PROMISED]),
    Rule("dispute", [OPEN, OVERDUE, DUNNING, ESCALATED, PROMISED], DISPUTED),
    *_resume("resolve_dispute", [DISPUTED]),
    Rule(
        "pay",
        [OPEN, OVERDUE, DUNNING, ESCALATED, PROMISED, DISPUTED],
        PAID,
        (_settled,),
        label="open amount = 0",
        why_refused="the open amount is not zero",
    ),
    Rule(
        "cancel",
        [OPEN, OVERDUE, DUNNING, DISPUTED],
        CANCELLED,
    ),
    *_resume("reopen", [PAID], (_still_owed,)),
]

INVOICE = Workflow("invoice", STATES, OPEN, FINAL, RULES)

"""JSON text of the cycle's set-based journal rows, built from cached pieces instead of one
`json.dumps` per row, byte for byte what `engine/journal.record_transition` stores for the same
transition (a unit test compares the two)."""

from __future__ import annotations

import json
from typing import Any


class JsonTexts:
    """JSON text of the values the writers repeat: a rule's cause dict (one object per rule, see
    `planner.rule_cause`), state names, triggers, reasons. Cached per object identity while the
    object is held here, so an id is never reused for another object within one write."""

    def __init__(self) -> None:
        self._objects: dict[int, tuple[Any, str]] = {}
        self._text: dict[str | None, str] = {}

    def obj(self, value: dict[str, Any]) -> str:
        found = self._objects.get(id(value))
        if found is None:
            found = self._objects[id(value)] = (value, json.dumps(value))
        return found[1]

    def text(self, value: str | None) -> str:
        found = self._text.get(value)
        if found is None:
            found = self._text[value] = json.dumps(value)
        return found


def transition_data(
    enc: JsonTexts,
    *,
    from_state: str,
    to_state: str,
    trigger: str,
    actor: str,
    cause_json: str,
    reason: str | None,
    snapshot_json: str,
    version: int,
) -> str:
    """The outbox `data` of a state change: `json.dumps` of {"from", "to", "trigger", "actor",
    "cause", "reason", "snapshot", "entityVersion"} in that order, as `record_transition` writes it.
    `cause_json` and `snapshot_json` are JSON texts already (see `JsonTexts.obj`)."""
    return (
        f'{{"from": {enc.text(from_state)}, "to": {enc.text(to_state)}, "trigger": {enc.text(trigger)}, '
        f'"actor": {enc.text(actor)}, "cause": {cause_json}, "reason": {enc.text(reason)}, '
        f'"snapshot": {snapshot_json}, "entityVersion": {int(version)}}}'
    )

"""A write-off request: a write-off above the requester's limit waits for another person.

pending ─approve (by another person whose limit covers it)→ approved; pending ─reject→ rejected.
"""

from __future__ import annotations

from transitions import EventData

from states.workflow import Rule, Workflow

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
STATES = [PENDING, APPROVED, REJECTED]
FINAL = frozenset({APPROVED, REJECTED})


def _not_the_requester(e: EventData) -> bool:
    return bool(e.kwargs.get("decider")) and e.kwargs.get("decider") != e.kwargs.get("requester")


RULES: list[Rule] = [
    Rule(
        "approve",
        [PENDING],
        APPROVED,
        (_not_the_requester,),
        label="by another person",
        why_refused="a request is approved by someone other than its requester",
    ),
    Rule("reject", [PENDING], REJECTED),
]

WRITE_OFF = Workflow("write_off", STATES, PENDING, FINAL, RULES)

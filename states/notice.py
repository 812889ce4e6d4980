"""The notice machine: one message to a customer (one channel, one business date, its invoices).

requested ─render→ rendered ─queue→ queued ─send→ sent ─deliver→ delivered
A message may bounce (a permanent refusal: the address is wrong), fail (given up after retries) or be
cancelled (nothing left to say, or a person stopped it) before it is sent.
"""

from __future__ import annotations

from states.workflow import Rule, Workflow

REQUESTED, RENDERED, QUEUED, SENT, DELIVERED = "requested", "rendered", "queued", "sent", "delivered"
BOUNCED, FAILED, CANCELLED = "bounced", "failed", "cancelled"

STATES = [REQUESTED, RENDERED, QUEUED, SENT, DELIVERED, BOUNCED, FAILED, CANCELLED]
FINAL = frozenset({DELIVERED, BOUNCED, FAILED, CANCELLED})
# States in which a message has not left yet: the send step may still drop invoices or cancel it.
UNSENT = frozenset({REQUESTED, RENDERED, QUEUED})

RULES: list[Rule] = [
    Rule("render", [REQUESTED, RENDERED], RENDERED),  # rendered again when its invoices changed
    Rule("queue", [RENDERED], QUEUED),
    Rule("send", [QUEUED], SENT),
    Rule("deliver", [SENT], DELIVERED),
    Rule("bounce", [QUEUED, SENT], BOUNCED),
    Rule("fail", [REQUESTED, RENDERED, QUEUED, SENT], FAILED),
    Rule("cancel", [REQUESTED, RENDERED, QUEUED], CANCELLED),
]

NOTICE = Workflow("notice", STATES, REQUESTED, FINAL, RULES)

# The event of each transition (`o2c.notice.<state>`); `requested` is written when the row is.
EVENT_TYPES: tuple[str, ...] = tuple(f"o2c.notice.{s}" for s in STATES)


def event_type(state: str) -> str:
    return f"o2c.notice.{state}"

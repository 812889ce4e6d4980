"""The task machine: work for a person or a queue.

open ─start→ in_progress ─complete→ done; open, in_progress, snoozed ─cancel→ cancelled;
open, in_progress ─snooze(until)→ snoozed ─wake (the date came)→ open. `assign` keeps the state.
A subject (an invoice or a customer) has at most one unfinished task per queue.
"""

from __future__ import annotations

from datetime import date

from transitions import EventData

from states.workflow import Rule, Workflow

OPEN, IN_PROGRESS, SNOOZED, DONE, CANCELLED = "open", "in_progress", "snoozed", "done", "cancelled"
STATES = [OPEN, IN_PROGRESS, SNOOZED, DONE, CANCELLED]
FINAL = frozenset({DONE, CANCELLED})
# Unfinished: a subject has at most one such task per queue.
UNFINISHED = (OPEN, IN_PROGRESS, SNOOZED)
OUTCOMES = ("reached", "voicemail", "promise", "dispute", "wrong_number", "paid", "no_action", "other")
SOURCES = ("rule", "escalation", "person", "phone", "fallback")
# The queues an `escalate: {to: …}` hands over to (the action's allowed targets).
ESCALATION_QUEUES = ("collector", "manager", "agency", "legal")


def invoice_subject(invoice_id: int) -> str:
    return f"invoice:{invoice_id}"


def customer_subject(customer_id: int) -> str:
    return f"customer:{customer_id}"


def _known_outcome(e: EventData) -> bool:
    return e.kwargs.get("outcome") in OUTCOMES


def _later_date(e: EventData) -> bool:
    until, today = e.kwargs.get("until"), e.kwargs.get("today")
    return isinstance(until, date) and isinstance(today, date) and until > today


RULES: list[Rule] = [
    Rule("assign", [OPEN, IN_PROGRESS, SNOOZED], None, label="keeps the state"),
    Rule("start", [OPEN, SNOOZED], IN_PROGRESS),
    Rule(
        "snooze",
        [OPEN, IN_PROGRESS],
        SNOOZED,
        (_later_date,),
        label="until a later date",
        why_refused="a task is snoozed until a date after today",
    ),
    Rule("wake", [SNOOZED], OPEN, label="the date came"),
    Rule(
        "complete",
        [OPEN, IN_PROGRESS],
        DONE,
        (_known_outcome,),
        label="with an outcome",
        why_refused=f"the outcome must be one of {', '.join(OUTCOMES)}",
    ),
    Rule("cancel", list(UNFINISHED), CANCELLED),
]

TASK = Workflow("task", STATES, OPEN, FINAL, RULES)

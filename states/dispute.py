"""The dispute machine: open → under_review ⇄ awaiting_customer → resolved; escalated past SLA."""

from __future__ import annotations

from transitions import EventData

from states.workflow import Rule, Workflow

OPEN, UNDER_REVIEW, AWAITING_CUSTOMER = "open", "under_review", "awaiting_customer"
ESCALATED, RESOLVED, WITHDRAWN = "escalated", "resolved", "withdrawn"
STATES = [OPEN, UNDER_REVIEW, AWAITING_CUSTOMER, ESCALATED, RESOLVED, WITHDRAWN]
FINAL = frozenset({RESOLVED, WITHDRAWN})
ACTIVE = frozenset({OPEN, UNDER_REVIEW, AWAITING_CUSTOMER, ESCALATED})

OUTCOMES = ("accepted", "partial", "rejected")
# `deduction`: a short payment's difference (cash application) disputed on the customer's behalf.
REASON_CODES = ("pricing", "quantity", "quality", "not_received", "duplicate", "terms", "deduction", "other")


def _known_outcome(e: EventData) -> bool:
    return e.kwargs.get("outcome") in OUTCOMES


RULES: list[Rule] = [
    Rule("review", [OPEN], UNDER_REVIEW),
    Rule("request_info", [UNDER_REVIEW], AWAITING_CUSTOMER),
    Rule("customer_replied", [AWAITING_CUSTOMER], UNDER_REVIEW),
    Rule("escalate", [OPEN, UNDER_REVIEW, AWAITING_CUSTOMER], ESCALATED, label="SLA passed"),
    Rule(
        "resolve",
        sorted(ACTIVE),
        RESOLVED,
        (_known_outcome,),
        label="accepted | partial | rejected",
        why_refused="the outcome must be one of accepted, partial, rejected",
    ),
    Rule("withdraw", sorted(ACTIVE), WITHDRAWN),
]

DISPUTE = Workflow("dispute", STATES, OPEN, FINAL, RULES)

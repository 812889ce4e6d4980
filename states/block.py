"""The dunning block: a person stops dunning on a customer or one invoice, for a reason, until a
date or until lifted.

active ─lift→ lifted; active ─expire (its end date passed)→ expired. While a block is active and
its dates cover the business date, the invoices it covers are `blocked` (a strategy fact) and get
no reminder, no notice and no escalation.
"""

from __future__ import annotations

from states.workflow import Rule, Workflow

ACTIVE, LIFTED, EXPIRED = "active", "lifted", "expired"
STATES = [ACTIVE, LIFTED, EXPIRED]
FINAL = frozenset({LIFTED, EXPIRED})
REASON_CODES = (
    "customer_request",
    "negotiation",
    "payment_plan",
    "legal",
    "insolvency",
    "internal_review",
    "data_issue",
    "other",
)
# The orders a block withholds (tasks for people still open: someone must work the case).
WITHHELD_ACTIONS = ("remind", "dun", "escalate")

RULES: list[Rule] = [
    Rule("lift", [ACTIVE], LIFTED, label="by a person, with a reason"),
    Rule("expire", [ACTIVE], EXPIRED, label="its end date passed"),
]

BLOCK = Workflow("dunning_block", STATES, ACTIVE, FINAL, RULES)

"""The bank transaction machine (cash application).

imported ─auto_apply→ auto_applied
         ─suggest→ suggested ─┐
         ─no_match→ unmatched ─┴─ apply → applied | put_on_account → on_account | exclude → excluded
                                  | return_funds → returned
A debit is recorded and excluded at once (`exclude` from imported). A person may undo an
application (`unapply`): the transaction goes back to the queue as `suggested`.
"""

from __future__ import annotations

from states.workflow import Rule, Workflow

IMPORTED, AUTO_APPLIED, SUGGESTED, UNMATCHED = "imported", "auto_applied", "suggested", "unmatched"
APPLIED, ON_ACCOUNT, EXCLUDED, RETURNED = "applied", "on_account", "excluded", "returned"
STATES = [IMPORTED, AUTO_APPLIED, SUGGESTED, UNMATCHED, APPLIED, ON_ACCOUNT, EXCLUDED, RETURNED]
# Waiting for a person: the exception queue.
OPEN = frozenset({SUGGESTED, UNMATCHED})
# Money that reached the ledger as a payment.
POSTED = frozenset({AUTO_APPLIED, APPLIED, ON_ACCOUNT})
FINAL = frozenset({EXCLUDED, RETURNED})

RULES: list[Rule] = [
    Rule("auto_apply", [IMPORTED], AUTO_APPLIED, label="confidence >= auto-apply threshold"),
    Rule("suggest", [IMPORTED], SUGGESTED, label="candidates below threshold"),
    Rule("no_match", [IMPORTED], UNMATCHED),
    Rule("apply", sorted(OPEN), APPLIED),
    Rule("put_on_account", sorted(OPEN), ON_ACCOUNT),
    Rule("exclude", [IMPORTED, *sorted(OPEN)], EXCLUDED),
    Rule("return_funds", sorted(OPEN), RETURNED),
    Rule("unapply", sorted(POSTED), SUGGESTED),
]

BANK_TRANSACTION = Workflow("bank_transaction", STATES, IMPORTED, FINAL, RULES)

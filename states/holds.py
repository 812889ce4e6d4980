"""Credit-hold conditions, written once over plain values: what counts as past due, what counts
towards exposure, and which automatic hold reasons have cleared — after a payment, a credit note,
a CSV import or a bank statement, all through `engine/services/holds.clear_automatic_holds`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from states import invoice as inv

# Money owed past its due date holds the account whatever the invoice's state: a disputed or
# promised invoice past due still counts, and so does one the cycle has not marked overdue yet.
# (The cycle's `account.overdue_amount` fact leaves disputed invoices out: it steers dunning.)
PAST_DUE_STATES = inv.COLLECTIBLE
# Reasons the engine releases itself once their condition clears; `risk` clears with a new score.
SELF_CLEARING = ("overdue", "over_limit")


@dataclass(frozen=True)
class OpenItem:
    """One invoice as the hold rules see it."""

    state: str
    open_amount: int
    currency: str
    due_date: date


def is_past_due(item: OpenItem, today: date) -> bool:
    return item.state in PAST_DUE_STATES and item.open_amount > 0 and item.due_date < today


def has_past_due(items: Iterable[OpenItem], today: date) -> bool:
    """Money is still owed past its due date (in any currency): the `overdue` reason holds."""
    return any(is_past_due(i, today) for i in items)


def exposure(items: Iterable[OpenItem], currency: str) -> int:
    """Open amounts of collectible invoices in the account's own currency (never EUR plus USD)."""
    return sum(i.open_amount for i in items if i.state in inv.COLLECTIBLE and i.currency == currency)


def over_limit(items: Iterable[OpenItem], currency: str, credit_limit: int) -> bool:
    return exposure(items, currency) > credit_limit


def cleared_reasons(
    active: Iterable[str], items: Iterable[OpenItem], currency: str, credit_limit: int, today: date
) -> list[str]:
    """The active automatic reasons whose condition no longer holds, in the order given."""
    book = list(items)
    cleared = {
        "overdue": not has_past_due(book, today),
        "over_limit": not over_limit(book, currency, credit_limit),
    }
    return [r for r in active if cleared.get(r, False)]

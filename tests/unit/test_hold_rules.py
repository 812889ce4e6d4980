"""Credit-hold conditions (states/holds.py) and what closes on settlement (states/settlement.py),
on plain values: no database."""

from __future__ import annotations

from datetime import date

import pytest

from states.holds import PAST_DUE_STATES, OpenItem, cleared_reasons, exposure, has_past_due, over_limit
from states.settlement import DISPUTE_TRIGGER, promise_status_on_exit, why_closed

TODAY = date(2026, 3, 2)
LATE = date(2026, 2, 1)
LATER = date(2026, 4, 1)


def item(state: str = "overdue", amount: int = 100, currency: str = "EUR", due: date = LATE) -> OpenItem:
    return OpenItem(state, amount, currency, due)


def test_an_unpaid_invoice_past_its_due_date_is_past_due() -> None:
    assert has_past_due([item()], TODAY)


def test_an_invoice_due_today_or_later_is_not_past_due() -> None:
    assert not has_past_due([item(due=TODAY), item(due=LATER)], TODAY)


def test_a_paid_or_fully_settled_invoice_is_not_past_due() -> None:
    assert not has_past_due([item(state="paid"), item(amount=0)], TODAY)


def test_a_disputed_promised_or_dunned_invoice_past_due_still_holds_the_account() -> None:
    assert {"disputed", "promised", "dunning", "open"} <= PAST_DUE_STATES
    for state in ("disputed", "promised", "dunning", "open"):
        assert has_past_due([item(state=state)], TODAY), state


def test_exposure_counts_only_collectible_money_in_the_account_currency() -> None:
    book = [item(amount=300), item(state="disputed", amount=200), item(currency="USD", amount=999), item("paid", 50)]
    assert exposure(book, "EUR") == 500


def test_an_account_is_over_limit_only_above_its_limit() -> None:
    assert not over_limit([item(amount=500)], "EUR", 500)
    assert over_limit([item(amount=501)], "EUR", 500)


def test_overdue_clears_when_nothing_is_past_due_and_over_limit_when_exposure_fits() -> None:
    book = [item(due=LATER, amount=400)]
    assert cleared_reasons(["overdue", "over_limit", "risk", "manual"], book, "EUR", 500, TODAY) == [
        "overdue",
        "over_limit",
    ]


def test_reasons_whose_condition_still_holds_do_not_clear() -> None:
    book = [item(amount=600)]
    assert cleared_reasons(["overdue", "over_limit"], book, "EUR", 500, TODAY) == []


def test_risk_and_manual_reasons_never_clear_by_themselves() -> None:
    assert cleared_reasons(["risk", "manual"], [], "EUR", 500, TODAY) == []


def test_a_paid_invoice_keeps_its_promises_and_a_cancelled_one_cancels_them() -> None:
    assert promise_status_on_exit("paid") == "kept"
    assert promise_status_on_exit("cancelled") == "cancelled"


def test_an_invoice_still_in_collection_closes_nothing() -> None:
    with pytest.raises(ValueError, match="closes nothing"):
        promise_status_on_exit("overdue")


def test_disputes_on_an_invoice_that_left_collection_are_withdrawn_with_its_reason() -> None:
    assert DISPUTE_TRIGGER == "withdraw"
    assert why_closed("paid") == "invoice settled" and why_closed("cancelled") == "invoice cancelled"

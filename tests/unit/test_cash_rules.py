"""The cash-application rules of `states.cash` and the bank transaction machine, without a database."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from states import bank_transaction as bt
from states.cash import (
    DeductionRule,
    Tolerance,
    allocation_problem,
    allocation_take,
    covered_by_credit,
    deduction,
    oldest_due_first,
    settles,
    short_payment,
    unapplied_by_currency,
)
from states.errors import InvalidTransition


def test_money_in_another_currency_than_the_invoice_is_refused_with_both_currencies_named() -> None:
    assert allocation_problem("INV-1", "EUR", "open", "USD") == "invoice INV-1 is in EUR, the payment in USD"


def test_a_paid_or_cancelled_invoice_takes_no_payment() -> None:
    assert allocation_problem("INV-1", "EUR", "paid", "EUR") == "invoice INV-1 is paid and takes no payment"
    assert allocation_problem("INV-1", "EUR", "cancelled", "EUR") is not None
    assert allocation_problem("INV-1", "EUR", "disputed", "EUR") is None


def test_an_allocation_takes_at_most_the_open_amount() -> None:
    assert allocation_take(12_000, 10_000) == 10_000
    assert allocation_take(4_000, 10_000) == 4_000
    assert allocation_take(4_000, 0) == 0


def test_an_invoice_settles_when_nothing_is_left_open() -> None:
    assert settles(0)
    assert not settles(1)


def test_a_short_payment_within_both_the_amount_and_the_percentage_settles_with_the_difference() -> None:
    tolerance = Tolerance(amount=1_500, basis_points=200)  # 15.00 and 2 %
    assert short_payment(99_000, 100_000, tolerance) == 1_000
    assert short_payment(100_000, 100_000, tolerance) == 0
    assert short_payment(98_000, 100_000, tolerance) is None  # 20.00 short: over the amount
    assert short_payment(4_000, 5_000, tolerance) is None  # 10.00 of 50.00 is 20 %: over the percentage
    assert short_payment(99_000, 100_000, Tolerance()) is None


def test_unapplied_credit_is_summed_per_currency_and_never_mixed() -> None:
    assert unapplied_by_currency([("EUR", 500), ("USD", 300), ("EUR", 200), ("GBP", 0)]) == {"EUR": 700, "USD": 300}


def test_credit_is_spread_over_open_invoices_oldest_due_first() -> None:
    invoices = [(3, "2026-03-01", 5_000), (1, "2026-01-01", 2_000), (2, "2026-02-01", 4_000)]
    assert oldest_due_first(7_000, invoices) == [(1, 2_000), (2, 4_000), (3, 1_000)]
    assert oldest_due_first(0, invoices) == []


@dataclass
class Txn:
    state: str = bt.IMPORTED


@pytest.mark.parametrize(
    "trigger, end",
    [("auto_apply", bt.AUTO_APPLIED), ("suggest", bt.SUGGESTED), ("no_match", bt.UNMATCHED), ("exclude", bt.EXCLUDED)],
)
def test_an_imported_transaction_leaves_imported_by_the_matcher_or_as_a_debit(trigger: str, end: str) -> None:
    txn = Txn()
    assert bt.BANK_TRANSACTION.fire(txn, trigger) == (bt.IMPORTED, end)


@pytest.mark.parametrize(
    "trigger, end",
    [("apply", bt.APPLIED), ("put_on_account", bt.ON_ACCOUNT), ("exclude", bt.EXCLUDED), ("return_funds", bt.RETURNED)],
)
def test_a_person_settles_a_queued_transaction(trigger: str, end: str) -> None:
    for start in (bt.SUGGESTED, bt.UNMATCHED):
        txn = Txn(start)
        assert bt.BANK_TRANSACTION.fire(txn, trigger) == (start, end)


def test_a_returned_transaction_is_final() -> None:
    with pytest.raises(InvalidTransition, match="final"):
        bt.BANK_TRANSACTION.fire(Txn(bt.RETURNED), "apply")


def test_an_applied_transaction_goes_back_to_the_queue_when_unapplied() -> None:
    txn = Txn(bt.AUTO_APPLIED)
    assert bt.BANK_TRANSACTION.fire(txn, "unapply") == (bt.AUTO_APPLIED, bt.SUGGESTED)
    with pytest.raises(InvalidTransition):
        bt.BANK_TRANSACTION.fire(Txn(bt.IMPORTED), "apply")


def test_unapplied_cash_covers_an_invoice_only_when_it_pays_all_that_is_open() -> None:
    assert covered_by_credit(150_000, 100_000) and covered_by_credit(100_000, 100_000)
    assert not covered_by_credit(99_999, 100_000)
    assert not covered_by_credit(0, 0) and not covered_by_credit(5, 0)  # nothing open: nothing to cover


def test_the_difference_is_the_open_amount_less_what_is_applied_beyond_the_tolerance() -> None:
    rule, tolerance = DeductionRule(2_500, 5_000), Tolerance(1_500, 200)
    assert deduction(42_000, 50_000, tolerance, rule) == 8_000
    assert deduction(49_000, 50_000, tolerance, rule) == 0  # within the tolerance: it settles
    assert deduction(48_000, 50_000, tolerance, rule) == 0  # 20.00: below the minimum
    assert deduction(25_000, 50_000, tolerance, rule) == 25_000  # exactly half: still a deduction
    assert deduction(24_999, 50_000, tolerance, rule) == 0  # more than half: an instalment
    assert deduction(50_000, 50_000, tolerance, rule) == 0 and deduction(60_000, 50_000, tolerance, rule) == 0

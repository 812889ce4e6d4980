"""Cash application rules, stated once over plain values (no I/O).

Every path that applies money to an invoice — `recordPayment`, a bank transaction applied by the
matcher or a person, `applyCredit`, the CSV payment import — asks these functions, so the rules
cannot drift apart: the currencies must agree, the invoice must still be collectible, an allocation
takes at most the open amount, and the invoice settles when nothing is left open (or when what is
left is a short payment within the tolerance, recorded as the allocation's short-paid difference).
A short payment beyond the tolerance may be a deduction (`deduction`): its difference is disputed.
"""

from __future__ import annotations

from dataclasses import dataclass

from states import invoice as inv_states

PERCENT_SCALE = 10_000  # tolerance percentages are basis points: 150 = 1.50 %


def allocation_problem(
    invoice_number: str, invoice_currency: str, invoice_state: str, payment_currency: str
) -> str | None:
    """Why money in `payment_currency` may not be applied to this invoice, or None."""
    if invoice_currency != payment_currency:
        return f"invoice {invoice_number} is in {invoice_currency}, the payment in {payment_currency}"
    if invoice_state not in inv_states.COLLECTIBLE:
        return f"invoice {invoice_number} is {invoice_state} and takes no payment"
    return None


def allocation_take(wanted: int, open_amount: int) -> int:
    """How much of `wanted` an invoice with `open_amount` open takes (the rest stays unapplied)."""
    return max(0, min(wanted, open_amount))


def settles(open_amount_after: int) -> bool:
    """An invoice whose open amount reached zero is paid."""
    return open_amount_after <= 0


@dataclass(frozen=True)
class Tolerance:
    """How far short a payment may fall and still settle (bank charges): at most `amount` minor
    units of the currency AND at most `basis_points` of the open amount. Zero: no tolerance."""

    amount: int = 0
    basis_points: int = 0

    def covers(self, short: int, open_amount: int) -> bool:
        if short <= 0:
            return short == 0
        return short <= self.amount and short * PERCENT_SCALE <= self.basis_points * open_amount


def short_payment(paid: int, open_amount: int, tolerance: Tolerance) -> int | None:
    """The difference written off when `paid` settles `open_amount` within the tolerance; None when
    it does not settle (a partial payment). 0 means paid exactly (or over)."""
    if paid >= open_amount:
        return 0
    short = open_amount - paid
    return short if tolerance.covers(short, open_amount) else None


@dataclass(frozen=True)
class DeductionRule:
    """When a short payment's difference is a deduction (disputed on the customer's behalf) rather
    than a partial payment: at least `min_amount` minor units (0: any) and at most `max_basis_points`
    of the open amount before the payment (a larger gap is an instalment, not a deduction)."""

    min_amount: int = 0
    max_basis_points: int = PERCENT_SCALE

    def covers(self, difference: int, open_before: int) -> bool:
        return (
            difference > 0
            and difference >= self.min_amount
            and (difference * PERCENT_SCALE <= self.max_basis_points * open_before)
        )


def deduction(paid: int, open_before: int, tolerance: Tolerance, rule: DeductionRule) -> int:
    """The difference to dispute when `paid` falls short of `open_before` (the invoice's open amount
    before the payment, in its currency): `open_before - paid` when it is beyond the tolerance (within
    it the invoice settles: see `short_payment`) and the rule takes it; 0 otherwise."""
    if paid <= 0 or paid >= open_before or short_payment(paid, open_before, tolerance) is not None:
        return 0
    difference = open_before - paid
    return difference if rule.covers(difference, open_before) else 0


def unapplied_by_currency(payments: list[tuple[str, int]]) -> dict[str, int]:
    """Unapplied credit is kept per currency and never mixed: (currency, unapplied) pairs summed."""
    out: dict[str, int] = {}
    for currency, amount in payments:
        if amount:
            out[currency] = out.get(currency, 0) + amount
    return out


def covered_by_credit(unapplied: int, open_amount: int) -> bool:
    """The customer's unapplied cash in the invoice's currency already pays it: never chase it.
    (The cycle's vectorised `covered_by_credit` fact, engine/cycle/facts.py, is this rule per row.)"""
    return 0 < open_amount <= unapplied


def oldest_due_first(credit: int, invoices: list[tuple[int, str, int]]) -> list[tuple[int, int]]:
    """Spread `credit` over (invoice id, due date ISO text, open amount), oldest due first; returns
    (invoice id, amount) allocations. The automatic policy of applying unapplied credit."""
    out: list[tuple[int, int]] = []
    left = credit
    for inv_id, _due, open_amount in sorted(invoices, key=lambda x: (x[1], x[0])):
        if left <= 0:
            break
        take = allocation_take(left, open_amount)
        if take:
            out.append((inv_id, take))
            left -= take
    return out

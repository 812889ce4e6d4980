"""The closed fact vocabulary: every name a `when` expression may use.

Facts are the only inputs of a rule. Money is integer minor units in the currency given by the
`currency` fact of the same evaluation (every money fact of one fact set is in that currency; the
code that builds facts converts). Day counts are whole days. Nothing is ever a float.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from states.invoice import STATES
from states.money import CURRENCY_EXPONENTS


class Kind(Enum):
    INT = "int"
    MONEY = "money"
    BOOL = "bool"
    ENUM = "enum"


class Scope(Enum):
    """`invoice` facts exist only when one invoice is evaluated; `customer` facts always."""

    INVOICE = "invoice"
    CUSTOMER = "customer"


# A `days_since_last_notice` of this value means "never sent a notice".
NEVER_NOTICED = 9999
# Every int fact and money amount must lie within ±MAX_MAGNITUDE (checked before evaluation).
MAX_MAGNITUDE = 10**15

SEGMENTS = ("enterprise", "mid_market", "smb", "public_sector")
RISKS = ("low", "medium", "high", "critical")
CURRENCIES = tuple(CURRENCY_EXPONENTS)


@dataclass(frozen=True)
class Fact:
    name: str
    kind: Kind
    unit: str
    scope: Scope
    description: str
    example: str
    values: tuple[str, ...] = ()  # the allowed values of an enum fact, in code order


_I, _C = Scope.INVOICE, Scope.CUSTOMER

_ALL: list[Fact] = [
    Fact(
        "days_past_due",
        Kind.INT,
        "days",
        _I,
        "Days since the due date: negative before it, 0 on the due date.",
        "12",
    ),
    Fact(
        "days_to_due",
        Kind.INT,
        "days",
        _I,
        "Days until the due date (always -days_past_due): 5 means due in five days.",
        "5",
    ),
    Fact("amount", Kind.MONEY, "money", _I, "The invoice's original gross amount.", "1200.00 EUR"),
    Fact("open_amount", Kind.MONEY, "money", _I, "What is still owed on the invoice.", "350.00 EUR"),
    Fact(
        "collectible_amount",
        Kind.MONEY,
        "money",
        _I,
        "The open amount less what active disputes contest (0 at least): what notices may still chase.",
        "250.00 EUR",
    ),
    Fact(
        "dunning_level",
        Kind.INT,
        "level",
        _I,
        "Dunning notices sent so far (0 = none; never above max_dunning_level).",
        "1",
    ),
    Fact(
        "days_since_last_notice",
        Kind.INT,
        "days",
        _I,
        f"Days since the last reminder or notice for this invoice; {NEVER_NOTICED} when none was ever sent.",
        "14",
    ),
    Fact(
        "recent_notices",
        Kind.INT,
        "notices",
        _I,
        "Messages (not cancelled) to this customer within the strategy's contact_cap.per_days window, "
        "of the business dates before the one evaluated (the date's own messages use up the cap as they "
        "are planned).",
        "1",
    ),
    Fact(
        "state",
        Kind.ENUM,
        "invoice state",
        _I,
        "The invoice's state in the invoice machine.",
        '"overdue"',
        tuple(STATES),
    ),
    Fact("disputed", Kind.BOOL, "yes/no", _I, "True exactly while the invoice is in state disputed.", "false"),
    Fact(
        "promise_active",
        Kind.BOOL,
        "yes/no",
        _I,
        "True exactly while the invoice is in state promised (a promise to pay runs).",
        "false",
    ),
    Fact(
        "blocked",
        Kind.BOOL,
        "yes/no",
        _I,
        "A dunning block (on the invoice or its customer) is in force today; a blocked invoice gets no "
        "reminder, notice or escalation whatever the rules say.",
        "false",
    ),
    Fact(
        "p_late",
        Kind.INT,
        "percent 0-100",
        _I,
        "Predicted probability, in whole percent, that the invoice is paid after its due date (the payment "
        "model, engine/predict); 100 once it is past due and unpaid. Not scored yet: 100 past due, else 0.",
        "72",
    ),
    Fact(
        "predicted_days_late",
        Kind.INT,
        "days",
        _I,
        "Predicted payment date minus the due date, never below 0. Not scored yet: max(days_past_due, 0).",
        "12",
    ),
    Fact(
        "days_to_expected_payment",
        Kind.INT,
        "days",
        _I,
        "Days from today to the predicted payment date (0: expected today). Not scored yet: max(days_to_due, 0).",
        "20",
    ),
    Fact(
        "currency",
        Kind.ENUM,
        "ISO 4217 code",
        _C,
        "Currency of every money fact in this evaluation.",
        '"EUR"',
        CURRENCIES,
    ),
    Fact("segment", Kind.ENUM, "segment", _C, "The customer's segment.", "smb", SEGMENTS),
    Fact("risk", Kind.ENUM, "risk class", _C, "The customer's risk class (from the risk score).", "high", RISKS),
    Fact("risk_score", Kind.INT, "points 0-100", _C, "The customer's risk score; higher is riskier.", "72"),
    Fact("account.exposure", Kind.MONEY, "money", _C, "Total open receivables of the customer.", "48000.00 EUR"),
    Fact(
        "account.credit_limit",
        Kind.MONEY,
        "money",
        _C,
        "The customer's credit limit (0 = none granted).",
        "50000.00 EUR",
    ),
    Fact(
        "account.utilisation",
        Kind.INT,
        "percent",
        _C,
        "exposure × 100 ÷ credit_limit, rounded down (a whole percent, 96 means 96 %); "
        f"0 with no exposure, {NEVER_NOTICED} with exposure but no credit limit.",
        "96",
    ),
    Fact(
        "account.overdue_amount",
        Kind.MONEY,
        "money",
        _C,
        "Open amount of the customer's past-due invoices.",
        "1200.00 EUR",
    ),
    Fact(
        "account.max_days_past_due",
        Kind.INT,
        "days",
        _C,
        "Days past due of the customer's oldest past-due open invoice; 0 when none is past due.",
        "31",
    ),
    Fact(
        "account.broken_promises",
        Kind.INT,
        "promises",
        _C,
        "Promises to pay the customer broke in the last 365 days.",
        "2",
    ),
    Fact(
        "account.unapplied_cash",
        Kind.MONEY,
        "money",
        _C,
        "The customer's unapplied cash (received, not yet allocated) in the currency of this evaluation.",
        "250.00 EUR",
    ),
    Fact(
        "covered_by_credit",
        Kind.BOOL,
        "yes/no",
        _I,
        "The customer's unapplied cash in the invoice's currency covers its open amount; no notice is "
        "sent for such an invoice (the credit is applied first: docs/cash-application.md).",
        "false",
    ),
    Fact("account.on_hold", Kind.BOOL, "yes/no", _C, "The customer's credit account is on hold.", "false"),
    Fact(
        "business_day",
        Kind.BOOL,
        "yes/no",
        _C,
        "Today is a business day in the customer's calendar: not a weekend day or public holiday of its "
        "country and subdivision (Monday to Friday without a country; engine/calendars.py).",
        "true",
    ),
]

FACTS: dict[str, Fact] = {f.name: f for f in _ALL}
PREDICTED = ("p_late", "predicted_days_late", "days_to_expected_payment")  # facts from the payment model
CUSTOMER_FACTS = frozenset(f.name for f in _ALL if f.scope is Scope.CUSTOMER)


def fact(name: str) -> Fact:
    return FACTS[name]

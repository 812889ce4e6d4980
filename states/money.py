"""Money as integer minor units plus an ISO 4217 code. Never a float."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from states.errors import ValidationFailed

# ISO 4217 minor-unit exponents of the currencies we accept. Add here, nowhere else.
CURRENCY_EXPONENTS: dict[str, int] = {
    "EUR": 2,
    "USD": 2,
    "GBP": 2,
    "CHF": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "PLN": 2,
    "CZK": 2,
    "HUF": 2,
    "RON": 2,
    "CAD": 2,
    "AUD": 2,
    "NZD": 2,
    "SGD": 2,
    "HKD": 2,
    "CNY": 2,
    "INR": 2,
    "BRL": 2,
    "MXN": 2,
    "ZAR": 2,
    "TRY": 2,
    "ILS": 2,
    "AED": 2,
    "SAR": 2,
    "JPY": 0,
    "KRW": 0,
    "ISK": 0,
    "CLP": 0,
    "BHD": 3,
    "KWD": 3,
    "OMR": 3,
    "JOD": 3,
    "TND": 3,
}

_MONEY_TEXT = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Za-z]{3})\s*$")
# How people write an amount: digits, optionally a point and more digits. No exponent ("1e3"),
# no digit groups, no sign but a leading minus, only ASCII digits.
_AMOUNT_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
# The largest amount one value may hold, in minor units: far below the 64-bit columns, so that
# sums over a whole portfolio (exposure, aging totals, KPIs) cannot overflow them either.
MAX_MINOR = 10**15


def check_currency(code: str) -> str:
    """Return the upper-case code, or raise if it is not a currency we know."""
    upper = code.strip().upper()
    if upper not in CURRENCY_EXPONENTS:
        raise ValidationFailed(f"unknown currency '{code}' (ISO 4217 code expected)", "currency")
    return upper


def to_minor(amount: str | Decimal | int, currency: str) -> int:
    """Convert a decimal amount (text or Decimal, never float) to minor units, exactly."""
    if isinstance(amount, float):
        raise ValidationFailed("money must not be given as a float", "amount")
    cur = check_currency(currency)
    text = str(amount).strip()
    if isinstance(amount, Decimal) and amount.is_finite():
        text = f"{amount:f}"  # a Decimal the caller built: its exponent is not the person's writing
    if not _AMOUNT_TEXT.fullmatch(text):
        raise ValidationFailed(f"'{amount}' is not a decimal amount; write it like 120.50", "amount")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits decimals only
        raise ValidationFailed(f"'{amount}' is not a decimal amount", "amount") from exc
    exp = CURRENCY_EXPONENTS[cur]
    scaled = value.scaleb(exp)
    if scaled != scaled.to_integral_value():
        raise ValidationFailed(f"{amount} has more than {exp} decimals for {cur}", "amount")
    return check_minor(int(scaled.to_integral_value(rounding=ROUND_HALF_EVEN)), cur)


def check_minor(minor: int, currency: str) -> int:
    """`minor` if one amount may hold it (see MAX_MINOR), else a validation error."""
    if abs(minor) > MAX_MINOR:
        largest = format_minor(MAX_MINOR, currency)
        raise ValidationFailed(f"amount too large: at most {largest} {currency.upper()}", "amount")
    return minor


def format_minor(minor: int, currency: str) -> str:
    exp = CURRENCY_EXPONENTS[check_currency(currency)]
    return f"{Decimal(minor).scaleb(-exp):.{exp}f}"


@dataclass(frozen=True, order=True)
class Money:
    minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise ValidationFailed("money amount must be integer minor units", "amount")
        object.__setattr__(self, "currency", check_currency(self.currency))

    @classmethod
    def parse(cls, text: str) -> Money:
        """Parse '120.00 EUR'."""
        m = _MONEY_TEXT.match(text)
        if not m:
            raise ValidationFailed(f"'{text}' is not money; write it like '120.00 EUR'", "amount")
        return cls(to_minor(m.group(1), m.group(2)), m.group(2).upper())

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValidationFailed(f"cannot combine {self.currency} with {other.currency}", "currency")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __str__(self) -> str:
        return f"{format_minor(self.minor, self.currency)} {self.currency}"

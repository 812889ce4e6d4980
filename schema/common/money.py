"""Money on the wire: a decimal string, the currency and the integer minor units. Never a float."""

from __future__ import annotations

from typing import NewType

import strawberry

from states.money import format_minor, to_minor

MinorUnits = NewType("MinorUnits", int)

MINOR_UNITS_SCALAR = strawberry.scalar(
    name="MinorUnits",
    description="Integer minor units (cents for EUR); a JSON integer that may exceed 32 bits.",
    serialize=int,
    parse_value=int,
)


@strawberry.type(description="An amount of money: `amount` is a decimal string, `minor` its minor units.")
class Money:
    amount: str
    currency: str
    minor: MinorUnits

    @staticmethod
    def of(minor: int, currency: str) -> Money:
        return Money(amount=format_minor(minor, currency), currency=currency, minor=MinorUnits(minor))


@strawberry.input(
    description='An amount as a decimal string with its currency, e.g. {amount: "120.00", currency: "EUR"}.'
)
class MoneyInput:
    amount: str
    currency: str

    def to_minor(self) -> int:
        return to_minor(self.amount, self.currency)

"""Money is integer minor units plus an ISO 4217 code: exact, never a float."""

from __future__ import annotations

from decimal import Decimal

import pytest

from states.errors import ValidationFailed
from states.money import CURRENCY_EXPONENTS, Money, check_currency, format_minor, to_minor


@pytest.mark.parametrize(
    ("text", "minor", "currency"),
    [
        ("120.00 EUR", 12_000, "EUR"),
        ("120 EUR", 12_000, "EUR"),
        ("120.5 usd", 12_050, "USD"),
        ("  0.01   GBP ", 1, "GBP"),
        ("-5.00 EUR", -500, "EUR"),
        ("1000 JPY", 1_000, "JPY"),
        ("1.234 BHD", 1_234, "BHD"),
        ("0.5 KWD", 500, "KWD"),
        ("10000000000000.00 EUR", 10**15, "EUR"),
    ],
)
def test_money_text_parses_to_exact_minor_units(text: str, minor: int, currency: str) -> None:
    assert Money.parse(text) == Money(minor, currency)


@pytest.mark.parametrize(
    "text", ["120,00 EUR", "EUR 120.00", "120.00", "12 0 EUR", "1e3 EUR", ".50 EUR", "120. EUR", "", "EUR"]
)
def test_text_that_is_not_money_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(ValidationFailed, match=r"write it like '120\.00 EUR'") as caught:
        Money.parse(text)
    assert caught.value.field == "amount"


@pytest.mark.parametrize(("text", "exp"), [("120.001 EUR", 2), ("1.5 JPY", 0), ("1.2345 BHD", 3)])
def test_more_decimals_than_the_currency_has_are_refused_not_rounded(text: str, exp: int) -> None:
    with pytest.raises(ValidationFailed, match=f"more than {exp} decimals"):
        Money.parse(text)


def test_trailing_zeros_beyond_the_exponent_are_exact_and_accepted() -> None:
    assert to_minor("120.000", "EUR") == 12_000


@pytest.mark.parametrize(("currency", "exp"), [("EUR", 2), ("USD", 2), ("JPY", 0), ("KRW", 0), ("BHD", 3), ("KWD", 3)])
def test_each_currency_uses_its_iso_4217_exponent(currency: str, exp: int) -> None:
    assert CURRENCY_EXPONENTS[currency] == exp
    assert to_minor("1", currency) == 10**exp


def test_decimal_and_text_convert_exactly_where_floats_would_not() -> None:
    assert to_minor(Decimal("0.1"), "EUR") + to_minor("0.2", "EUR") == to_minor("0.3", "EUR") == 30
    assert to_minor("9999999999999.99", "EUR") == 10**15 - 1


def test_an_integer_amount_is_read_in_major_units() -> None:
    assert to_minor(12, "EUR") == 1_200
    assert to_minor(12, "JPY") == 12


@pytest.mark.parametrize("amount", [0.1, 120.0, 1e15])
def test_a_float_amount_is_refused(amount: float) -> None:
    with pytest.raises(ValidationFailed, match="must not be given as a float"):
        to_minor(amount, "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize("minor", [1.0, 12.5, Decimal("12"), "12", True])
def test_money_holds_only_integer_minor_units(minor: object) -> None:
    with pytest.raises(ValidationFailed, match="integer minor units"):
        Money(minor, "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", ["abc", "1.2.3", "--1"])
def test_an_amount_that_is_not_a_decimal_is_refused(amount: str) -> None:
    with pytest.raises(ValidationFailed, match="is not a decimal amount"):
        to_minor(amount, "EUR")


@pytest.mark.parametrize("code", ["XXX", "EU", "EURO", "", "12€"])
def test_an_unknown_currency_is_refused(code: str) -> None:
    with pytest.raises(ValidationFailed, match="unknown currency") as caught:
        check_currency(code)
    assert caught.value.field == "currency"
    with pytest.raises(ValidationFailed):
        Money(100, code)


def test_currency_codes_are_normalised_to_upper_case() -> None:
    assert check_currency(" eur ") == "EUR"
    assert Money(100, "chf").currency == "CHF"


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (12_000, "EUR", "120.00 EUR"),
        (-5, "EUR", "-0.05 EUR"),
        (0, "USD", "0.00 USD"),
        (1_000, "JPY", "1000 JPY"),
        (1_234, "BHD", "1.234 BHD"),
        (10**15 - 1, "EUR", "9999999999999.99 EUR"),
    ],
)
def test_money_prints_with_the_currencys_decimals_and_parses_back(minor: int, currency: str, text: str) -> None:
    money = Money(minor, currency)
    assert str(money) == text
    assert format_minor(minor, currency) == text.split()[0]
    assert Money.parse(str(money)) == money


def test_money_of_one_currency_adds_and_subtracts_exactly() -> None:
    a, b = Money.parse("100.10 EUR"), Money.parse("0.20 EUR")
    assert a + b == Money(10_030, "EUR")
    assert a - b == Money(9_990, "EUR")
    assert b - a == Money(-9_990, "EUR")


@pytest.mark.parametrize("op", ["add", "sub"])
def test_money_of_two_currencies_does_not_combine(op: str) -> None:
    eur, usd = Money(100, "EUR"), Money(100, "USD")
    with pytest.raises(ValidationFailed, match="cannot combine EUR with USD") as caught:
        _ = eur + usd if op == "add" else eur - usd
    assert caught.value.field == "currency"


def test_money_compares_by_amount_within_a_currency() -> None:
    assert Money(5, "EUR") < Money(6, "EUR")
    assert Money(5, "EUR") != Money(5, "USD")
    assert Money(5, "eur") == Money(5, "EUR")


@pytest.mark.parametrize(
    "amount", ["1e3", "1.0E+2", "1E-2", "0x10", "1_000", "١٢", "+5", ".5", "5.", " ", "NaN", "Inf"]
)
def test_an_amount_written_as_no_person_writes_money_is_refused(amount: str) -> None:
    with pytest.raises(ValidationFailed, match="not a decimal amount") as caught:
        to_minor(amount, "EUR")
    assert caught.value.field == "amount"


def test_a_decimal_with_an_exponent_built_by_code_is_read_by_its_value() -> None:
    assert to_minor(Decimal("1.5E+2"), "EUR") == 15_000


@pytest.mark.parametrize(
    ("amount", "currency"), [("10000000000000.01", "EUR"), ("-1" + "0" * 16, "JPY"), ("9" * 40, "USD")]
)
def test_an_amount_beyond_the_largest_one_value_may_hold_is_refused(amount: str, currency: str) -> None:
    with pytest.raises(ValidationFailed, match="amount too large"):
        to_minor(amount, currency)

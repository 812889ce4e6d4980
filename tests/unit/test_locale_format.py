"""Money formatting per language: the fast path gives exactly Babel's text, or Babel formats."""

import random
from decimal import Decimal

import pytest
from babel import Locale
from babel.numbers import format_currency

from engine.notices.locale import money
from states.money import CURRENCY_EXPONENTS


@pytest.mark.parametrize("tag", ["en", "de", "fr-CA", "de-CH", "en-IN", "nl", "es", "ja", "pl", "sv"])
@pytest.mark.parametrize("currency", ["EUR", "USD", "GBP", "JPY", "CHF", "KWD", "INR"])
def test_money_is_formatted_exactly_as_babel_formats_it(tag: str, currency: str) -> None:
    rng = random.Random(f"{tag}{currency}")
    amounts = [rng.randrange(-(10**12), 10**12) for _ in range(200)] + [0, 1, 999, 1000, 123456]
    loc = Locale.parse(tag, sep="-")
    for minor in amounts:
        expected = format_currency(Decimal(minor).scaleb(-CURRENCY_EXPONENTS[currency]), currency, locale=loc)
        assert money(minor, currency, tag) == expected, (minor, currency, tag)

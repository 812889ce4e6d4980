"""Languages, money and dates per language: the one home of Babel."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency

from states.errors import ValidationFailed
from states.money import CURRENCY_EXPONENTS


def check_language(tag: str, field: str = "language") -> str:
    """A BCP 47 tag Babel knows (`en`, `de`, `fr-CA`), in its canonical spelling."""
    text = tag.strip()
    try:
        loc = Locale.parse(text, sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValidationFailed(f"unknown language '{tag}'; use a BCP 47 tag such as en, de or fr-CA", field) from None
    return "-".join(p for p in (loc.language, loc.script, loc.territory) if p)


def base_language(tag: str) -> str:
    """`fr-CA` → `fr`: templates are written per language, not per region."""
    return tag.split("-", 1)[0].lower()


def _locale(tag: str) -> Locale:
    return Locale.parse(tag, sep="-")


def money(minor: int, currency: str, tag: str) -> str:
    """`1.234,50 €` in German, `€1,234.50` in English: exact (Decimal from integer minor units)."""
    amount = Decimal(minor).scaleb(-CURRENCY_EXPONENTS[currency])
    return format_currency(amount, currency, locale=_locale(tag))


def day(value: date, tag: str) -> str:
    """The date in the language's medium form (`2 Mar 2026`, `02.03.2026`)."""
    return format_date(value, format="medium", locale=_locale(tag))

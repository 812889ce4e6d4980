"""Languages, money and dates per language: the one home of Babel.

Babel's `format_currency` costs ~130 µs a call, most of a message's rendering. `money` therefore
formats the common pattern (one group size, symbol before or after) from Babel's own locale data and
keeps that fast path for a (language, currency) only after it matched Babel on probe amounts; any
other pattern is Babel's to format."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, get_currency_symbol

from states.errors import ValidationFailed
from states.money import CURRENCY_EXPONENTS

PROBES = (0, 5, 99, 999, 1000, 1234, 12_345, 99_999, 123_456, 1_234_567, 100_000_000, -1, -123_456)


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


@lru_cache(maxsize=256)
def _locale(tag: str) -> Locale:
    return Locale.parse(tag, sep="-")


def _babel(minor: int, currency: str, tag: str) -> str:
    amount = Decimal(minor).scaleb(-CURRENCY_EXPONENTS[currency])
    return str(format_currency(amount, currency, locale=_locale(tag)))


def _fast(currency: str, tag: str) -> Callable[[int], str] | None:
    loc = _locale(tag)
    pattern = loc.currency_formats["standard"]
    symbols = loc.number_symbols.get("latn", {})
    if pattern.grouping[0] != pattern.grouping[1] or ";" in pattern.pattern:
        return None
    digits = CURRENCY_EXPONENTS[currency]
    symbol = get_currency_symbol(currency, locale=loc)
    group, decimal = symbols.get("group", ","), symbols.get("decimal", ".")
    (pos_prefix, neg_prefix), (pos_suffix, neg_suffix) = pattern.prefix, pattern.suffix
    size = pattern.grouping[0]

    def fmt(minor: int) -> str:
        whole, frac = divmod(abs(minor), 10**digits)
        text = f"{whole:,}".replace(",", "\0") if size == 3 else str(whole)
        text = text.replace("\0", group)
        if digits:
            text += decimal + str(frac).rjust(digits, "0")
        prefix, suffix = (neg_prefix, neg_suffix) if minor < 0 else (pos_prefix, pos_suffix)
        return prefix.replace("¤", symbol) + text + suffix.replace("¤", symbol)

    ok = all(fmt(m * 10**digits + (m % 100 if digits else 0)) == _babel(
        m * 10**digits + (m % 100 if digits else 0), currency, tag) for m in PROBES)  # fmt: skip
    return fmt if ok else None


@lru_cache(maxsize=1024)
def _formatter(currency: str, tag: str) -> Callable[[int], str]:
    fast = _fast(currency, tag)
    return fast if fast is not None else (lambda minor: _babel(minor, currency, tag))


def money(minor: int, currency: str, tag: str) -> str:
    """`1.234,50 €` in German, `€1,234.50` in English: exact (from integer minor units)."""
    return _formatter(currency, tag)(minor)


@lru_cache(maxsize=8192)
def day(value: date, tag: str) -> str:
    """The date in the language's medium form (`2 Mar 2026`, `02.03.2026`)."""
    return str(format_date(value, format="medium", locale=_locale(tag)))

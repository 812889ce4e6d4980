"""SMS segments: GSM 03.38 (7-bit) when every character is in its alphabet, else UCS-2.

One segment holds 160 GSM-7 septets (153 per part when concatenated) or 70 UCS-2 units (67 per part);
characters of the extension table cost two septets. UCS-2 counts UTF-16 code units."""

from __future__ import annotations

import math
from dataclasses import dataclass

_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_EXTENSION = "^{}\\[~]|€\f"
GSM7 = frozenset(_BASIC)
GSM7_EXT = frozenset(_EXTENSION)


@dataclass(frozen=True)
class Segments:
    encoding: str  # GSM-7 | UCS-2
    units: int  # septets or UTF-16 code units
    count: int


def segments(text: str) -> Segments:
    if all(ch in GSM7 or ch in GSM7_EXT for ch in text):
        units = sum(2 if ch in GSM7_EXT else 1 for ch in text)
        return Segments("GSM-7", units, 1 if units <= 160 else math.ceil(units / 153))
    units = len(text.encode("utf-16-le")) // 2
    return Segments("UCS-2", units, 1 if units <= 70 else math.ceil(units / 67))

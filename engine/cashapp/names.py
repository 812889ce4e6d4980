"""Payer names and references as banks write them. The home of `rapidfuzz` (fuzzy names) and
`python-stdnum` (ISO 11649 RF creditor references, IBAN)."""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein
from stdnum import iban as std_iban
from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

# Legal forms dropped before names are compared ("ACME GmbH" pays as "Acme"), lower case.
LEGAL_FORMS = frozenset(
    [
        "gmbh",
        "ag",
        "kg",
        "ohg",
        "ug",
        "ltd",
        "limited",
        "plc",
        "llc",
        "llp",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "sa",
        "sas",
        "sarl",
        "srl",
        "spa",
        "bv",
        "nv",
        "oy",
        "ab",
        "as",
        "aps",
        "asa",
        "kft",
        "sro",
        "sp",
        "zoo",
        "pty",
        "pte",
        "lda",
        "se",
        "eg",
        "ev",
        "the",
        "und",
        "and",
    ]
)
_WORD = re.compile(r"[a-z0-9]+")
_RF = re.compile(r"R\s*F\s*\d\s*\d(?:\s*[A-Z0-9]){1,21}")


def normalise_name(name: str) -> str:
    """Lower case, punctuation and legal forms removed, words in order: 'ACME GmbH & Co. KG' -> 'acme'."""
    text = name.lower().replace("&", " ").replace("ü", "ue").replace("ö", "oe").replace("ä", "ae").replace("ß", "ss")
    words = [w for w in _WORD.findall(text) if w not in LEGAL_FORMS]
    return " ".join(words)


def name_similarity(a: str, b: str) -> int:
    """0–100, word order ignored (both already normalised)."""
    return int(fuzz.token_sort_ratio(a, b))


def similar_names(name: str, choices: list[str], cutoff: int, limit: int = 3) -> list[tuple[str, int]]:
    """The best `limit` normalised names at or above `cutoff`, with their score."""
    found = process.extract(name, choices, scorer=fuzz.token_sort_ratio, score_cutoff=cutoff, limit=limit)
    return [(str(choice), int(score)) for choice, score, _ in found]


def edit_distance(a: str, b: str) -> int:
    """Damerau–Levenshtein: a swapped pair of digits counts one."""
    return int(DamerauLevenshtein.distance(a, b))


def compact_iban(text: str | None) -> str | None:
    """The IBAN without spaces, upper case, when it is a valid IBAN; else None."""
    if not text:
        return None
    value = std_iban.compact(text)
    return value if std_iban.is_valid(value) else None


def rf_references(text: str) -> list[str]:
    """Valid ISO 11649 creditor references in a text (spaces allowed), as their reference part."""
    out = []
    for m in _RF.finditer(text.upper()):
        raw = re.sub(r"\s+", "", m.group(0))
        # The greedy match may swallow following words: try the longest valid prefix.
        for end in range(len(raw), 4, -1):
            if iso11649.is_valid(raw[:end]):
                out.append(raw[4:end])
                break
    return out


def rf_reference(number: str) -> str:
    """The ISO 11649 RF creditor reference of an invoice number (its letters and digits)."""
    body = re.sub(r"[^A-Z0-9]", "", number.upper())[:21]
    check = mod_97_10.calc_check_digits(body + "RF")
    return f"RF{check}{body}"

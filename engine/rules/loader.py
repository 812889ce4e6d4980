"""Loading one strategy file into a validated `Strategy`, or every problem found in it."""

from __future__ import annotations

import hashlib
import re
from datetime import time
from pathlib import Path

import yaml

from engine.rules.errors import Loc, Problem, StrategyError
from engine.rules.expectations import read_tests
from engine.rules.experiment_reader import read_experiment
from engine.rules.facts import RISKS, SEGMENTS
from engine.rules.rule_reader import RULE_ID, read_rules
from engine.rules.strategy import (
    CONSOLIDATE,
    DEFAULT_CONTACT_CAP,
    DEFAULT_SEND_WINDOW,
    ContactCap,
    SendWindow,
    Strategy,
    StrategySettings,
)
from engine.rules.yamlread import Reader
from engine.rules.yamlsrc import compose
from states.errors import ValidationFailed
from states.money import CURRENCY_EXPONENTS, to_minor

TOP = ("strategy", "version", "applies_to", "settings", "rules")
TOP_OPTIONAL = ("description", "tests", "experiment")
_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def load_file(path: Path, display: str | None = None) -> Strategy:
    """Read, parse and validate one file. Raises StrategyError listing every problem."""
    file = display or str(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StrategyError([Problem(Loc(file, 1, 1), f"cannot read the file: {exc}")]) from None
    return load_text(text, file, hashlib.sha256(raw).hexdigest())


def load_text(text: str, file: str, content_hash: str | None = None) -> Strategy:
    digest = content_hash or hashlib.sha256(text.encode("utf-8")).hexdigest()
    root = compose(text, file)
    r = Reader(file, text)
    if root is None:
        raise StrategyError([Problem(Loc(file, 1, 1), "the file is empty; a strategy starts with 'strategy: name'")])
    top = r.mapping(root, "the strategy", TOP, TOP_OPTIONAL)
    if top is None:
        raise StrategyError(r.problems)
    name = r.name(top["strategy"][1], "strategy name", RULE_ID) if "strategy" in top else None
    version = r.integer(top["version"][1], "version", 1, 10**9) if "version" in top else None
    description = r.scalar(top["description"][1], "description") if "description" in top else ""
    segments, risks = _applies_to(r, top["applies_to"][1]) if "applies_to" in top else ((), ())
    settings = _settings(r, top["settings"][1]) if "settings" in top else None
    rules = read_rules(r, top["rules"][1]) if "rules" in top else []
    tests = read_tests(r, top["tests"][1], {x.id for x in rules}) if "tests" in top else []
    experiment = read_experiment(r, top["experiment"][1], rules) if "experiment" in top else None
    if r.problems or name is None or version is None or settings is None:
        raise StrategyError(r.problems or [Problem(Loc(file, 1, 1), "incomplete strategy")])
    return Strategy(
        name, version, description or "", segments, risks, settings, tuple(rules), tuple(tests), file, digest,
        r.at(top["strategy"][0]), r.at(top["applies_to"][0]), experiment,
    )  # fmt: skip


def _applies_to(r: Reader, node: yaml.Node) -> tuple[tuple[str, ...], tuple[str, ...]]:
    entries = r.mapping(node, "'applies_to'", ("segment", "risk"))
    if not entries:
        return (), ()
    segments = r.choices(entries["segment"][1], "segment", SEGMENTS) if "segment" in entries else ()
    risks = r.choices(entries["risk"][1], "risk class", RISKS) if "risk" in entries else ()
    return segments, risks


def _settings(r: Reader, node: yaml.Node) -> StrategySettings | None:
    entries = r.mapping(
        node,
        "'settings'",
        ("grace_days", "min_amount", "max_dunning_level"),
        ("contact_cap", "consolidate", "send_window"),
    )
    if entries is None:
        return None
    grace = r.integer(entries["grace_days"][1], "grace_days", 0, 365) if "grace_days" in entries else None
    level = (
        r.integer(entries["max_dunning_level"][1], "max_dunning_level", 1, 9)
        if "max_dunning_level" in entries
        else None
    )
    minimum = _min_amount(r, entries["min_amount"][1]) if "min_amount" in entries else None
    cap: ContactCap | None = DEFAULT_CONTACT_CAP
    consolidate = r.choice(entries["consolidate"][1], "consolidate", CONSOLIDATE) if "consolidate" in entries else None
    if "contact_cap" in entries:
        cap_entries = r.mapping(entries["contact_cap"][1], "'contact_cap'", ("max", "per_days"))
        if cap_entries and {"max", "per_days"} <= cap_entries.keys():
            most = r.integer(cap_entries["max"][1], "contact_cap max", 1, 100)
            days = r.integer(cap_entries["per_days"][1], "contact_cap per_days", 1, 365)
            cap = ContactCap(most, days) if most and days else None
    window = _send_window(r, entries["send_window"][1]) if "send_window" in entries else DEFAULT_SEND_WINDOW
    if grace is None or level is None or minimum is None or window is None:
        return None
    return StrategySettings(grace, minimum, level, cap, consolidate or "customer", window)


def _send_window(r: Reader, node: yaml.Node) -> SendWindow | None:
    """`{from: "08:00", to: "18:00"}`: local hours on the customer's business days, `from` before `to`."""
    entries = r.mapping(node, "'send_window'", ("from", "to"))
    if not entries or not {"from", "to"} <= entries.keys():
        return None
    start = _clock_time(r, entries["from"][1], "send_window from")
    end = _clock_time(r, entries["to"][1], "send_window to")
    if start is None or end is None:
        return None
    if start >= end:
        r.fail(entries["to"][1], f"send_window to ({end:%H:%M}) must be after from ({start:%H:%M}) on the same day")
        return None
    return SendWindow(start, end)


def _clock_time(r: Reader, node: yaml.Node, what: str) -> time | None:
    text = r.scalar(node, what)
    if text is None:
        return None
    found = _CLOCK_TIME.match(text)
    if found is None:
        r.fail(node, f"{what} must be a time of day HH:MM (00:00 to 23:59, quoted: \"08:00\"), not '{text}'")
        return None
    return time(int(found[1]), int(found[2]))


def _min_amount(r: Reader, node: yaml.Node) -> dict[str, int] | None:
    """`{EUR: 50.00, USD: "50"}`: the raw text is read as a decimal, never as a float."""
    if not isinstance(node, yaml.MappingNode) or not node.value:
        r.fail(node, "min_amount lists a minimum per currency, e.g. {EUR: 50.00, USD: 50.00}")
        return None
    found: dict[str, int] = {}
    for key, value in node.value:
        code = str(key.value)
        if code not in CURRENCY_EXPONENTS:
            r.fail(key, f"unknown currency '{code}' (an ISO 4217 code in capitals)")
            continue
        if code in found:
            r.fail(key, f"duplicate currency '{code}'")
            continue
        text = r.scalar(value, f"min_amount {code}")
        if text is None:
            continue
        try:
            minor = to_minor(text, code)
        except ValidationFailed as exc:
            r.fail(value, f"min_amount {code}: {exc.message}")
            continue
        if minor < 0:
            r.fail(value, f"min_amount {code} must not be negative")
            continue
        found[code] = minor
    return found

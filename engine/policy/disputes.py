"""The dispute policy: SLA days per reason code × segment, the owner of a new dispute, and when a
short payment's difference opens a `deduction` dispute (per segment)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from engine.policy.files import DEFAULT_DIR, cached, policy_path
from engine.rules.errors import Loc, Problem, StrategyError
from engine.rules.facts import SEGMENTS
from engine.rules.yamlread import Reader
from engine.rules.yamlsrc import compose
from states.cash import PERCENT_SCALE, DeductionRule
from states.dispute import REASON_CODES
from states.errors import ValidationFailed
from states.money import CURRENCY_EXPONENTS, to_minor

FILE = "disputes.yaml"
MAX_SLA_DAYS = 365
DEDUCTION_KEYS = ("open", "min_amount", "max_percent", "owner")


@dataclass(frozen=True)
class DeductionSetting:
    """One group of `deductions` (the default or a segment's overrides; None: not given)."""

    open: bool | None = None
    min_amount: dict[str, int] = field(default_factory=dict)  # currency → minor units
    max_percent: int | None = None
    owner: str | None = None


OFF = DeductionSetting(open=False, max_percent=100)  # no `deductions` in the file: today's behaviour


@dataclass(frozen=True)
class DisputePolicy:
    default: dict[str, int]
    by_segment: dict[str, dict[str, int]] = field(default_factory=dict)
    owner: str = "disputes"
    deductions: DeductionSetting = OFF
    deductions_by_segment: dict[str, DeductionSetting] = field(default_factory=dict)

    def sla_days(self, reason_code: str, segment: str) -> int:
        return self.by_segment.get(segment, {}).get(reason_code, self.default[reason_code])

    def deduction_rule(self, segment: str, currency: str) -> DeductionRule | None:
        """When a short payment of this segment's customer in `currency` is a deduction; None: never."""
        own = self.deductions_by_segment.get(segment, DeductionSetting())
        opens = own.open if own.open is not None else self.deductions.open
        if not opens:
            return None
        minimum = own.min_amount.get(currency, self.deductions.min_amount.get(currency, 0))
        percent = own.max_percent if own.max_percent is not None else self.deductions.max_percent
        return DeductionRule(minimum, (percent or 0) * PERCENT_SCALE // 100)

    def deduction_owner(self, segment: str) -> str:
        own = self.deductions_by_segment.get(segment, DeductionSetting())
        return own.owner or self.deductions.owner or self.owner


def read_dispute_policy(text: str, file: str) -> DisputePolicy:
    """Parse and check; raise StrategyError listing every problem with its position."""
    root = compose(text, file)
    r = Reader(file, text)
    if root is None:
        raise StrategyError([Problem(Loc(file, 1, 1), "the file is empty")])
    top = r.mapping(root, "the dispute policy", ("sla_days",), ("owner", "deductions"))
    default: dict[str, int] = {}
    by_segment: dict[str, dict[str, int]] = {}
    owner = "disputes"
    deductions, deductions_by_segment = OFF, {}
    if top and "sla_days" in top:
        groups = r.mapping(top["sla_days"][1], "'sla_days'", ("default",), SEGMENTS)
        for name, (_key, node) in (groups or {}).items():
            days = _days(r, node, name, every=name == "default")
            if name == "default":
                default = days
            else:
                by_segment[name] = days
    if top and "owner" in top:
        owner = r.scalar(top["owner"][1], "owner") or owner
    if top and "deductions" in top:
        groups = r.mapping(top["deductions"][1], "'deductions'", ("default",), SEGMENTS)
        for name, (_key, node) in (groups or {}).items():
            setting = _deduction(r, node, name)
            if name == "default":
                deductions = setting
            else:
                deductions_by_segment[name] = setting
    if r.problems:
        raise StrategyError(r.problems)
    return DisputePolicy(default, by_segment, owner, deductions, deductions_by_segment)


def _days(r: Reader, node: yaml.Node, group: str, every: bool) -> dict[str, int]:
    entries = r.mapping(node, f"'sla_days {group}'", REASON_CODES if every else (), () if every else REASON_CODES)
    found: dict[str, int] = {}
    for reason, (_key, value) in (entries or {}).items():
        days = r.integer(value, f"sla_days {group} {reason}", 1, MAX_SLA_DAYS)
        if days is not None:
            found[reason] = days
    return found


def _deduction(r: Reader, node: yaml.Node, group: str) -> DeductionSetting:
    """`default` must say `open`, `min_amount` and `max_percent`; a segment overrides any of them."""
    required = DEDUCTION_KEYS[:3] if group == "default" else ()
    optional = DEDUCTION_KEYS[3:] if group == "default" else DEDUCTION_KEYS
    entries = r.mapping(node, f"'deductions {group}'", required, optional) or {}
    opens = r.boolean(entries["open"][1], f"deductions {group} open") if "open" in entries else None
    percent = None
    if "max_percent" in entries:
        percent = r.integer(entries["max_percent"][1], f"deductions {group} max_percent", 1, 100)
    owner = r.scalar(entries["owner"][1], f"deductions {group} owner") if "owner" in entries else None
    minimum: dict[str, int] = {}
    if "min_amount" in entries:
        where = f"deductions {group} min_amount"
        amounts = r.mapping(entries["min_amount"][1], f"'{where}'", (), tuple(CURRENCY_EXPONENTS)) or {}
        for code, (_k, value) in amounts.items():
            raw = r.scalar(value, f"{where} {code}")
            try:
                minimum[code] = to_minor(raw or "", code)
            except ValidationFailed as exc:
                r.fail(value, f"{where} {code}: {exc.message}")
                continue
            if minimum[code] < 0:
                r.fail(value, f"{where} {code} must not be negative")
    return DeductionSetting(opens, minimum, percent, owner or None)


def dispute_policy(directory: Path = DEFAULT_DIR) -> DisputePolicy:
    return cached(policy_path(directory, FILE), "disputes", read_dispute_policy)

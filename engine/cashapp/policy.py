"""The cash-application policy: a data file policy owners edit (`policy/cash-application.yaml`,
or the file `O2C_CASH_POLICY` names: `Settings.cash_policy`), never constants in the code. Read and
checked here; a missing file means the defaults below (no short-payment tolerance)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from engine.rules.yamlsrc import unreadable
from states.cash import Tolerance
from states.errors import ValidationFailed
from states.money import to_minor

DEFAULT_PATH = Path("policy/cash-application.yaml")
APPLY_CREDIT = ("manual", "oldest_due_first")


@dataclass(frozen=True)
class ToleranceRule:
    amounts: dict[str, int]  # currency -> minor units
    basis_points: int


@dataclass(frozen=True)
class CashPolicy:
    auto_apply_confidence: int = 90
    name_similarity: int = 90
    default_tolerance: ToleranceRule = ToleranceRule({}, 0)
    segment_tolerance: dict[str, ToleranceRule] = field(default_factory=dict)
    apply_credit: str = "manual"  # or "oldest_due_first": cash left on account pays open invoices at once

    def tolerance(self, segment: str, currency: str) -> Tolerance:
        rule = self.segment_tolerance.get(segment, self.default_tolerance)
        return Tolerance(rule.amounts.get(currency, 0), rule.basis_points)


def load_policy(path: Path | None = None) -> CashPolicy:
    chosen = path or DEFAULT_PATH
    if not chosen.is_file():
        return CashPolicy()
    text = chosen.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        refused = unreadable(exc, text)
        if refused is not None:
            raise ValidationFailed(f"{chosen}:{refused[0]}: {refused[2]}", "policy") from None
        raise ValidationFailed(f"{chosen}: not valid YAML ({exc})", "policy") from None
    return parse_policy(raw, str(chosen))


def parse_policy(raw: Any, name: str = "policy") -> CashPolicy:
    if not isinstance(raw, dict):
        raise ValidationFailed(f"{name}: a mapping is expected", "policy")
    unknown = set(raw) - {"auto_apply_confidence", "name_similarity", "short_payment_tolerance", "apply_credit"}
    if unknown:
        raise ValidationFailed(f"{name}: unknown setting(s) {', '.join(sorted(unknown))}", "policy")
    threshold = _percent(raw.get("auto_apply_confidence", 90), name, "auto_apply_confidence")
    similarity = _percent(raw.get("name_similarity", 90), name, "name_similarity")
    tol = raw.get("short_payment_tolerance") or {}
    if not isinstance(tol, dict):
        raise ValidationFailed(f"{name}: short_payment_tolerance must be a mapping", "policy")
    default = _tolerance(tol.get("default") or {}, name, "default")
    segments = {str(k): _tolerance(v or {}, name, f"segments.{k}") for k, v in (tol.get("segments") or {}).items()}
    apply_credit = str(raw.get("apply_credit", "manual"))
    if apply_credit not in APPLY_CREDIT:
        raise ValidationFailed(f"{name}: apply_credit must be one of {', '.join(APPLY_CREDIT)}", "policy")
    return CashPolicy(threshold, similarity, default, segments, apply_credit)


def _percent(value: Any, name: str, key: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
        raise ValidationFailed(f"{name}: {key} must be a whole percent 0..100", "policy")
    return value


def _tolerance(raw: Any, name: str, where: str) -> ToleranceRule:
    if not isinstance(raw, dict):
        raise ValidationFailed(f"{name}: short_payment_tolerance.{where} must be a mapping", "policy")
    amounts = {str(c).upper(): to_minor(str(v), str(c)) for c, v in (raw.get("amount") or {}).items()}
    try:
        scaled = Decimal(str(raw.get("percent", "0"))) * 100
        bp = int(scaled) if scaled == scaled.to_integral_value() else -1
    except InvalidOperation:
        bp = -1
    if not 0 <= bp <= 10_000:
        raise ValidationFailed(f"{name}: short_payment_tolerance.{where}.percent must be 0..100", "policy")
    return ToleranceRule(amounts, bp)

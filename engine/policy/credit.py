"""The credit policy: how long a person's release of an automatic hold holds, and who may write
off how much alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.policy.files import DEFAULT_DIR, cached, policy_path
from engine.rules.errors import Loc, Problem, StrategyError
from engine.rules.yamlread import Reader
from engine.rules.yamlsrc import compose
from states.errors import ValidationFailed
from states.money import CURRENCY_EXPONENTS, to_minor

FILE = "credit.yaml"
ROLES = ("viewer", "collector", "policy", "integrator", "admin")


@dataclass(frozen=True)
class CreditPolicy:
    hold_release_exception_days: int
    max_exception_days: int
    write_off_limit: dict[str, dict[str, int]] = field(default_factory=dict)  # role → currency → minor

    def may_write_off(self, role: str, amount: int, currency: str) -> bool:
        limit = self.write_off_limit.get(role, {}).get(currency)
        return limit is not None and amount <= limit


def read_credit_policy(text: str, file: str) -> CreditPolicy:
    root = compose(text, file)
    if root is None:
        raise StrategyError([Problem(Loc(file, 1, 1), "the file is empty")])
    r = Reader(file, text)
    keys = ("hold_release_exception_days", "max_exception_days", "write_off_limit")
    top = r.mapping(root, "the credit policy", keys) or {}
    days = r.integer(top["hold_release_exception_days"][1], "hold_release_exception_days", 1, 365) if top else None
    most = r.integer(top["max_exception_days"][1], "max_exception_days", 1, 3650) if top else None
    limits: dict[str, dict[str, int]] = {}
    roles = r.mapping(top["write_off_limit"][1], "'write_off_limit'", (), ROLES) if "write_off_limit" in top else {}
    for role, (_key, node) in (roles or {}).items():
        per = r.mapping(node, f"'write_off_limit {role}'", (), tuple(CURRENCY_EXPONENTS)) or {}
        limits[role] = {}
        for code, (_k, value) in per.items():
            raw = r.scalar(value, f"write_off_limit {role} {code}")
            try:
                limits[role][code] = to_minor(raw or "", code)
            except ValidationFailed as exc:
                r.fail(value, f"write_off_limit {role} {code}: {exc.message}")
    if r.problems or days is None or most is None:
        raise StrategyError(r.problems or [Problem(Loc(file, 1, 1), "incomplete credit policy")])
    if days > most:
        raise StrategyError([Problem(r.at(top["hold_release_exception_days"][1]), "longer than max_exception_days")])
    return CreditPolicy(days, most, limits)


def credit_policy(directory: Path = DEFAULT_DIR) -> CreditPolicy:
    return cached(policy_path(directory, FILE), "credit", read_credit_policy)

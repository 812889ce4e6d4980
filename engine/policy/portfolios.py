"""The portfolio policy: which collector a customer belongs to, by segment, risk, tags, size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from engine.policy.files import DEFAULT_DIR, cached, policy_path
from engine.rules.errors import Loc, Problem, StrategyError
from engine.rules.facts import RISKS, SEGMENTS
from engine.rules.yamlread import Reader
from engine.rules.yamlsrc import compose

FILE = "portfolios.yaml"
EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"


@dataclass(frozen=True)
class PortfolioRule:
    collector: str  # email
    segments: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    min_credit_limit: Decimal | None = None  # major units of the customer's currency

    def matches(self, segment: str, risk: str, tags: Sequence[str], credit_limit_major: Decimal) -> bool:
        return (
            (not self.segments or segment in self.segments)
            and (not self.risks or risk in self.risks)
            and (not self.tags or any(t in self.tags for t in tags))
            and (self.min_credit_limit is None or credit_limit_major >= self.min_credit_limit)
        )


@dataclass(frozen=True)
class PortfolioPolicy:
    rules: tuple[PortfolioRule, ...]

    def collector_for(self, segment: str, risk: str, tags: Sequence[str], credit_limit_major: Decimal) -> str | None:
        for rule in self.rules:
            if rule.matches(segment, risk, tags, credit_limit_major):
                return rule.collector
        return None


def read_portfolio_policy(text: str, file: str) -> PortfolioPolicy:
    root = compose(text, file)
    if root is None:
        raise StrategyError([Problem(Loc(file, 1, 1), "the file is empty")])
    r = Reader(file, text)
    top = r.mapping(root, "the portfolio policy", ("rules",))
    rules: list[PortfolioRule] = []
    for node in (r.seq(top["rules"][1], "rules") or []) if top and "rules" in top else []:
        entries = r.mapping(node, "a portfolio rule", ("collector",), ("when",))
        if not entries or "collector" not in entries:
            continue
        email = r.name(entries["collector"][1], "collector", EMAIL)
        keys = ("segment", "risk", "tags", "min_credit_limit")
        cond = (r.mapping(entries["when"][1], "'when'", (), keys) or {}) if "when" in entries else {}
        segments = r.choices(cond["segment"][1], "segment", SEGMENTS) if "segment" in cond else ()
        risks = r.choices(cond["risk"][1], "risk class", RISKS) if "risk" in cond else ()
        tags = tuple(
            t for t in (r.scalar(n, "a tag") for n in (r.seq(cond["tags"][1], "tags") or [])) if t
        ) if "tags" in cond else ()  # fmt: skip
        minimum = None
        if "min_credit_limit" in cond:
            raw = r.scalar(cond["min_credit_limit"][1], "min_credit_limit")
            try:
                minimum = Decimal(raw) if raw is not None else None
            except InvalidOperation:
                r.fail(cond["min_credit_limit"][1], "min_credit_limit is a number such as 50000.00")
        if email:
            rules.append(PortfolioRule(email.lower(), segments, risks, tags, minimum))
    if r.problems:
        raise StrategyError(r.problems)
    return PortfolioPolicy(tuple(rules))


def portfolio_policy(directory: Path = DEFAULT_DIR) -> PortfolioPolicy:
    return cached(policy_path(directory, FILE), "portfolios", read_portfolio_policy)

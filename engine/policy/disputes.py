"""The dispute policy: SLA days per reason code × segment, and the owner of a new dispute."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from engine.policy.files import DEFAULT_DIR, cached, policy_path
from engine.rules.errors import Loc, Problem, StrategyError
from engine.rules.facts import SEGMENTS
from engine.rules.yamlread import Reader
from engine.rules.yamlsrc import compose
from states.dispute import REASON_CODES

FILE = "disputes.yaml"
MAX_SLA_DAYS = 365


@dataclass(frozen=True)
class DisputePolicy:
    default: dict[str, int]
    by_segment: dict[str, dict[str, int]] = field(default_factory=dict)
    owner: str = "disputes"

    def sla_days(self, reason_code: str, segment: str) -> int:
        return self.by_segment.get(segment, {}).get(reason_code, self.default[reason_code])


def read_dispute_policy(text: str, file: str) -> DisputePolicy:
    """Parse and check; raise StrategyError listing every problem with its position."""
    root = compose(text, file)
    r = Reader(file, text)
    if root is None:
        raise StrategyError([Problem(Loc(file, 1, 1), "the file is empty")])
    top = r.mapping(root, "the dispute policy", ("sla_days",), ("owner",))
    default: dict[str, int] = {}
    by_segment: dict[str, dict[str, int]] = {}
    owner = "disputes"
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
    if r.problems:
        raise StrategyError(r.problems)
    return DisputePolicy(default, by_segment, owner)


def _days(r: Reader, node: yaml.Node, group: str, every: bool) -> dict[str, int]:
    entries = r.mapping(node, f"'sla_days {group}'", REASON_CODES if every else (), () if every else REASON_CODES)
    found: dict[str, int] = {}
    for reason, (_key, value) in (entries or {}).items():
        days = r.integer(value, f"sla_days {group} {reason}", 1, MAX_SLA_DAYS)
        if days is not None:
            found[reason] = days
    return found


def dispute_policy(directory: Path = DEFAULT_DIR) -> DisputePolicy:
    return cached(policy_path(directory, FILE), "disputes", read_dispute_policy)

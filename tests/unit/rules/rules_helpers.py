"""Small strategy files for the tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

from engine.rules.compiler import CompiledStrategy, compile_strategy
from engine.rules.errors import StrategyError
from engine.rules.loader import load_text
from engine.rules.validate import strategy_problems

HEAD = """\
strategy: {name}
version: {version}
applies_to: {{segment: [{segments}], risk: [{risks}]}}
settings:
  grace_days: 3
  min_amount: {{EUR: 50.00, USD: 50.00}}
  max_dunning_level: 3
  contact_cap: {{max: 2, per_days: 7}}
rules:
"""


def strategy_text(
    rules: str,
    name: str = "sample",
    version: int = 1,
    segments: str = "enterprise, mid_market, smb, public_sector",
    risks: str = "low, medium, high, critical",
    tests: str = "",
) -> str:
    head = HEAD.format(name=name, version=version, segments=segments, risks=risks)
    body = textwrap.indent(textwrap.dedent(rules).strip("\n"), "  ") + "\n"
    return (
        head + body + (("tests:\n" + textwrap.indent(textwrap.dedent(tests).strip("\n"), "  ") + "\n") if tests else "")
    )


def compiled(rules: str, **kwargs: str) -> CompiledStrategy:
    return compile_strategy(load_text(strategy_text(rules, **kwargs), "s.yaml"))


def problems(rules: str, **kwargs: str) -> list[str]:
    """Every message `check` would print for one file (load errors, then whole-strategy checks)."""
    try:
        c = compiled(rules, **kwargs)
    except StrategyError as exc:
        return [str(p) for p in exc.problems]
    return [str(p) for p in strategy_problems(c)]


def write(directory: Path, filename: str, text: str) -> Path:
    path = directory / filename
    path.write_text(text, encoding="utf-8")
    return path


# A line number helper: rules start on line 10 of `strategy_text` (after the 9 head lines).
FIRST_RULE_LINE = 10

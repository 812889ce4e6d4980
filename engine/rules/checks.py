"""`o2c strategies check [DIR]` and `o2c strategies test [DIR]` (wired in api/cli.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from engine.rules.directory import Loaded, load_directory
from engine.rules.durable_eval import engine
from engine.rules.embedded_tests import run_tests, test_problems
from engine.rules.errors import Problem

# Whether a template exists for (name, channel) in the default language (`engine/notices/templates.py`).
HasTemplate = Callable[[str, str], bool]


def missing_templates(loaded: Loaded, has_template: HasTemplate) -> list[Problem]:
    """Every `remind`/`dun` action naming a template that does not exist for its channel."""
    found = []
    for c in loaded.strategies:
        for rule in c.strategy.rules:
            for action, loc in zip(rule.actions, rule.action_locs, strict=True):
                name, channel = action.param("template"), action.param("channel") or "email"
                if action.spec.notice and name and not has_template(name, channel):
                    found.append(Problem(loc, f"template '{name}' does not exist for channel {channel}"))
    return found


def check(directory: Path, out: TextIO, has_template: HasTemplate | None = None) -> int:
    """Validate every file; print every problem as FILE:LINE:COL: message. 0 = valid, 1 = not.
    With `has_template`, a strategy naming a template missing for its channel is refused too."""
    loaded = load_directory(directory)
    problems = list(loaded.problems)
    if loaded.ok and has_template is not None:
        problems += missing_templates(loaded, has_template)
    for problem in problems:
        print(problem, file=out)
    if problems:
        print(f"{len(problems)} problem(s); nothing was loaded", file=out)
        return 1
    for c in loaded.strategies:
        pairs = ", ".join(f"{s}×{r}" for s, r in c.strategy.pairs)
        print(f"ok {c.name} v{c.version} {c.content_hash[:12]} ({len(c.rules)} rules; {pairs})", file=out)
    return 0


def test(directory: Path, out: TextIO) -> int:
    """Run every embedded test through both evaluators; print per-rule coverage.

    Returns 1 when a file is invalid, a test fails, the evaluators disagree or a rule is hit by
    no test; else 0.
    """
    loaded = load_directory(directory)
    if not loaded.ok:
        for problem in loaded.problems:
            print(problem, file=out)
        return 1
    failures: list[Problem] = []
    total = 0
    for compiled in loaded.strategies:
        outcomes, coverage = run_tests(compiled, engine())
        total += len(outcomes)
        failures += test_problems(compiled, outcomes, coverage)
        passed = sum(o.problem is None for o in outcomes)
        print(f"{compiled.name} v{compiled.version}: {passed}/{len(outcomes)} tests passed", file=out)
        for rule in compiled.rules:
            hits = coverage[rule.id]
            print(f"  {'covered  ' if hits else 'UNCOVERED'} {rule.id}: hit by {hits} test(s)", file=out)
    for problem in sorted(failures):
        print(problem, file=out)
    print(f"{total} tests, {len(failures)} failure(s)", file=out)
    return 1 if failures else 0

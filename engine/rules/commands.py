"""`o2c strategies check [DIR]` and `o2c strategies test [DIR]` (wired in api/cli.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from engine.rules.directory import load_directory
from engine.rules.durable_eval import engine
from engine.rules.embedded_tests import run_tests, test_problems
from engine.rules.errors import Problem


def check(directory: Path, out: TextIO) -> int:
    """Validate every file; print every problem as FILE:LINE:COL: message. 0 = valid, 1 = not."""
    loaded = load_directory(directory)
    for problem in loaded.problems:
        print(problem, file=out)
    if not loaded.ok:
        print(f"{len(loaded.problems)} problem(s); nothing was loaded", file=out)
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

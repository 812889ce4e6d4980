"""Validate one strategy file's text without installing it.

The text is parsed, type-checked and compiled exactly as on reload. If a set is in force, the text
is then judged in its place: it replaces the running file of the same file name (or, failing
that, the strategy of the same name), and names and routing are checked over that whole set — so
"valid" means "a reload with this file would succeed". Nothing is registered with durable-rules
and nothing is written to disk.
"""

from __future__ import annotations

from pathlib import PurePath

from engine.rules.compiler import CompiledStrategy, compile_strategy
from engine.rules.durable_eval import engine
from engine.rules.embedded_tests import run_tests, test_problems
from engine.rules.errors import EvaluationError, Problem, StrategyError
from engine.rules.loader import load_text
from engine.rules.registry import Registry, StrategySet
from engine.rules.validate import duplicate_names, routing_problems, strategy_problems

MAX_SOURCE_CHARS = 256 * 1024
DEFAULT_NAME = "source.yaml"


def _replaced(running: StrategySet, file: str | None, candidate: CompiledStrategy) -> list[CompiledStrategy]:
    """The running strategies the text takes the place of: the file of the same name; failing
    that (a new file name — a renamed or copied file), the strategy of the same name, so that a
    file is never judged to overlap itself."""
    if file is not None:
        same_file = [c for c in running.strategies if PurePath(c.strategy.file).name == PurePath(file).name]
        if same_file:
            return same_file
    return [c for c in running.strategies if c.name == candidate.name]


def validate_source(source: str, file: str | None = None, running: StrategySet | None = None) -> list[Problem]:
    """Every problem of `source` (named `file` in messages); empty when a reload would accept it."""
    display = file or DEFAULT_NAME
    try:
        candidate = compile_strategy(load_text(source, display))
    except StrategyError as exc:
        return list(exc.problems)
    problems = strategy_problems(candidate)
    # Its embedded tests, as `o2c strategies test` runs them: failures and untested rules.
    outcomes, coverage = run_tests(candidate, engine())
    problems += test_problems(candidate, outcomes, coverage)
    if running is not None:
        replaced = _replaced(running, file, candidate)
        others = [c for c in running.strategies if c not in replaced]
        whole = [*others, candidate]
        problems += duplicate_names(whole)
        problems += routing_problems(whole, running.directory)
    return sorted(set(problems))


def running_set(registry: Registry | None) -> StrategySet | None:
    """The set in force, if any (validation then judges the text in its place)."""
    if registry is None:
        return None
    try:
        return registry.current
    except EvaluationError:  # nothing loaded yet
        return None

"""Loading every strategy file of a directory: all valid, or every problem of every file."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from engine.rules.compiler import CompiledStrategy, compile_strategy
from engine.rules.errors import Loc, Problem, StrategyError
from engine.rules.loader import load_file, load_text
from engine.rules.strategy import Strategy
from engine.rules.validate import duplicate_names, routing_problems, strategy_problems

PATTERNS = ("*.yaml", "*.yml")


@dataclass(frozen=True)
class Loaded:
    strategies: tuple[CompiledStrategy, ...]
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def strategy_files(directory: Path) -> list[Path]:
    return sorted({p for pattern in PATTERNS for p in directory.glob(pattern) if p.is_file()})


def load_directory(directory: Path) -> Loaded:
    where = str(directory)
    if not directory.is_dir():
        return Loaded((), (Problem(Loc(where, 1, 1), "not a directory of strategy files"),))
    files = strategy_files(directory)
    if not files:
        return Loaded((), (Problem(Loc(where, 1, 1), "no strategy files (*.yaml) in this directory"),))
    return _judged([partial(load_file, path) for path in files], where)


def load_sources(sources: Sequence[tuple[str, str]], where: str) -> Loaded:
    """A whole set from texts (file name, YAML text), judged exactly as a directory of those files."""
    if not sources:
        return Loaded((), (Problem(Loc(where, 1, 1), "no strategy files"),))
    return _judged([partial(load_text, text, name) for name, text in sources], where)


def _judged(readers: Sequence[Callable[[], Strategy]], where: str) -> Loaded:
    compiled: list[CompiledStrategy] = []
    problems: list[Problem] = []
    for read in readers:
        try:
            c = compile_strategy(read())
        except StrategyError as exc:
            problems += exc.problems
            continue
        problems += strategy_problems(c)
        compiled.append(c)
    problems += duplicate_names(compiled)
    if len(compiled) == len(readers):  # routing is judged only over a complete set
        problems += routing_problems(compiled, where)
    return Loaded(tuple(compiled), tuple(sorted(problems)))

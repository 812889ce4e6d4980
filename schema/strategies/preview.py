"""`previewStrategies(files, asOf)`: the what-if diff of candidate files against the set in force.

The candidate is the set in force with the given files in place of those of the same file name
(a new name adds a file). It is judged exactly as a reload would judge it; invalid, it is refused
with every problem at FILE:LINE:COL and nothing is compared."""

from __future__ import annotations

from datetime import date
from pathlib import PurePath

from engine.lab.diff import StrategyDiff, candidate_set, diff_strategies
from engine.rules.directory import load_sources
from engine.rules.registry import StrategySet
from engine.rules.sources import source_of
from engine.store.database import Store
from states.errors import ValidationFailed

MAX_FILES = 64


def candidate_sources(in_force: StrategySet, files: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The set in force as (file name, text), with `files` in place of those of the same name."""
    given = {PurePath(name).name: text for name, text in files}
    if len(given) != len(files):
        raise ValidationFailed("two candidate files have the same name", "files")
    sources: list[tuple[str, str]] = []
    for compiled in in_force.strategies:
        name = PurePath(compiled.strategy.file).name
        if name in given:
            continue
        text = source_of(compiled)
        if text is None:
            raise ValidationFailed(f"{name} changed on disk since it was loaded: reload the strategies first", "files")
        sources.append((name, text))
    return sources + sorted(given.items())


def preview(store: Store, in_force: StrategySet, files: list[tuple[str, str]], as_of: date) -> StrategyDiff:
    """Blocking: compile the candidate (StrategyError when invalid), then diff it on one load."""
    loaded = load_sources(candidate_sources(in_force, files), in_force.directory)
    return diff_strategies(store, in_force, candidate_set(loaded, "candidate"), as_of)

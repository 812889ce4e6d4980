"""The set of strategies in force, replaced atomically on reload.

`Registry.reload()` loads and validates every file first; only if all are valid (and their
durable-rules rulesets are registered) does the new set replace the old, by one reference swap.
Otherwise the running set stays in force and the problems are returned. Readers take the
reference once (`registry.current`) and use that set for a whole evaluation.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.rules.compiler import CompiledStrategy
from engine.rules.decision import Decision
from engine.rules.directory import load_directory, strategy_files
from engine.rules.durable_eval import DurableEvaluator, engine
from engine.rules.errors import EvaluationError, Loc, Problem


@dataclass(frozen=True)
class StrategySet:
    strategies: tuple[CompiledStrategy, ...]
    directory: str
    loaded_at: datetime
    routes: Mapping[tuple[str, str], CompiledStrategy] = field(init=False)

    def __post_init__(self) -> None:
        routes = {pair: c for c in self.strategies for pair in c.strategy.pairs}
        object.__setattr__(self, "routes", routes)

    def route(self, segment: str, risk: str) -> CompiledStrategy:
        """The one strategy for a segment × risk class pair (validation guarantees exactly one)."""
        try:
            return self.routes[(segment, risk)]
        except KeyError:
            raise EvaluationError(f"no strategy applies to {segment} × {risk}") from None

    def summary(self) -> list[dict[str, Any]]:
        """Names, versions and hashes of the set in force (for the API and the CLI)."""
        return [
            {
                "name": c.name,
                "version": c.version,
                "content_hash": c.content_hash,
                "file": c.strategy.file,
                "segments": list(c.strategy.segments),
                "risks": list(c.strategy.risks),
                "loaded_at": self.loaded_at.isoformat(),
            }
            for c in self.strategies
        ]


@dataclass(frozen=True)
class ReloadResult:
    ok: bool
    problems: tuple[Problem, ...]
    in_force: StrategySet | None  # after the reload: the new set, or the one that stayed

    @property
    def messages(self) -> list[str]:
        return [str(p) for p in self.problems]


class Registry:
    def __init__(self, directory: Path, durable: DurableEvaluator | None = None) -> None:
        self.directory = directory
        self._durable = durable or engine()
        self._current: StrategySet | None = None
        self._reloading = threading.Lock()

    @property
    def current(self) -> StrategySet:
        found = self._current
        if found is None:
            raise EvaluationError("no strategies are loaded yet")
        return found

    def reload(self, directory: Path | None = None) -> ReloadResult:
        """Load `directory` (default: the registry's); swap it in only if everything is valid."""
        with self._reloading:
            where = directory or self.directory
            loaded = load_directory(where)
            if not loaded.ok:
                return ReloadResult(False, loaded.problems, self._current)
            try:
                for compiled in loaded.strategies:
                    self._durable.register(compiled)
            except Exception as exc:  # a ruleset durable-rules refuses: keep the old set
                problem = Problem(Loc(str(where), 1, 1), f"durable-rules refused a ruleset: {exc}")
                return ReloadResult(False, (problem,), self._current)
            fresh = StrategySet(loaded.strategies, str(where), datetime.now(UTC))
            self._current = fresh  # the one atomic step
            self.directory = where
            return ReloadResult(True, (), fresh)

    def route(self, segment: str, risk: str) -> CompiledStrategy:
        return self.current.route(segment, risk)

    def decide(self, facts: Mapping[str, Any], scope: str = "invoice") -> list[Decision]:
        """Route by the facts' segment and risk, then decide with durable-rules (one invoice/customer)."""
        compiled = self.current.route(str(facts["segment"]), str(facts["risk"]))
        return self._durable.evaluate(compiled, facts, scope)


class PollingWatcher:
    """Reloads the registry when a strategy file changes (checked every `interval` seconds)."""

    def __init__(
        self,
        registry: Registry,
        interval: float = 2.0,
        on_result: Callable[[ReloadResult], None] | None = None,
    ) -> None:
        self.registry = registry
        self.interval = interval
        self.on_result = on_result
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen = self.fingerprint()

    def fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        found = []
        for path in strategy_files(self.registry.directory):
            try:
                stat = path.stat()
            except OSError:
                continue
            found.append((path.name, stat.st_mtime_ns, stat.st_size))
        return tuple(found)

    def poll(self) -> ReloadResult | None:
        """One check: reload if the files changed since the last check."""
        now = self.fingerprint()
        if now == self._seen:
            return None
        self._seen = now
        result = self.registry.reload()
        if self.on_result:
            self.on_result(result)
        return result

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="strategy-watcher", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()

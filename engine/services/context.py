"""What every command needs: the store, the clock, the settings; and the strategies in force for
the commands that carry out policy (a person's dunning step takes the step the strategy's ladder says)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from engine.clock import Clock
from engine.config import Settings
from engine.store.database import Store

if TYPE_CHECKING:
    from engine.rules.registry import Registry, StrategySet


@dataclass
class Context:
    store: Store
    clock: Clock
    settings: Settings
    registry: Registry | None = None  # the process's (`engine.bootstrap.wire`); else loaded once, below

    def strategies(self) -> StrategySet:
        """The strategies in force: the wired registry's, or those of `settings.strategies_dir`
        (a process that wired none, such as `o2c demo`, loads them once, failing closed)."""
        if self.registry is None:
            from engine.strategies_in_force import load_registry  # only commands that carry out policy

            self.registry = load_registry(self.settings.strategies_dir)
        return self.registry.current

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        return self.clock.today()

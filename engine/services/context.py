"""What every command needs: the store, the clock, the settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from engine.clock import Clock
from engine.config import Settings
from engine.store.database import Store


@dataclass
class Context:
    store: Store
    clock: Clock
    settings: Settings

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        return self.clock.today()

"""Wires settings → store → clock → service. The only place that composes the layers."""

from __future__ import annotations

from datetime import date

from engine.clock import Clock, PinnedDayClock
from engine.config import Settings, load_settings
from engine.cycle.reevaluate import Reevaluator
from engine.rules.registry import Registry
from engine.service import Collections
from engine.services.context import Context
from engine.store.database import Store
from engine.store.upgrades import upgrade


def build_context(settings: Settings | None = None, *, migrate: bool = True, clock: Clock | None = None) -> Context:
    settings = settings or load_settings()
    store = Store(settings.database_url)
    if migrate:
        upgrade(store)
    if clock is None:
        clock = (
            PinnedDayClock(date.fromisoformat(settings.today), settings.zone)
            if settings.today
            else Clock(settings.zone)
        )
    return Context(store=store, clock=clock, settings=settings)


def build_service(
    settings: Settings | None = None, *, clock: Clock | None = None, registry: Registry | None = None
) -> Collections:
    """The service; with a strategy registry, changes between cycles are re-evaluated at once."""
    ctx = build_context(settings, clock=clock)
    return Collections(ctx, Reevaluator(ctx, registry) if registry is not None else None)

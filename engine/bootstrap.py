"""Wires settings → store → clock → service. The only place that composes the layers: the
handler registry and the after-commit work (re-evaluating touched invoices with the strategies in
force) are joined here, once per process, for `o2c serve`, `o2c worker` and `o2c cycle` alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from engine.clock import Clock, PinnedDayClock
from engine.config import Settings, load_settings
from engine.cycle.reevaluate import Reevaluator
from engine.handlers import HANDLERS
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


def wire(ctx: Context, registry: Registry | None = None) -> Collections:
    """The service over `ctx`; with a strategy registry, the invoices a command touched are
    re-evaluated once it has committed (dunning resumes between cycles), and the commands that carry
    out policy (a person's dunning step) read the strategies from it."""
    if registry is not None and ctx.registry is not registry:
        ctx = replace(ctx, registry=registry)
    return Collections(ctx, Reevaluator(ctx, registry) if registry is not None else None, HANDLERS)


def build_service(
    settings: Settings | None = None, *, clock: Clock | None = None, registry: Registry | None = None
) -> Collections:
    """The service; with a strategy registry, changes between cycles are re-evaluated at once."""
    return wire(build_context(settings, clock=clock), registry)

"""Every relation is resolved through a DataLoader built per request (no cache leaks between
callers); each batch is one statement, run on a worker thread.

A list resolver that already knows its page may prime these loaders (same statements, one thread
hop); a relation resolver then answers from the primed value at once (`now_or_later`) instead of
awaiting, which spares graphql-core a task per field per row."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

from starlette.concurrency import run_in_threadpool
from strawberry.dataloader import DataLoader

from engine.predict.service import InvoicePrediction, explain
from engine.queries import batches, cashapp, history, notices
from engine.services.contacts import contacts_by_customer_ids
from engine.services.context import Context as EngineContext
from engine.store.database import Store
from engine.views import (
    CustomerView,
    DisputeView,
    HoldView,
    InvoiceView,
    PromiseView,
    TransitionView,
)

K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R")


def now_or_later(loader: DataLoader[K, V], key: K, convert: Callable[[V], R]) -> R:
    """`convert(value)` at once when `loader` already holds `key`'s value (primed or loaded);
    otherwise an awaitable of it, which graphql-core awaits like an async resolver's result
    (hence the cast: a sync resolver may hand back either)."""
    future = loader.cache_map.get(key)
    if future is not None and future.done() and not future.cancelled() and future.exception() is None:
        return convert(future.result())

    async def later() -> R:
        return convert(await loader.load(key))

    return cast(R, later())


def _one(store: Store, fetch: Callable[[Store, Sequence[int]], Mapping[int, V]]) -> DataLoader[int, V | None]:
    async def load(keys: list[int]) -> list[V | None]:
        found = await run_in_threadpool(fetch, store, keys)
        return [found.get(k) for k in keys]

    return DataLoader(load_fn=load)


def _many(store: Store, fetch: Callable[[Store, Sequence[int]], Mapping[int, list[V]]]) -> DataLoader[int, list[V]]:
    async def load(keys: list[int]) -> list[list[V]]:
        found = await run_in_threadpool(fetch, store, keys)
        return [list(found.get(k, [])) for k in keys]

    return DataLoader(load_fn=load)


class Loaders:
    """The typed registry of this request's loaders."""

    def __init__(self, engine: EngineContext) -> None:
        store = engine.store
        self._store = store
        self.customer = _one(store, batches.customers_by_ids)
        self.invoice = _one(store, batches.invoices_by_ids)
        self.dispute = _one(store, batches.disputes_by_ids)
        self.disputes_of_invoice = _many(store, batches.disputes_by_invoice_ids)
        self.disputes_of_customer = _many(store, batches.disputes_by_customer_ids)
        self.promises_of_invoice = _many(store, batches.promises_by_invoice_ids)
        self.promises_of_customer = _many(store, batches.promises_by_customer_ids)
        self.holds_of_customer = _many(store, batches.holds_by_customer_ids)
        self.exposure = _one(store, batches.exposure_by_customer_ids)
        self.payment_prediction: DataLoader[int, InvoicePrediction | None] = _one(
            store, lambda s, ids: explain(s, list(ids), engine.today())
        )
        self.payment = _one(store, cashapp.payments_by_ids)
        self.payments_of_invoice = _many(store, cashapp.payments_by_invoice_ids)
        self.unapplied_of_customer = _many(store, cashapp.unapplied_by_customer_ids)
        self.aliases_of_customer = _many(store, cashapp.aliases_by_customer_ids)
        self.credit_notes_of_invoice = _many(store, cashapp.credit_notes_by_invoice_ids)
        self.notice = _one(store, notices.notices_by_ids)
        self.notices_of_invoice = _many(store, notices.notices_by_invoice_ids)
        self.contacts_of_customer = _many(store, contacts_by_customer_ids)
        self._keyed: dict[tuple[Any, ...], DataLoader[Any, Any]] = {}

    def history(self, entity_type: str, last: int) -> DataLoader[int, list[TransitionView]]:
        """The last `last` transitions per entity; one loader per (kind, last) in this request."""
        key = ("history", entity_type, last)
        if key not in self._keyed:

            def fetch(store: Store, ids: Sequence[int]) -> Mapping[int, list[TransitionView]]:
                return history.recent_history(store, entity_type, ids, last)

            self._keyed[key] = _many(self._store, fetch)
        return self._keyed[key]

    def invoices_of_customer(self, limit: int, states: tuple[str, ...]) -> DataLoader[int, list[InvoiceView]]:
        key = ("invoices", limit, states)
        if key not in self._keyed:

            def fetch(store: Store, ids: Sequence[int]) -> Mapping[int, list[InvoiceView]]:
                return batches.invoices_by_customer_ids(store, ids, limit, states)

            self._keyed[key] = _many(self._store, fetch)
        return self._keyed[key]


__all__ = ["CustomerView", "DisputeView", "HoldView", "InvoiceView", "Loaders", "PromiseView"]

"""No N+1: the statements a page costs do not grow with the page size."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from graphql_harness import data, run, seed_portfolio

from engine import commands as c
from engine.service import Collections
from engine.store.database import Store
from states.actors import person

PAGE = """query($first: Int!) { invoices(first: $first) { totalCount edges { node {
  number customer { name segment } disputes { state reasonCode } history(last: 5) { trigger toState }
} } } }"""


@contextmanager
def counting_statements(store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Wrap the DB-API execution of this store's provider; every SQL statement is recorded."""
    seen: list[str] = []
    lock = threading.Lock()
    provider = store.db.provider
    original = provider.execute

    def execute(cursor: Any, sql: str, arguments: Any = None, returning_id: bool = False) -> Any:
        with lock:
            seen.append(sql)
        return original(cursor, sql, arguments, returning_id)

    monkeypatch.setattr(provider, "execute", execute)
    yield seen
    monkeypatch.undo()


def _statements_for(service: Collections, first: int, monkeypatch: pytest.MonkeyPatch) -> int:
    with counting_statements(service.ctx.store, monkeypatch) as seen:
        edges = data(run(service.ctx, PAGE, {"first": first}))["invoices"]["edges"]
    assert len(edges) == first
    assert all(e["node"]["history"] for e in edges)
    return len(seen)


def test_a_page_of_invoices_costs_the_same_statements_for_5_or_50_rows(
    service: Collections, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = seed_portfolio(service, customers=10, invoices_each=6)
    for invoice_id in ids[::7]:
        service.open_dispute(c.OpenDispute(invoice_id, "quality"), person("ann"))
    small = _statements_for(service, 5, monkeypatch)
    large = _statements_for(service, 50, monkeypatch)
    assert small == large
    assert large <= 6  # page, count, customers, disputes, history (one each)

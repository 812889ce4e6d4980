"""No N+1: the statements a page costs do not grow with the page size."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import strawberry.schema.schema as strawberry_schema
from graphql_harness import data, run, seed_portfolio

from api.app import ValidDocuments
from engine import commands as c
from engine.queries import batches, history
from engine.service import Collections
from engine.store.database import Store
from engine.store.unit_of_work import read_only
from engine.views import CustomerView, DisputeView, InvoiceView, TransitionView
from schema import context as context_module
from schema import loaders as loaders_module
from schema.build import MAX_DEPTH, build_schema
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


def test_the_raw_batch_reads_give_the_same_views_as_the_stored_entities(service: Collections) -> None:
    actor = person("ann")
    cust = service.create_customer(
        c.CreateCustomer("T1", "Tagged", "smb", "EUR", 50_000, tags=("vip", "north"), email="ap@example.com")
    )
    ids = seed_portfolio(service, customers=2, invoices_each=3)
    due = service.ctx.today()
    paid = service.issue_invoice(c.IssueInvoice(cust.id, "P-1", 12_345, "EUR", due, due), actor)
    service.apply_payment(
        c.RecordPayment(cust.id, "PAY-1", 12_345, "EUR", due, (c.AllocationLine(12_345, paid.id),)), actor
    )
    resolved = service.open_dispute(c.OpenDispute(ids[0], "pricing", description="wrong price"), actor)
    service.resolve_dispute(c.ResolveDispute(resolved.id, "partial", credit_amount=500, note="half"), actor)
    service.open_dispute(c.OpenDispute(ids[1], "quality"), actor)
    invoice_ids = [*ids, paid.id]
    store = service.ctx.store
    with read_only(store) as uow:
        customers = {e.id: CustomerView.of(e) for e in uow.Customer.select()}
        invoices = {e.id: InvoiceView.of(e) for e in uow.Invoice.select()}
        disputes = {e.id: DisputeView.of(e) for e in uow.Dispute.select()}
        transitions = [TransitionView.of(e) for e in uow.TransitionRecord.select(lambda t: t.entity_type == "invoice")]

    assert batches.customers_by_ids(store, list(customers)) == customers
    assert batches.invoices_by_ids(store, invoice_ids) == invoices
    assert batches.disputes_by_ids(store, list(disputes)) == disputes
    by_invoice = batches.disputes_by_invoice_ids(store, invoice_ids)
    assert sorted((v for found in by_invoice.values() for v in found), key=lambda v: v.id) == sorted(
        disputes.values(), key=lambda v: v.id
    )
    assert any(v.resolved_at is not None and v.credit_amount == 500 for v in disputes.values())
    assert invoices[paid.id].paid_on is not None and customers[cust.id].tags == ("vip", "north")
    recent = history.recent_history(store, "invoice", invoice_ids, 100)
    assert sorted((v for found in recent.values() for v in found), key=lambda v: v.id) == sorted(
        transitions, key=lambda v: v.id
    )
    assert any(t.facts for t in transitions)


def test_a_repeated_query_text_is_validated_once_while_an_invalid_one_is_refused_every_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    documents = ValidDocuments(size=2)
    schema = build_schema(extra_extensions=(documents.extension,))
    validated: list[str] = []
    original = strawberry_schema.validate_document

    def counting(schema_: Any, document: Any, rules: Any) -> Any:
        validated.append(type(document).__name__)
        return original(schema_, document, rules)

    monkeypatch.setattr(strawberry_schema, "validate_document", counting)
    for _ in range(3):
        assert schema.execute_sync("{ __typename }").data == {"__typename": "Query"}
    assert len(validated) == 1
    for _ in range(2):
        result = schema.execute_sync("{ __typename noSuchField }")
        assert result.errors and "noSuchField" in result.errors[0].message
    deep = "{ __schema { " + "types { fields { type { " * MAX_DEPTH + "name" + " } } }" * MAX_DEPTH + " } }"
    for _ in range(2):
        assert schema.execute_sync(deep).errors
    assert len(validated) == 5
    assert documents.get("{ __typename noSuchField }") is None and documents.get(deep) is None
    for text in ("{ a: __typename }", "{ b: __typename }"):  # past `size`, the least recent is dropped
        schema.execute_sync(text)
    assert documents.get("{ __typename }") is None and documents.get("{ b: __typename }") is not None


RELATIONS = """fragment Rel on Invoice { id customer { name } disputes { state reasonCode } history(last: $last) {
  trigger toState at } }"""
PAGE_BY_FRAGMENT = (
    RELATIONS
    + """ query($first: Int!, $last: Int!) { invoices(first: $first) { nodes { ...Rel }
  edges { node { ... on Invoice { shortHistory: history(last: 1) { toState } } } } } }"""
)
ONE = (
    RELATIONS
    + """ query($id: ID!, $last: Int!) { invoice(id: $id) { ...Rel history1: history(last: 1) { toState } } }"""
)


def test_a_page_read_with_its_relations_answers_as_each_invoice_read_alone(
    service: Collections, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = seed_portfolio(service, customers=3, invoices_each=4)
    actor = person("ann")
    for invoice_id in ids[::3]:
        service.open_dispute(c.OpenDispute(invoice_id, "pricing"), actor)
    service.transition_invoice(c.TransitionInvoice(ids[1], "mark_overdue", "test"), actor)
    batches_loaded: list[int] = []
    original = loaders_module.run_in_threadpool

    async def counting(fn: Any, *args: Any) -> Any:
        batches_loaded.append(len(args[-1]))
        return await original(fn, *args)

    monkeypatch.setattr(loaders_module, "run_in_threadpool", counting)
    with counting_statements(service.ctx.store, monkeypatch) as seen:
        page = data(run(service.ctx, PAGE_BY_FRAGMENT, {"first": 12, "last": 3}))["invoices"]
    # page, customers, disputes and one history statement per distinct `last` (3 and 1), all read
    # beside the page: no loader had to fetch anything
    assert len(seen) == 5
    assert batches_loaded == []
    assert len(page["nodes"]) == 12
    for node, edge in zip(page["nodes"], page["edges"], strict=True):
        alone = data(run(service.ctx, ONE, {"id": node["id"], "last": 3}))["invoice"]
        assert node == {k: v for k, v in alone.items() if k != "history1"}
        assert edge["node"]["shortHistory"] == alone["history1"]
    assert any(n["disputes"] for n in page["nodes"]) and any(len(n["history"]) > 1 for n in page["nodes"])


def test_a_page_with_its_count_and_relations_is_read_in_one_worker_thread_hop(
    service: Collections, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_portfolio(service, customers=3, invoices_each=4)
    hops: list[str] = []
    for module in (loaders_module, context_module):
        original = module.run_in_threadpool

        async def counting(fn: Any, *args: Any, _original: Any = original) -> Any:
            hops.append(getattr(fn, "__name__", "?"))
            return await _original(fn, *args)

        monkeypatch.setattr(module, "run_in_threadpool", counting)
    with counting_statements(service.ctx.store, monkeypatch) as seen:
        found = data(run(service.ctx, PAGE, {"first": 7}))["invoices"]
    assert found["totalCount"] == 12 and len(found["edges"]) == 7
    assert hops == ["read"]
    assert len(seen) == 5  # page, count, customers, disputes, history

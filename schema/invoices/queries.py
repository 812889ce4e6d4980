"""`invoice(id)` and `invoices(filter, orderBy, first, after)`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated

import strawberry
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from engine.queries import batches, history
from engine.queries import invoices as q
from engine.queries.pages import Page
from engine.store.database import Store
from engine.views import CustomerView, DisputeView, InvoiceView, TransitionView
from schema.common.pagination import (
    AFTER_DESCRIPTION,
    DEFAULT_PAGE_SIZE,
    FIRST_DESCRIPTION,
    Connection,
    connection,
    fixed_count,
)
from schema.context import Info
from schema.history.types import MAX_HISTORY
from schema.ids import parse_id
from schema.invoices.types import Invoice, InvoiceFilter, InvoiceOrder
from schema.loaders import Loaders
from schema.permissions import CanRead


def to_query_filter(flt: InvoiceFilter | None) -> q.InvoiceFilter:
    if flt is None:
        return q.InvoiceFilter()
    return q.InvoiceFilter(
        states=tuple(s.value for s in flt.state or ()),
        customer_id=parse_id(flt.customer_id, "customerId") if flt.customer_id is not None else None,
        segments=tuple(flt.segment or ()),
        risks=tuple(flt.risk or ()),
        min_days_past_due=flt.min_days_past_due,
        max_days_past_due=flt.max_days_past_due,
        currency=flt.currency,
        number=flt.number,
    )


@dataclass(frozen=True)
class Wanted:
    """The relations a list query selects on its invoices (looked ahead before reading the page)."""

    total_count: bool = False
    customer: bool = False
    disputes: bool = False
    history_lasts: frozenset[int] = frozenset()


def _fields(selections: Iterable[Selection]) -> Iterable[SelectedField]:
    """The fields of one level, fragments flattened."""
    for sel in selections:
        if isinstance(sel, SelectedField):
            yield sel
        elif isinstance(sel, FragmentSpread | InlineFragment):
            yield from _fields(sel.selections)


def _wanted_relations(selected: Sequence[Selection]) -> Wanted:
    """Whether `totalCount` is asked for, and what `edges { node { … } }` and `nodes { … }` ask
    for; anything not recognised is simply not prefetched (its resolver loads it as before)."""
    nodes: list[SelectedField] = []
    total_count = False
    for top in _fields(selected):
        for sel in _fields(top.selections):
            total_count = total_count or sel.name == "totalCount"
            if sel.name == "nodes":
                nodes.extend(_fields(sel.selections))
            elif sel.name == "edges":
                nodes.extend(
                    f for node in _fields(sel.selections) if node.name == "node" for f in _fields(node.selections)
                )
    lasts: set[int] = set()
    for f in nodes:
        if f.name == "history":
            try:
                last = int(f.arguments.get("last", 20))
            except (TypeError, ValueError):
                continue
            if 1 <= last <= MAX_HISTORY:
                lasts.add(last)
    names = {f.name for f in nodes}
    return Wanted(total_count, "customer" in names, "disputes" in names, frozenset(lasts))


@dataclass
class Relations:
    """A page's relations, read beside the page in the same worker-thread hop."""

    customers: dict[int, CustomerView | None] = field(default_factory=dict)
    disputes: dict[int, list[DisputeView]] | None = None
    histories: dict[int, dict[int, list[TransitionView]]] = field(default_factory=dict)

    def prime(self, loaders: Loaders) -> None:
        if self.customers:
            loaders.customer.prime_many(self.customers)
        if self.disputes is not None:
            loaders.disputes_of_invoice.prime_many(self.disputes)
        for last, found in self.histories.items():
            loaders.history("invoice", last).prime_many(found)


def _read_relations(store: Store, views: list[InvoiceView], wanted: Wanted) -> Relations:
    """The same one statement per relation the loaders would issue, keyed as they key it."""
    relations = Relations()
    if not views:
        return relations
    ids = [v.id for v in views]
    if wanted.customer:
        customer_ids = sorted({v.customer_id for v in views})
        found = batches.customers_by_ids(store, customer_ids)
        relations.customers = {cid: found.get(cid) for cid in customer_ids}
    if wanted.disputes:
        by_invoice = batches.disputes_by_invoice_ids(store, ids)
        relations.disputes = {i: list(by_invoice.get(i, [])) for i in ids}
    for last in sorted(wanted.history_lasts):
        recent = history.recent_history(store, "invoice", ids, last)
        relations.histories[last] = {i: list(recent.get(i, [])) for i in ids}
    return relations


@strawberry.type
class InvoiceQueries:
    @strawberry.field(permission_classes=[CanRead])
    async def invoice(self, info: Info, id: strawberry.ID) -> Invoice | None:
        view = await info.context.loaders.invoice.load(parse_id(id))
        return Invoice.of(view) if view else None

    @strawberry.field(permission_classes=[CanRead])
    async def invoices(
        self,
        info: Info,
        filter: InvoiceFilter | None = None,
        order_by: InvoiceOrder = InvoiceOrder.DUE_DATE_ASC,
        first: Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    ) -> Connection[Invoice]:
        ctx = info.context
        flt, today = to_query_filter(filter), ctx.today()
        wanted = _wanted_relations(info.selected_fields)
        store, loaders = ctx.store, ctx.loaders

        def read() -> tuple[Page[InvoiceView], Relations, int | None]:
            page = q.list_invoices(store, flt, order_by.value, first, after, today)
            total = q.count_invoices(store, flt, today) if wanted.total_count else None
            return page, _read_relations(store, [e.node for e in page.edges], wanted), total

        page, relations, total = await ctx.run(read)
        relations.prime(loaders)

        async def count() -> int:
            return await ctx.run(q.count_invoices, ctx.store, flt, today)

        return connection(page, Invoice.of, count if total is None else fixed_count(total), after)

"""The framework's floor: a bare strawberry schema on uvicorn serving the benchmark's query
shape from memory (no database, no auth, no loaders). Run by benchmarks/graphql.py."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import strawberry
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL


@strawberry.type
class Money:
    amount: str
    currency: str


@strawberry.type
class Customer:
    name: str
    segment: str


@strawberry.type
class Dispute:
    state: str
    reason_code: str


@strawberry.type
class Transition:
    trigger: str
    to_state: str
    at: datetime


@strawberry.type
class Invoice:
    number: str
    amount: Money
    customer: Customer
    disputes: list[Dispute]
    history_entries: strawberry.Private[list[Transition]]

    @strawberry.field
    async def history(self, last: int = 20) -> list[Transition]:
        return self.history_entries[-last:]


@strawberry.type
class Edge:
    node: Invoice


@strawberry.type
class Connection:
    total_count: int
    edges: list[Edge]


def _invoices(n: int) -> list[Invoice]:
    at = datetime(2026, 3, 2, tzinfo=UTC)
    return [
        Invoice(
            number=f"B-{i}",
            amount=Money(amount="10.00", currency="EUR"),
            customer=Customer(name=f"Bench {i % 40}", segment="smb"),
            disputes=[Dispute(state="open", reason_code="pricing")] if i % 5 == 0 else [],
            history_entries=[Transition(trigger="issue", to_state="open", at=at)] * 2,
        )
        for i in range(n)
    ]


def main() -> None:
    port, size = int(sys.argv[1]), int(sys.argv[2])
    invoices = _invoices(size)

    @strawberry.type
    class Query:
        @strawberry.field
        async def invoices(self, first: int = 20) -> Connection:
            return Connection(total_count=len(invoices), edges=[Edge(node=i) for i in invoices[:first]])

    app = Starlette(routes=[Route("/graphql", GraphQL(strawberry.Schema(query=Query)), methods=["GET", "POST"])])
    print("floor ready", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()

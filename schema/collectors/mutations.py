"""`createCollector`, `assignPortfolios` (admins), `assignCustomer` (collectors)."""

from __future__ import annotations

import strawberry

from engine import commands as c
from schema.collectors.types import Collector
from schema.common.mutation import perform
from schema.context import Info
from schema.ids import parse_id, to_id
from schema.permissions import CanCollect, CanManageMaster


@strawberry.input
class CreateCollectorInput:
    name: str
    email: str
    queues: list[str] = strawberry.field(default_factory=list)


@strawberry.type(description="What applying the portfolio rules changed.")
class PortfolioAssignment:
    assigned: int
    unmatched: int
    unknown_collectors: list[str] = strawberry.field(description="Emails the rules name that are no collector.")


@strawberry.type
class CollectorMutations:
    @strawberry.mutation(permission_classes=[CanManageMaster])
    async def create_collector(self, info: Info, input: CreateCollectorInput) -> Collector:
        view = await perform(info, c.CreateCollector(input.name, input.email, tuple(input.queues)))
        return Collector.of(view)

    @strawberry.mutation(
        permission_classes=[CanCollect], description="Put a customer in a collector's portfolio by hand (null: none)."
    )
    async def assign_customer(
        self, info: Info, customer_id: strawberry.ID, collector_id: strawberry.ID | None
    ) -> strawberry.ID | None:
        target = parse_id(collector_id, "collectorId") if collector_id is not None else None
        found = await perform(info, c.AssignCustomer(parse_id(customer_id, "customerId"), target))
        return to_id(found) if found is not None else None

    @strawberry.mutation(
        permission_classes=[CanManageMaster],
        description="Apply policy/portfolios.yaml to every customer not assigned by hand.",
    )
    async def assign_portfolios(self, info: Info) -> PortfolioAssignment:
        report = await perform(info, c.AssignPortfolios())
        return PortfolioAssignment(
            assigned=report.assigned, unmatched=report.unmatched, unknown_collectors=list(report.unknown_collectors)
        )

"""`strategies`: the set in force."""

from __future__ import annotations

import strawberry

from schema.context import Info
from schema.permissions import CanRead
from schema.strategies.types import Strategy


@strawberry.type
class StrategyQueries:
    @strawberry.field(
        permission_classes=[CanRead],
        description="The strategies in force, in file order: what every decision is made with.",
    )
    def strategies(self, info: Info) -> list[Strategy]:
        # No I/O: the set in force is in memory (`source` reads a file only if it was not kept).
        in_force = info.context.strategies().current
        return [Strategy.of(c, in_force.loaded_at) for c in in_force.strategies]

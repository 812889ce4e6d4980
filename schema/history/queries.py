"""`history(entity, id, first, after)`: the full, paginated history of one entity."""

from __future__ import annotations

from typing import Annotated

import strawberry

from engine.queries.history import history_page
from schema.common.pagination import AFTER_DESCRIPTION, FIRST_DESCRIPTION, Connection, connection, fixed_count
from schema.context import Info
from schema.history.types import EntityKind, Transition
from schema.ids import parse_id
from schema.permissions import CanRead


@strawberry.type
class HistoryQueries:
    @strawberry.field(permission_classes=[CanRead], description="Every transition of an invoice, dispute or account.")
    async def history(
        self,
        info: Info,
        entity: EntityKind,
        id: strawberry.ID,
        first: Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)] = 50,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    ) -> Connection[Transition]:
        page, total = await info.context.run(
            history_page, info.context.store, entity.value, parse_id(id, "id"), first, after
        )
        return connection(page, Transition.of, fixed_count(total), after)

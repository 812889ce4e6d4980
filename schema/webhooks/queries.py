"""`webhooks`, `webhookDeliveries(endpointId, status)` (integrators and admins)."""

from __future__ import annotations

import strawberry

from engine.webhooks.deliveries import list_deliveries
from engine.webhooks.endpoints import list_endpoints
from schema.context import Info
from schema.ids import MAX_LOG_ID, parse_id
from schema.permissions import CanSubscribe
from schema.webhooks.types import WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint
from states.errors import ValidationFailed

MAX_DELIVERIES = 200


@strawberry.type
class WebhookQueries:
    @strawberry.field(permission_classes=[CanSubscribe], description="Every endpoint, disabled ones included.")
    async def webhooks(self, info: Info) -> list[WebhookEndpoint]:
        ctx = info.context
        return [WebhookEndpoint.of(v) for v in await ctx.run(list_endpoints, ctx.store)]

    @strawberry.field(
        permission_classes=[CanSubscribe],
        description="Deliveries, newest first, with their attempts. Page with `beforeId` (the last id seen).",
    )
    async def webhook_deliveries(
        self,
        info: Info,
        endpoint_id: strawberry.ID | None = None,
        status: WebhookDeliveryStatus | None = None,
        first: int = 50,
        before_id: strawberry.ID | None = None,
    ) -> list[WebhookDelivery]:
        if not 1 <= first <= MAX_DELIVERIES:
            raise ValidationFailed(f"`first` is between 1 and {MAX_DELIVERIES}", "first")
        ctx = info.context
        views = await ctx.run(
            list_deliveries,
            ctx.store,
            parse_id(endpoint_id, "endpointId") if endpoint_id is not None else None,
            status.value if status is not None else None,
            first,
            parse_id(before_id, "beforeId", MAX_LOG_ID) if before_id is not None else None,
        )
        return [WebhookDelivery.of(v) for v in views]

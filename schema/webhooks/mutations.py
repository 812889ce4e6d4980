"""`registerWebhook` (shows the secret once), `updateWebhook`, `disableWebhook`,
`rotateWebhookSecret`, `redeliverWebhook`."""

from __future__ import annotations

import strawberry

from engine.clock import Clock
from engine.webhooks import endpoints
from engine.webhooks.deliveries import get_delivery
from engine.webhooks.dispatcher import redeliver
from schema.context import Info
from schema.ids import MAX_LOG_ID, parse_id
from schema.permissions import CanSubscribe
from schema.webhooks.types import WebhookDelivery, WebhookEndpoint, WebhookSecretPayload
from states.errors import NotFound

# Webhook scheduling runs on wall time (what the dispatcher compares with), not the business date.
wall_clock = Clock()


@strawberry.input
class RegisterWebhookInput:
    url: str
    event_types: list[str] = strawberry.field(default_factory=list, description="Empty: every event type.")
    subject_filter: str | None = strawberry.field(default=None, description="'invoices/' or 'invoices/42'.")
    description: str | None = None


@strawberry.input
class UpdateWebhookInput:
    id: strawberry.ID
    url: str | None = None
    event_types: list[str] | None = None
    subject_filter: str | None = strawberry.field(default=None, description="An empty string removes the filter.")
    description: str | None = None
    enabled: bool | None = strawberry.field(default=None, description="true re-enables; pending deliveries resume.")


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(permission_classes=[CanSubscribe], description="The secret is returned here only.")
    async def register_webhook(self, info: Info, input: RegisterWebhookInput) -> WebhookSecretPayload:
        ctx = info.context
        view, secret = await ctx.run(
            endpoints.register,
            ctx.store,
            input.url,
            wall_clock.now(),
            input.event_types,
            input.subject_filter,
            input.description,
            ctx.engine.settings.webhook_allow_private,
        )
        return WebhookSecretPayload(endpoint=WebhookEndpoint.of(view), secret=secret)

    @strawberry.mutation(permission_classes=[CanSubscribe])
    async def update_webhook(self, info: Info, input: UpdateWebhookInput) -> WebhookEndpoint:
        ctx = info.context
        clear = input.subject_filter is not None and input.subject_filter.strip() == ""
        view = await ctx.run(
            lambda: endpoints.update(
                ctx.store,
                parse_id(input.id),
                url=input.url,
                event_types=input.event_types,
                subject_filter=None if clear else input.subject_filter,
                clear_subject_filter=clear,
                description=input.description,
                enabled=input.enabled,
                allow_private=ctx.engine.settings.webhook_allow_private,
            )
        )
        return WebhookEndpoint.of(view)

    @strawberry.mutation(permission_classes=[CanSubscribe], description="Stops sending; deliveries wait.")
    async def disable_webhook(self, info: Info, id: strawberry.ID) -> WebhookEndpoint:
        ctx = info.context
        return WebhookEndpoint.of(await ctx.run(endpoints.disable, ctx.store, parse_id(id)))

    @strawberry.mutation(
        permission_classes=[CanSubscribe],
        description="A new secret, shown once; for 24 hours deliveries carry signatures by both the old and the new.",
    )
    async def rotate_webhook_secret(self, info: Info, id: strawberry.ID) -> WebhookSecretPayload:
        ctx = info.context
        view, secret = await ctx.run(endpoints.rotate_secret, ctx.store, parse_id(id), wall_clock.now())
        return WebhookSecretPayload(endpoint=WebhookEndpoint.of(view), secret=secret)

    @strawberry.mutation(
        permission_classes=[CanSubscribe],
        description="Queue a dead (or delivered) delivery again, due now; same `webhook-id`.",
    )
    async def redeliver_webhook(self, info: Info, delivery_id: strawberry.ID) -> WebhookDelivery:
        ctx = info.context
        number = parse_id(delivery_id, "deliveryId", MAX_LOG_ID)
        await ctx.run(redeliver, ctx.store, number, wall_clock.now())
        view = await ctx.run(get_delivery, ctx.store, number)
        if view is None:
            raise NotFound(f"webhook delivery {number} does not exist")
        return WebhookDelivery.of(view)

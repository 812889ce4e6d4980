"""Webhook endpoints, deliveries and attempts on the GraphQL surface."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from engine.events.cursor import encode
from engine.webhooks.deliveries import AttemptView, DeliveryView
from engine.webhooks.endpoints import EndpointView
from schema.ids import to_id


@strawberry.enum
class WebhookDeliveryStatus(Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    DEAD = "dead"


@strawberry.type(description="A URL that receives signed CloudEvents (Standard Webhooks).")
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    event_types: list[str] = strawberry.field(description="Empty: every event type.")
    subject_filter: str | None = strawberry.field(description="'invoices/' (a prefix) or 'invoices/42'.")
    description: str | None
    enabled: bool
    disabled_reason: str | None
    created_at: datetime

    @staticmethod
    def of(v: EndpointView) -> WebhookEndpoint:
        return WebhookEndpoint(
            id=to_id(v.id),
            url=v.url,
            event_types=list(v.event_types),
            subject_filter=v.subject_filter,
            description=v.description,
            enabled=v.enabled,
            disabled_reason=v.disabled_reason,
            created_at=v.created_at,
        )


@strawberry.type(description="The endpoint and its signing secret. The secret is shown only here, once.")
class WebhookSecretPayload:
    endpoint: WebhookEndpoint
    secret: str


@strawberry.type(description="One HTTP attempt to deliver an event.")
class WebhookAttempt:
    attempted_at: datetime
    status_code: int | None = strawberry.field(description="None when no answer came (refused, timeout).")
    error: str | None
    duration_ms: int
    dispatcher: str

    @staticmethod
    def of(a: AttemptView) -> WebhookAttempt:
        return WebhookAttempt(
            attempted_at=a.attempted_at,
            status_code=a.status_code,
            error=a.error,
            duration_ms=a.duration_ms,
            dispatcher=a.dispatcher,
        )


@strawberry.type(description="One event to one endpoint: retried with backoff, dead when exhausted.")
class WebhookDelivery:
    id: strawberry.ID
    endpoint_id: strawberry.ID
    event_id: str = strawberry.field(description="The CloudEvent id, sent as `webhook-id` on every attempt.")
    event_cursor: str
    status: WebhookDeliveryStatus
    attempts: int = strawberry.field(description="Attempts since it was (re)queued.")
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    attempt_log: list[WebhookAttempt] = strawberry.field(description="Every attempt, oldest first.")

    @staticmethod
    def of(d: DeliveryView) -> WebhookDelivery:
        return WebhookDelivery(
            id=to_id(d.id),
            endpoint_id=to_id(d.endpoint_id),
            event_id=d.event_id,
            event_cursor=encode(d.event_position),
            status=WebhookDeliveryStatus(d.status),
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            created_at=d.created_at,
            updated_at=d.updated_at,
            attempt_log=[WebhookAttempt.of(a) for a in d.attempt_log],
        )

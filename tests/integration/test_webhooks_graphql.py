"""Webhook mutations and queries through GraphQL, as an integrator, against a real receiver."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry
from standardwebhooks import Webhook
from strawberry.types import ExecutionResult
from test_webhooks import publish
from webhook_receiver import Answer, Receiver, running_receiver

from engine.clock import FixedClock
from engine.keys import Principal
from engine.services.context import Context
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork
from engine.webhooks.dispatcher import Dispatcher
from engine.webhooks.fanout import FANOUT_CURSOR
from schema.context import make_context
from schema.errors import ErrorCodes
from schema.webhooks.mutations import WebhookMutations
from schema.webhooks.queries import WebhookQueries


@strawberry.type
class _Query(WebhookQueries):
    pass


@strawberry.type
class _Mutation(WebhookMutations):
    pass


SCHEMA = strawberry.Schema(query=_Query, mutation=_Mutation, extensions=[ErrorCodes])
REGISTER = """mutation($url: String!, $types: [String!]!) {
  registerWebhook(input: {url: $url, eventTypes: $types, description: "ERP"}) {
    secret endpoint { id url eventTypes enabled }
  }
}"""
DELIVERIES = """query($endpointId: ID, $status: WebhookDeliveryStatus) {
  webhookDeliveries(endpointId: $endpointId, status: $status) {
    id eventId eventCursor status attempts lastStatusCode attemptLog { statusCode error dispatcher }
  }
}"""


@pytest.fixture
def clean(ctx: Context) -> Context:
    with UnitOfWork(ctx.store, write=True) as uow:
        for sql in ("DELETE FROM webhook_attempt", "DELETE FROM webhook_delivery", "DELETE FROM webhook_endpoint"):
            uow.execute(sql)
        uow.execute("DELETE FROM lease WHERE name = $name", {"name": FANOUT_CURSOR})
        uow.commit()
    # The receivers of these tests listen on 127.0.0.1, which only this setting allows.
    return replace(ctx, settings=ctx.settings.model_copy(update={"webhook_allow_private": True}))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hooks",
        "http://localhost/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/",
        "http://192.168.0.10/",
        "http://[::1]:8080/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://[fe80::1]/",
    ],
)
def test_a_webhook_url_resolving_to_a_private_address_is_refused_without_the_setting(ctx: Context, url: str) -> None:
    result = run(ctx, REGISTER, {"url": url, "types": []})
    assert codes(result) == ["VALIDATION_FAILED"]
    assert result.errors is not None and result.errors[0].extensions is not None
    assert result.errors[0].extensions["field"] == "input.url"
    assert "O2C_WEBHOOK_ALLOW_PRIVATE" in result.errors[0].message


@pytest.mark.parametrize("url", ["http://[::1", "http://host:99999/", "ftp://example.com/", "http://u:p@example.com/"])
def test_a_malformed_webhook_url_is_a_validation_error(clean: Context, url: str) -> None:
    assert codes(run(clean, REGISTER, {"url": url, "types": []})) == ["VALIDATION_FAILED"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as r:
        yield r


def run(ctx: Context, query: str, variables: dict[str, Any] | None = None, role: str = "integrator") -> ExecutionResult:
    context = make_context(ctx, Principal(1, "testkey", role, f"{role} tester"))
    return asyncio.run(SCHEMA.execute(query, variable_values=variables, context_value=context))


def ok(result: ExecutionResult) -> dict[str, Any]:
    assert result.errors is None, [(e.message, e.extensions) for e in result.errors]
    assert result.data is not None
    return result.data


def codes(result: ExecutionResult) -> list[str]:
    return [str((e.extensions or {}).get("code")) for e in result.errors or []]


def drain(store: Store) -> None:
    d = Dispatcher(store, clock=FixedClock(datetime.now(UTC)), timeout=2.0, allow_private=True)
    while d.run_once():
        pass
    d.close()


def test_an_integrator_registers_a_webhook_and_sees_the_secret_only_once(clean: Context, receiver: Receiver) -> None:
    out = ok(run(clean, REGISTER, {"url": receiver.url, "types": []}))["registerWebhook"]
    assert out["secret"].startswith("whsec_") and out["endpoint"]["enabled"] is True
    listed = ok(run(clean, "{ webhooks { id url enabled description } }"))["webhooks"]
    assert listed == [{"id": out["endpoint"]["id"], "url": receiver.url, "enabled": True, "description": "ERP"}]
    assert "secret" not in str(ok(run(clean, "{ webhooks { id url eventTypes subjectFilter } }")))
    publish(clean.store)
    drain(clean.store)
    (request,) = receiver.received
    Webhook(out["secret"]).verify(request.body, request.headers)


def test_a_viewer_may_not_manage_webhooks(clean: Context, receiver: Receiver) -> None:
    assert codes(run(clean, REGISTER, {"url": receiver.url, "types": []}, role="viewer")) == ["FORBIDDEN"]
    assert codes(run(clean, "{ webhooks { id } }", role="collector")) == ["FORBIDDEN"]


def test_a_webhook_url_and_event_types_are_validated(clean: Context) -> None:
    assert codes(run(clean, REGISTER, {"url": "ftp://example.com/x", "types": []})) == ["VALIDATION_FAILED"]
    assert codes(run(clean, REGISTER, {"url": "https://example.com/x", "types": ["invoice"]})) == ["VALIDATION_FAILED"]


def test_deliveries_list_their_attempts_and_a_dead_one_can_be_redelivered(clean: Context, receiver: Receiver) -> None:
    out = ok(run(clean, REGISTER, {"url": receiver.url, "types": ["o2c.invoice.state_changed"]}))["registerWebhook"]
    endpoint_id = out["endpoint"]["id"]
    (event_id,) = publish(clean.store)
    receiver.answer(Answer(400))
    drain(clean.store)
    (dead,) = ok(run(clean, DELIVERIES, {"endpointId": endpoint_id, "status": "DEAD"}))["webhookDeliveries"]
    assert dead["eventId"] == event_id and dead["lastStatusCode"] == 400
    assert [a["statusCode"] for a in dead["attemptLog"]] == [400]
    again = ok(run(clean, "mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { status } }", {"id": dead["id"]}))
    assert again["redeliverWebhook"]["status"] == "PENDING"
    drain(clean.store)
    (done,) = ok(run(clean, DELIVERIES, {"endpointId": endpoint_id, "status": "SUCCEEDED"}))["webhookDeliveries"]
    assert [a["statusCode"] for a in done["attemptLog"]] == [400, 200]
    assert receiver.ids() == [event_id, event_id]


def test_a_webhook_can_be_updated_disabled_and_enabled(clean: Context, receiver: Receiver) -> None:
    endpoint_id = ok(run(clean, REGISTER, {"url": receiver.url, "types": []}))["registerWebhook"]["endpoint"]["id"]
    update = """mutation($id: ID!, $subject: String, $enabled: Boolean) {
      updateWebhook(input: {id: $id, subjectFilter: $subject, enabled: $enabled}) { subjectFilter enabled }
    }"""
    changed = ok(run(clean, update, {"id": endpoint_id, "subject": "invoices/"}))["updateWebhook"]
    assert changed == {"subjectFilter": "invoices/", "enabled": True}
    disabled = ok(
        run(clean, "mutation($id: ID!) { disableWebhook(id: $id) { enabled disabledReason } }", {"id": endpoint_id})
    )
    assert disabled["disableWebhook"]["enabled"] is False
    publish(clean.store)
    drain(clean.store)
    assert receiver.received == []
    ok(run(clean, update, {"id": endpoint_id, "enabled": True}))
    drain(clean.store)
    assert len(receiver.received) == 1
    assert codes(run(clean, 'mutation { disableWebhook(id: "999") { id } }')) == ["NOT_FOUND"]

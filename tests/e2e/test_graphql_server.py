"""A real uvicorn server (`o2c serve`), spoken to over HTTP (httpx) and WebSocket (websockets)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from server_process import Server, running_server

from engine.bootstrap import build_context
from engine.config import Settings
from engine.keys import create_key
from engine.store.database import Store

pytestmark = pytest.mark.slow

CREATE = """mutation($ref: String!) { createCustomer(input: {externalRef: $ref, name: "Acme",
  segment: "smb", currency: "EUR", creditLimit: "1000.00"}) { id creditLimit { amount minor } } }"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path = Path(tmp_path_factory.mktemp("e2e")) / "o2c.sqlite"
    with running_server(f"sqlite:///{path}") as running:
        yield running


def test_serve_prints_a_demo_admin_key_that_can_create_a_customer(server: Server) -> None:
    assert server.key.startswith("o2c_")
    body = server.graphql(CREATE, {"ref": "E2E-1"})
    assert body["data"]["createCustomer"]["creditLimit"] == {"amount": "1000.00", "minor": 100000}


def test_a_request_without_a_key_is_unauthenticated(server: Server) -> None:
    response = httpx.post(f"{server.url}/graphql", json={"query": "{ customers { totalCount } }"})
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_health_readiness_graphiql_and_metrics_answer(server: Server) -> None:
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{server.url}/readyz").json()["status"] == "ok"
    page = httpx.get(f"{server.url}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    server.graphql("{ customers { totalCount } }")
    metrics = httpx.get(f"{server.url}/metrics").text
    assert 'o2c_graphql_operations_total{operation="query",outcome="ok"}' in metrics
    assert "o2c_graphql_operation_seconds_bucket" in metrics


async def _first_event(server: Server, ref: str) -> dict[str, object]:
    async with websockets.connect(server.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {server.key}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        query = 'subscription { events(types: ["o2c.customer.created"]) { id type subject data } }'
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        await asyncio.sleep(0.3)  # the subscription starts from the current end of the outbox
        await asyncio.to_thread(server.graphql, CREATE, {"ref": ref})
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout=15))
        assert message["type"] == "next", message
        return dict(message["payload"]["data"]["events"])


def test_a_subscription_receives_the_event_a_mutation_committed(server: Server) -> None:
    event = asyncio.run(_first_event(server, "E2E-2"))
    assert event["type"] == "o2c.customer.created"
    assert str(event["subject"]).startswith("customers/")


def test_a_viewer_may_not_subscribe(server: Server) -> None:
    store = Store(server.database_url)
    try:
        ctx = build_context(Settings(database_url=server.database_url), migrate=False)
        _principal, viewer = create_key(ctx, "viewer")
        ctx.store.disconnect()
    finally:
        store.disconnect()

    async def attempt() -> dict[str, object]:
        async with websockets.connect(server.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {viewer}"}}
            await ws.send(json.dumps(init))
            await ws.recv()
            subscribe = {"id": "1", "type": "subscribe", "payload": {"query": "subscription { events { id } }"}}
            await ws.send(json.dumps(subscribe))
            return dict(json.loads(await asyncio.wait_for(ws.recv(), timeout=15)))

    message = asyncio.run(attempt())
    assert message["type"] in ("error", "next"), message
    payload = message["payload"]
    errors = payload if isinstance(payload, list) else payload["errors"]  # type: ignore[index]
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"

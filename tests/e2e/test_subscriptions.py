"""Event subscriptions against real `o2c serve` processes over graphql-transport-ws (websockets):
authentication at connection_init, the per-connection cap, replay then live with a cursor on
every message, events committed through another server process, and slow consumers."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from server_process import Server, running_server
from websockets.asyncio.client import ClientConnection

from engine.bootstrap import build_context
from engine.config import Settings
from engine.events.cursor import decode, encode
from engine.journal import emit
from engine.keys import create_key, revoke_key
from engine.queries.events import last_position
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork, transact

pytestmark = pytest.mark.slow

PROTOCOL = [websockets.Subprotocol("graphql-transport-ws")]
FLOOD_TYPE = "o2c.invoice.state_changed"
CREATE = """mutation($ref: String!) { createCustomer(input: {externalRef: $ref, name: "Acme",
  segment: "smb", currency: "EUR", creditLimit: "1000.00"}) { id } }"""


@pytest.fixture(scope="module")
def database_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{Path(tmp_path_factory.mktemp('subs')) / 'o2c.sqlite'}"


@pytest.fixture(scope="module")
def server(database_file: str) -> Iterator[Server]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("O2C_MAX_SUBSCRIPTIONS_PER_CONNECTION", "2")
        env.setenv("O2C_SUBSCRIPTION_BUFFER", "20")
        env.setenv("O2C_SUBSCRIPTION_STALL_SECONDS", "2")
        with running_server(database_file) as running:
            # A key of our own: a second `o2c serve` on this database replaces the demo key.
            ctx = build_context(Settings(database_url=database_file), migrate=False)
            try:
                _principal, key = create_key(ctx, "admin")
            finally:
                ctx.store.disconnect()
            yield dataclasses.replace(running, key=key)


async def connect(server: Server, payload: dict[str, Any] | None = None, **kw: Any) -> ClientConnection:
    ws = await websockets.connect(server.ws_url, subprotocols=PROTOCOL, **kw)
    init: dict[str, Any] = {"type": "connection_init"}
    if payload is not None:
        init["payload"] = payload
    await ws.send(json.dumps(init))
    return ws


async def authorised(server: Server, **kw: Any) -> ClientConnection:
    ws = await connect(server, {"Authorization": f"Bearer {server.key}"}, **kw)
    ack = json.loads(await asyncio.wait_for(ws.recv(), 15))
    assert ack["type"] == "connection_ack", ack
    return ws


async def subscribe(ws: ClientConnection, op: str, arguments: str = "") -> None:
    args = f"({arguments})" if arguments else ""
    query = f"subscription {{ events{args} {{ id cursor type subject entityVersion data }} }}"
    await ws.send(json.dumps({"id": op, "type": "subscribe", "payload": {"query": query}}))


async def next_events(ws: ClientConnection, n: int, timeout: float = 20) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while len(out) < n:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        assert message["type"] == "next", message
        out.append(message["payload"]["data"]["events"])
    return out


def flood(database_url: str, n: int, padding: int = 0, first: int = 1) -> list[str]:
    """Commit `n` events straight to the outbox from this process (another writer than the server)."""
    store = Store(database_url)

    def work(uow: UnitOfWork, start: int, count: int) -> list[str]:
        return [
            emit(
                uow,
                type=FLOOD_TYPE,
                entity_type="invoice",
                entity_id=first + k,
                entity_version=2,
                customer_id=None,
                at=datetime.now(UTC),
                data={"from": "open", "to": "overdue", "padding": "x" * padding},
            )
            for k in range(start, start + count)
        ]

    try:
        ids: list[str] = []
        for start in range(0, n, 200):
            count = min(200, n - start)
            ids += transact(store, lambda uow, start=start, count=count: work(uow, start, count))
        return ids
    finally:
        store.disconnect()


def current_cursor(database_url: str) -> str:
    """The cursor of the newest event: subscribing `after` it loses nothing however late the
    subscription joins the server's reader (no sleep "to let it join")."""
    store = Store(database_url)
    try:
        return encode(last_position(store))
    finally:
        store.disconnect()


def metric(server: Server, name: str) -> float:
    for line in httpx.get(f"{server.url}/metrics", timeout=10).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


# --- authentication at connection_init ---------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [None, {}, {"Authorization": "Bearer o2c_not_a_key"}, {"Authorization": "Basic abc"}],
    ids=["no payload", "empty payload", "unknown key", "wrong scheme"],
)
def test_a_connection_without_a_valid_key_is_refused_at_connection_init_with_4403(
    server: Server, payload: dict[str, str] | None
) -> None:
    async def attempt() -> websockets.ConnectionClosed:
        ws = await connect(server, payload)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 15)
        return closed.value

    closed = asyncio.run(attempt())
    assert closed.rcvd is not None and closed.rcvd.code == 4403


def test_a_key_in_the_handshake_header_is_accepted_at_connection_init(server: Server) -> None:
    async def attempt() -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {server.key}"}
        async with await connect(server, None, additional_headers=headers) as ws:
            return dict(json.loads(await asyncio.wait_for(ws.recv(), 15)))

    assert asyncio.run(attempt())["type"] == "connection_ack"


def test_a_subscribe_before_connection_init_is_closed_with_4401(server: Server) -> None:
    async def attempt() -> int:
        async with websockets.connect(server.ws_url, subprotocols=PROTOCOL) as ws:
            await subscribe(ws, "1")
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 15)
            assert closed.value.rcvd is not None
            return closed.value.rcvd.code

    assert asyncio.run(attempt()) == 4401


def _own_key(database_file: str, role: str = "admin") -> tuple[str, str]:
    ctx = build_context(Settings(database_url=database_file), migrate=False)
    try:
        principal, key = create_key(ctx, role)
    finally:
        ctx.store.disconnect()
    return principal.prefix, key


def _change_key(database_file: str, prefix: str, how: str) -> None:
    ctx = build_context(Settings(database_url=database_file), migrate=False)
    try:
        if how == "revoke":
            assert revoke_key(ctx, prefix)
        else:

            def work(uow: UnitOfWork) -> None:
                uow.execute("UPDATE api_key SET role = 'collector' WHERE prefix = $p", {"p": prefix})

            transact(ctx.store, work)
    finally:
        ctx.store.disconnect()


@pytest.mark.parametrize("how", ["revoke", "role change"])
def test_a_key_revoked_or_given_another_role_closes_its_open_socket_with_4403_within_5_seconds(
    database_file: str, server: Server, how: str
) -> None:
    prefix, key = _own_key(database_file)

    async def attempt() -> tuple[int, str]:
        ws = await connect(server, {"Authorization": f"Bearer {key}"})
        assert json.loads(await asyncio.wait_for(ws.recv(), 15))["type"] == "connection_ack"
        await subscribe(ws, "live")
        await asyncio.sleep(0.3)
        _change_key(database_file, prefix, how)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:  # events may still arrive until the close
                await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None
        return closed.value.rcvd.code, closed.value.rcvd.reason

    code, reason = asyncio.run(attempt())
    assert code == 4403
    assert "revoked" in reason


def test_a_socket_whose_key_stays_valid_stays_open(database_file: str, server: Server) -> None:
    _prefix, key = _own_key(database_file)

    async def attempt() -> str:
        async with await connect(server, {"Authorization": f"Bearer {key}"}) as ws:
            assert json.loads(await asyncio.wait_for(ws.recv(), 15))["type"] == "connection_ack"
            await asyncio.sleep(5)  # two re-checks of the key
            await ws.send(json.dumps({"type": "ping"}))
            return str(json.loads(await asyncio.wait_for(ws.recv(), 15))["type"])

    assert asyncio.run(attempt()) == "pong"


# --- the cap per connection --------------------------------------------------------------------


def test_the_subscription_past_the_cap_gets_too_many_subscriptions_and_a_freed_slot_is_reusable(
    server: Server,
) -> None:
    async def scenario() -> tuple[dict[str, Any], list[str]]:
        now = f'types: ["{FLOOD_TYPE}"], after: "{current_cursor(server.database_url)}"'
        async with await authorised(server) as ws:
            await subscribe(ws, "a", now)
            await subscribe(ws, "b", now)
            await subscribe(ws, "c", now)
            refused = json.loads(await asyncio.wait_for(ws.recv(), 15))
            await ws.send(json.dumps({"id": "a", "type": "complete"}))
            await subscribe(ws, "d", now)  # joining after the commit below loses nothing
            await asyncio.to_thread(flood, server.database_url, 1)
            ops = []
            while len(ops) < 2:
                message = json.loads(await asyncio.wait_for(ws.recv(), 15))
                if message["type"] == "next":
                    ops.append(message["id"])
            return refused, sorted(ops)

    refused, live = asyncio.run(scenario())
    # slots are taken in the order the `subscribe` messages arrive; the refusal is an `error` message
    assert refused["id"] == "c" and refused["type"] == "error", refused
    errors = refused["payload"]
    assert errors[0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
    assert "at most 2 subscriptions" in errors[0]["message"]
    assert live == ["b", "d"]


# --- replay, live, cursors ---------------------------------------------------------------------


def test_every_message_carries_its_cursor_and_a_resubscription_replays_from_it_then_follows_live(
    server: Server,
) -> None:
    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
        now = current_cursor(server.database_url)
        async with await authorised(server) as ws:
            await subscribe(ws, "1", f'types: ["{FLOOD_TYPE}"], after: "{now}"')
            ids = await asyncio.to_thread(flood, server.database_url, 6, 0, 100)
            first = await next_events(ws, 6)
        async with await authorised(server) as ws:
            await subscribe(ws, "1", f'types: ["{FLOOD_TYPE}"], after: "{first[2]["cursor"]}"')
            replayed = await next_events(ws, 3)
            ids += await asyncio.to_thread(flood, server.database_url, 2, 0, 200)
            replayed += await next_events(ws, 2)
        return first, replayed, ids

    first, replayed, ids = asyncio.run(scenario())
    assert [e["id"] for e in first] == ids[:6]
    positions = [decode(e["cursor"]) for e in first + replayed]
    assert all(e["cursor"].startswith("evt_") for e in first + replayed)
    assert positions[:6] == sorted(positions[:6])
    assert [e["id"] for e in replayed] == ids[3:]  # no gap, no duplicate, replay then live


def test_an_expired_cursor_is_refused_with_cursor_expired(server: Server) -> None:
    store = Store(server.database_url)
    try:

        def mark(uow: UnitOfWork) -> None:
            from engine.events.retention import WATERMARK
            from engine.webhooks.fanout import NEVER

            row = uow.Lease.get_for_update(name=WATERMARK)
            if row is None:
                uow.Lease(name=WATERMARK, holder="3", expires_at=NEVER)

        transact(store, mark)
    finally:
        store.disconnect()

    async def attempt() -> dict[str, Any]:
        async with await authorised(server) as ws:
            await subscribe(ws, "old", 'after: "1"')
            return dict(json.loads(await asyncio.wait_for(ws.recv(), 15)))

    message = asyncio.run(attempt())
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "CURSOR_EXPIRED"


def test_a_subscriber_sees_events_committed_through_another_server_process(database_file: str, server: Server) -> None:
    async def scenario(other: Server) -> dict[str, Any]:
        now = current_cursor(server.database_url)
        async with await authorised(server) as ws:
            await subscribe(ws, "1", f'types: ["o2c.customer.created"], after: "{now}"')
            created = await asyncio.to_thread(other.graphql, CREATE, {"ref": "OTHER-PROCESS-1"})
            assert "errors" not in created, created
            (event,) = await next_events(ws, 1)
            assert event["subject"] == f"customers/{created['data']['createCustomer']['id']}"
            return event

    with running_server(database_file) as other:
        event = asyncio.run(scenario(other))
    assert event["type"] == "o2c.customer.created"


# --- slow consumers ----------------------------------------------------------------------------


def test_a_consumer_that_stops_reading_is_closed_with_a_cursor_and_resumes_from_it_with_no_gap(
    server: Server,
) -> None:
    """Here a live buffer holds 20 events and a message may wait 2 s for the consumer. The client
    stops reading (its receive queue and socket buffers fill, then the server's sends block);
    1,500 large events commit; the server closes the connection with 4008 and the cursor of the
    last event it sent. Reading on, the client gets every event up to that cursor, then the
    close; a new subscription after it yields the rest."""

    async def scenario() -> tuple[list[str], list[str], dict[str, Any], list[str]]:
        now = current_cursor(server.database_url)
        ws = await authorised(server, compression=None, max_queue=4)
        await subscribe(ws, "slow", f'types: ["{FLOOD_TYPE}"], after: "{now}"')
        before = metric(server, "o2c_event_slow_consumers_closed")
        ids = await asyncio.to_thread(flood, server.database_url, 1500, 4000, 10_000)
        for _ in range(300):  # the server notices the overflow within a poll or two
            if metric(server, "o2c_event_slow_consumers_closed") > before:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the server never closed the slow consumer")
        received: list[str] = []
        cursors: list[str] = []
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                assert message["type"] == "next", message
                received.append(message["payload"]["data"]["events"]["id"])
                cursors.append(message["payload"]["data"]["events"]["cursor"])
        assert closed.value.rcvd is not None
        close = {"status": closed.value.rcvd.code, **json.loads(closed.value.rcvd.reason)}
        async with await authorised(server) as again:
            await subscribe(again, "resume", f'types: ["{FLOOD_TYPE}"], after: "{close["after"]}"')
            rest = [e["id"] for e in await next_events(again, len(ids) - len(received), 60)]
        assert cursors and close["after"] == cursors[-1]
        return ids, received, close, rest

    ids, received, close, rest = asyncio.run(scenario())
    assert close["status"] == 4008 and close["code"] == "SLOW_CONSUMER"
    assert 0 < len(received) < len(ids)  # it was cut off part-way
    assert received + rest == ids  # nothing lost, nothing twice, in commit order

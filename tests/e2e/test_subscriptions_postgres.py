"""Subscriptions on PostgreSQL across two real `o2c serve` processes: woken by NOTIFY when the
outbox trigger exists (the fallback poll is then set to 10 minutes, so only a NOTIFY can deliver
in time), by the short poll when it does not; replay then live in commit order."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import httpx
import pytest
import websockets
from server_process import Server, running_server

from engine.bootstrap import build_context
from engine.config import Settings
from engine.events.cursor import decode, encode
from engine.events.notify import TRIGGER, install_trigger
from engine.keys import create_key
from engine.queries.events import last_position
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

PROTOCOL = [websockets.Subprotocol("graphql-transport-ws")]
CREATE = """mutation($ref: String!) { createCustomer(input: {externalRef: $ref, name: "Acme",
  segment: "smb", currency: "EUR", creditLimit: "1000.00"}) { id } }"""


def admin_key(url: str) -> str:
    ctx = build_context(Settings(database_url=url), migrate=False)
    try:
        return create_key(ctx, "admin")[1]
    finally:
        ctx.store.disconnect()


def set_trigger(url: str, present: bool) -> None:
    store = Store(url)
    try:
        if present:
            install_trigger(store)
        else:
            with UnitOfWork(store, write=True) as uow:
                uow.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON outbox")
                uow.commit()
    finally:
        store.disconnect()


def current_cursor(url: str) -> str:
    store = Store(url)
    try:
        return encode(last_position(store))
    finally:
        store.disconnect()


async def follow_while_other_commits(subscriber: Server, writer: Server, refs: list[str]) -> list[dict[str, Any]]:
    now = current_cursor(subscriber.database_url)  # after it: joining late loses nothing
    async with websockets.connect(subscriber.ws_url, subprotocols=PROTOCOL) as ws:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {subscriber.key}"}}
        await ws.send(json.dumps(init))
        assert json.loads(await asyncio.wait_for(ws.recv(), 15))["type"] == "connection_ack"
        query = f'subscription {{ events(types: ["o2c.customer.created"], after: "{now}") {{ id cursor subject }} }}'
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        for ref in refs:
            created = await asyncio.to_thread(writer.graphql, CREATE, {"ref": ref})
            assert "errors" not in created, created
        events = []
        while len(events) < len(refs):
            message = json.loads(await asyncio.wait_for(ws.recv(), 20))
            assert message["type"] == "next", message
            events.append(message["payload"]["data"]["events"])
        return events


@pytest.mark.parametrize("trigger", [False, True], ids=["short poll", "notify on commit"])
def test_a_subscriber_on_one_server_receives_what_another_server_commits_in_commit_order(
    pg_database: str, trigger: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_trigger(pg_database, trigger)
    # Both servers read `O2C_*` from the environment. With the trigger, the fallback poll is far
    # longer than the wait below: if NOTIFY wake-ups broke, the events would not arrive in time.
    monkeypatch.setenv("O2C_EVENT_NOTIFY_FALLBACK_SECONDS", "600")
    with running_server(pg_database) as a, running_server(pg_database) as b:
        key = admin_key(pg_database)  # each server replaced the demo key; use one of our own
        subscriber, writer = dataclasses.replace(a, key=key), dataclasses.replace(b, key=key)
        refs = [f"PG-SUB-{trigger}-{k}" for k in range(5)]
        events = asyncio.run(follow_while_other_commits(subscriber, writer, refs))
        notified = [
            line for line in httpx.get(f"{a.url}/metrics").text.splitlines() if line.startswith("o2c_event_hub_n")
        ]
    assert notified == [f"o2c_event_hub_notified {1.0 if trigger else 0.0}"]
    positions = [decode(e["cursor"]) for e in events]
    assert positions == sorted(positions) and len(set(positions)) == 5
    assert len({e["id"] for e in events}) == 5

"""A NUL character (U+0000) in any text the API takes — names, references, notes, descriptions,
search texts, filters, a strategy file's YAML, a subscription's filters — is VALIDATION_FAILED naming
the argument, over real HTTP and over graphql-transport-ws (an `error` message; the socket stays
open), on SQLite and PostgreSQL alike (PostgreSQL refuses NUL in text; SQLite would store it), and
nothing is written."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
import websockets
from fuzz_support import seed_demo
from server_process import Server, row_counts, running_server

pytestmark = pytest.mark.slow

TABLES = ("customer", "invoice", "dispute", "customer_note", "transition_history", "outbox")
NUL = "\x00"

# (operation, variables, the field the error names); $c: a customer id, $i: an invoice id
CASES: list[tuple[str, dict[str, object], str]] = [
    (
        'mutation($t: String!) { createCustomer(input: {externalRef: "NUL-1", name: $t, segment: "smb",'
        ' currency: "EUR", creditLimit: "10.00"}) { id } }',
        {"t": f"Acme{NUL}Ltd"},
        "input.name",
    ),
    (
        'mutation { createCustomer(input: {externalRef: "NUL\\u0000-2", name: "Acme", segment: "smb",'
        ' currency: "EUR", creditLimit: "10.00"}) { id } }',
        {},
        "input.externalRef",
    ),
    (
        "mutation($c: ID!, $t: String!) { issueInvoice(input: {customerId: $c, number: $t,"
        ' amount: {amount: "12.50", currency: "EUR"}, issueDate: "2026-01-01"}) { id } }',
        {"t": f"INV{NUL}"},
        "input.number",
    ),
    ("mutation($c: ID!, $t: String!) { addNote(input: {customerId: $c, text: $t}) { id } }", {"t": NUL}, "input.text"),
    (
        "mutation($i: ID!, $t: String) { openDispute(input: {invoiceId: $i, reasonCode: PRICING,"
        " description: $t}) { id } }",
        {"t": f"price{NUL}"},
        "input.description",
    ),
    ("mutation($i: ID!, $t: String!) { writeOffInvoice(invoiceId: $i, note: $t) { __typename } }", {"t": NUL}, "note"),
    ("query($t: String) { customers(filter: {search: $t}) { totalCount } }", {"t": f"Ac{NUL}"}, "filter.search"),
    ("query($t: String) { invoices(filter: {number: $t}) { totalCount } }", {"t": NUL}, "filter.number"),
    (
        'query($t: String!) { invoices(filter: {segment: ["smb", $t]}) { totalCount } }',
        {"t": f"smb{NUL}"},
        "filter.segment[1]",
    ),
    ("mutation($t: String!) { validateStrategy(source: $t) { ok } }", {"t": f"strategy: x{NUL}\n"}, "source"),
]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('nul')}/o2c.sqlite"
        seed_demo(url)
    else:
        url = request.getfixturevalue("pg_database")
    with running_server(url, extra_env={"O2C_SCHEDULER": "0"}) as running:  # no cycle writing meanwhile
        yield running


def test_a_nul_in_any_text_is_validation_failed_naming_the_field_and_writes_nothing(server: Server) -> None:
    customer = server.graphql(
        'mutation { createCustomer(input: {externalRef: "NUL-OK", name: "Valid", segment: "smb",'
        ' currency: "EUR", creditLimit: "10.00"}) { id } }'
    )["data"]["createCustomer"]["id"]
    invoice = server.graphql(
        'mutation($c: ID!) { issueInvoice(input: {customerId: $c, number: "NUL-OK-1",'
        ' amount: {amount: "12.50", currency: "EUR"}, issueDate: "2026-01-01"}) { id } }',
        {"c": customer},
    )["data"]["issueInvoice"]["id"]
    before = row_counts(server.database_url, TABLES)

    for query, variables, field in CASES:
        needed = {k: v for k, v in (("c", customer), ("i", invoice)) if f"${k}:" in query}
        answer = server.graphql(query, {**variables, **needed})  # HTTP 200: raises otherwise

        errors = answer.get("errors") or []
        assert [e["extensions"]["code"] for e in errors] == ["VALIDATION_FAILED"], (query, answer)
        assert errors[0]["extensions"]["field"] == field, (query, answer)
        assert "NUL" in errors[0]["message"]

    assert row_counts(server.database_url, TABLES) == before


# Operations sent over graphql-transport-ws: (document, variables, the field the error names)
OVER_WEBSOCKET: list[tuple[str, dict[str, object], str]] = [
    (
        "subscription($t: [String!]) { events(types: $t) { id } }",
        {"t": ["o2c.invoice.state_changed", f"o2c.invoice{NUL}"]},
        "types[1]",
    ),
    ("subscription($s: String) { events(subject: $s) { id } }", {"s": f"invoice/1{NUL}"}, "subject"),
    ("subscription($a: String) { events(after: $a) { id } }", {"a": f"1{NUL}"}, "after"),
    ('subscription { events(subject: "invoice/\\u0000") { id } }', {}, "subject"),
    ("query($t: String) { customers(filter: {search: $t}) { totalCount } }", {"t": NUL}, "filter.search"),
]


async def _over_websocket(server: Server, query: str, variables: dict[str, object]) -> list[dict]:
    """Every message the server sends for one `subscribe`, until it says `error` or `complete`."""
    async with websockets.connect(server.ws_url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {server.key}"}}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 15))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}))
        messages = [json.loads(await asyncio.wait_for(ws.recv(), 15))]
        while messages[-1]["type"] == "next":
            messages.append(json.loads(await asyncio.wait_for(ws.recv(), 15)))
        await ws.send(json.dumps({"type": "ping"}))  # the socket stays open for the next operation
        assert json.loads(await asyncio.wait_for(ws.recv(), 15))["type"] == "pong"
        return messages


def test_a_nul_in_a_subscriptions_arguments_is_an_error_message_naming_the_field_and_the_socket_stays_open(
    server: Server,
) -> None:
    for query, variables, field in OVER_WEBSOCKET:
        messages = asyncio.run(_over_websocket(server, query, variables))

        assert [m["type"] for m in messages] == ["error"], (query, messages)
        (error,) = messages[0]["payload"]
        assert error["extensions"] == {"code": "VALIDATION_FAILED", "field": field}, (query, error)
        assert "NUL" in error["message"] and NUL not in error["message"]


BAD_ARGUMENTS = [
    ('subscription { events(types: ["o2c.nope"]) { id } }', "types"),
    ('subscription { events(after: "not a cursor") { id } }', "after"),
    ('subscription { events(customerId: "0") { id } }', "customerId"),
]


def test_a_bad_subscription_argument_without_nul_is_the_same_error_message(server: Server) -> None:
    for query, field in BAD_ARGUMENTS:
        messages = asyncio.run(_over_websocket(server, query, {}))

        assert [m["type"] for m in messages] == ["error"], (query, messages)
        assert messages[0]["payload"][0]["extensions"] == {"code": "VALIDATION_FAILED", "field": field}, query

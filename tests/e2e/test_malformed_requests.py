"""Requests no GraphQL client should send get HTTP 400 or 413, never a 500: bodies that are not a
JSON object, not UTF-8, nested thousands deep or larger than `O2C_MAX_BODY_BYTES`; and a document
with several operations but no `operationName` is an error, not "run the first one"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from server_process import Server, running_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path = Path(tmp_path_factory.mktemp("malformed")) / "o2c.sqlite"
    with running_server(f"sqlite:///{path}") as running:
        yield running


def _post(server: Server, body: bytes) -> httpx.Response:
    headers = {"Authorization": f"Bearer {server.key}", "Content-Type": "application/json"}
    return httpx.post(f"{server.url}/graphql", content=body, headers=headers, timeout=30)


NESTED = b'{"query": "{ __typename }", "variables": {"v": ' + b"[" * 5000 + b"]" * 5000 + b"}}"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"null", "JSON object"),
        (b'"a string"', "JSON object"),
        (b"42", "JSON object"),
        (b'{"query": "\xff\xfe"}', "UTF-8"),
        (NESTED, "nested deeper"),
        (b'{"query": "{ __typename }", "variables": ' + b'{"a":' * 100 + b"1" + b"}" * 101, "nested deeper"),
        (b"{not json", "JSON"),
    ],
    ids=["null", "bare string", "number", "invalid UTF-8", "5000 deep", "100 deep objects", "not JSON"],
)
def test_a_malformed_body_is_http_400_naming_the_problem(server: Server, body: bytes, says: str) -> None:
    response = _post(server, body)
    assert response.status_code == 400, response.text
    assert says in response.text


def test_a_body_over_the_limit_is_http_413_and_a_smaller_one_still_works(server: Server) -> None:
    padding = b"x" * (1024 * 1024)
    response = _post(server, b'{"query": "{ __typename }", "extensions": {"pad": "' + padding + b'"}}')
    assert response.status_code == 413
    assert "O2C_MAX_BODY_BYTES" in response.text
    assert _post(server, b'{"query": "{ __typename }"}').json() == {"data": {"__typename": "Query"}}


def test_a_chunked_body_over_the_limit_is_refused_without_a_content_length(server: Server) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"query": "{ __typename }", "extensions": {"pad": "'
        for _ in range(20):
            yield b"x" * 100_000
        yield b'"}}'

    headers = {"Authorization": f"Bearer {server.key}", "Content-Type": "application/json"}
    response = httpx.post(f"{server.url}/graphql", content=chunks(), headers=headers, timeout=30)
    assert response.status_code == 413


def test_several_operations_without_an_operation_name_are_an_error_not_the_first_one(server: Server) -> None:
    query = "query A { __typename } mutation B { reloadStrategies { ok } }"
    body = server.graphql(query)
    assert body["data"] is None
    assert "operationName" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    named = httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "operationName": "A"},
        headers={"Authorization": f"Bearer {server.key}"},
    ).json()
    assert named == {"data": {"__typename": "Query"}}


def test_a_websocket_message_over_the_limit_closes_the_socket_with_1009(server: Server) -> None:
    import asyncio

    import websockets

    async def attempt() -> int:
        protocol = [websockets.Subprotocol("graphql-transport-ws")]
        async with websockets.connect(server.ws_url, subprotocols=protocol, max_size=None) as ws:
            await ws.send('{"type": "connection_init", "payload": {"pad": "' + "x" * (2 * 1024 * 1024) + '"}}')
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 15)
            assert closed.value.rcvd is not None
            return closed.value.rcvd.code

    assert asyncio.run(attempt()) == 1009

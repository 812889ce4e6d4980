"""Fuzzing the real server: operations generated from the checked-in SDL (hypothesis-graphql),
valid and invalid, sent with an admin key to `o2c serve` on SQLite and PostgreSQL. No answer may
be an HTTP 5xx or an `INTERNAL` error. `O2C_TEST_FUZZ_EXAMPLES` sets the count (default 400 per store);
`benchmarks/fuzz.py --minutes N` runs longer and prints the tally."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest
from fuzz_support import Tally, all_operations, seed_demo, send
from hypothesis import HealthCheck, given, settings
from server_process import Server, running_server

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("O2C_TEST_FUZZ_EXAMPLES", "400"))


@pytest.fixture
def server(database_url: str) -> Iterator[Server]:
    seed_demo(database_url)
    with running_server(database_url) as running:
        yield running


def test_no_generated_operation_gets_a_server_error_or_an_internal_error(server: Server) -> None:
    tally = Tally()
    with httpx.Client() as client:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        )
        @given(all_operations())
        def one_operation(query: str) -> None:
            problem = tally.judge(query, send(client, server.url, server.key, query))
            assert problem is None, f"{problem}\nquery: {query}"

        one_operation()
    assert tally.requests >= EXAMPLES

"""`O2C_LOG_FORMAT=json` on a real `o2c serve`: one JSON object per line, and a request's lines carry
its correlation id (the client's `X-Correlation-Id`, sent back), the actor and the operation."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from server_process import running_server

pytestmark = pytest.mark.slow


def test_each_log_line_is_json_and_a_requests_lines_carry_its_correlation_id_actor_and_operation(
    tmp_path: Path,
) -> None:
    with running_server(f"sqlite:///{tmp_path / 'o2c.sqlite'}", extra_env={"O2C_LOG_FORMAT": "json"}) as server:
        response = httpx.post(
            f"{server.url}/graphql",
            json={"query": "query Ping { __typename }", "operationName": "Ping"},
            headers={"Authorization": f"Bearer {server.key}", "X-Correlation-Id": "trace-me-42"},
        )
        assert response.headers["x-correlation-id"] == "trace-me-42"
        fresh = httpx.get(f"{server.url}/healthz").headers["x-correlation-id"]
        assert len(fresh) == 16 and fresh != "trace-me-42"  # made up when the client sends none
        deadline = time.monotonic() + 10  # a bound, not a timing assertion
        while not any("trace-me-42" in line for line in server.output) and time.monotonic() < deadline:
            time.sleep(0.1)
        lines = [line for line in list(server.output) if line.strip()]
    records = [json.loads(line) for line in lines]  # every line parses
    assert all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    (access,) = [r for r in records if r["correlationId"] == "trace-me-42"]
    assert "POST /graphql" in access["message"] and access["logger"] == "uvicorn.access"
    assert access["actor"] == f"key:{server.key.split('_')[1]}"  # o2c_PREFIX_SECRET: the prefix names the key
    assert access["operation"] == "graphql:Ping"

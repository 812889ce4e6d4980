"""OpenTelemetry is optional: with the SDK (the `[otel]` extra) the cycle, its chunks, GraphQL
operations and webhook deliveries are spans and the events they write carry the span's traceparent;
without it the same code runs and writes no traceparent. Each case runs in a process of its own
(a tracer provider is global to a process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from webhook_receiver import running_receiver

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def test_spans_cover_the_cycle_its_chunks_graphql_and_webhooks_and_events_carry_their_traceparent(
    tmp_path: Path,
) -> None:
    with running_receiver() as receiver:
        run = subprocess.run(
            [sys.executable, str(HERE / "traced_run.py"), f"sqlite:///{tmp_path / 'o2c.sqlite'}", receiver.url],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        assert len(receiver.received) == 1
    out = json.loads(run.stdout.strip().splitlines()[-1])
    spans = out["spans"]
    by_name: dict[str, list[dict[str, object]]] = {}
    for span in spans:
        by_name.setdefault(str(span["name"]), []).append(span)
    (cycle,) = by_name["o2c.cycle"]
    chunks = by_name["o2c.cycle.chunk"]
    assert len(chunks) >= 2 and all(c["parent"] == cycle["span_id"] for c in chunks)  # chunks of 1 invoice
    assert all(c["trace_id"] == cycle["trace_id"] for c in chunks)
    (operation,) = by_name["graphql.operation"]
    assert operation["attributes"] == {"graphql.operation.name": "Create", "graphql.operation.type": "mutation"}
    (delivery,) = by_name["o2c.webhook.deliver"]
    assert delivery["attributes"]["http.response.status_code"] == 200
    assert delivery["attributes"]["o2c.event.type"] == "o2c.customer.created"

    def parent(span: dict[str, object]) -> str:
        return f"00-{span['trace_id']}-{span['span_id']}"  # the trace flags after it vary (sampled, random id)

    for event in out["events"]:
        event["traceparent"] = event["traceparent"] and event["traceparent"][:-3]

    batches = by_name["o2c.notice.send_batch"]
    sends = by_name["o2c.notice.send"]
    batch_ids = {b["span_id"] for b in batches}
    assert sends and all(s["parent"] in batch_ids for s in sends)
    assert {s["attributes"]["o2c.channel"] for s in sends} == {"email"}
    assert all(s["attributes"]["o2c.notice.outcome"] == "sent" for s in sends)

    chunk_parents = {parent(c) for c in chunks}
    batch_parents = {parent(b) for b in batches}
    # accounts are written in the cycle's span; notices' sent events in their batch's span
    known = chunk_parents | batch_parents | {parent(cycle), parent(operation), None}
    assert all(e["traceparent"] in known for e in out["events"])
    by_chunk = [e["type"] for e in out["events"] if e["traceparent"] in chunk_parents]
    assert "o2c.invoice.state_changed" in by_chunk
    assert {e["type"] for e in out["events"] if e["traceparent"] in batch_parents} >= {"o2c.notice.sent"}
    (created,) = [e for e in out["events"] if e["type"] == "o2c.customer.created" and e["traceparent"]]
    assert created["traceparent"] == parent(operation)
    issued = [e for e in out["events"] if e["type"] == "o2c.invoice.issued"]
    assert issued and all(e["traceparent"] is None for e in issued)  # the demo wrote them outside any span


def test_without_opentelemetry_installed_the_service_runs_and_writes_no_traceparent(tmp_path: Path) -> None:
    script = f"""
import sys
sys.modules["opentelemetry"] = None  # as if the [otel] extra were not installed
from engine import tracing
assert not tracing.available() and tracing.traceparent() is None
with tracing.span("o2c.cycle", {{"o2c.partition": 1}}) as current:
    tracing.set_attribute(current, "k", 1)
from datetime import date
from pathlib import Path
from engine.bootstrap import build_service
from engine.config import Settings
from engine.cycle.runner import run_cycle
from engine.demo import load_demo
from engine.store.unit_of_work import read_only
from engine.strategies_in_force import load_registry
service = build_service(Settings(database_url="sqlite:///{tmp_path / "o2c.sqlite"}", today="2026-03-02"))
load_demo(service, seed=7, customers=5, invoices=30)
run_cycle(service.ctx, load_registry(Path("strategies")).current, date(2026, 3, 2))
with read_only(service.ctx.store) as uow:
    rows = uow.select("SELECT data FROM outbox")
assert rows and not any("traceparent" in str(d) for d in rows)
try:
    tracing.configure("console")
except Exception as exc:
    print("refused:", exc)
"""
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "refused:" in run.stdout and "pip install 'o2c-engine[otel]'" in run.stdout

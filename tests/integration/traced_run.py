"""Run in a subprocess by test_tracing.py (a tracer provider is global to a process): the daily cycle,
a GraphQL mutation and a webhook delivery under the OpenTelemetry SDK with an in-memory exporter.
Prints one JSON object: the finished spans and the traceparent of every event written."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import date
from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)

from api.app import GraphQLApp  # noqa: E402  (after the provider: nothing caches a tracer early)
from engine.bootstrap import build_service  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.cycle.runner import run_cycle  # noqa: E402
from engine.demo import load_demo  # noqa: E402
from engine.keys import Principal  # noqa: E402
from engine.notices.mail import FileMail  # noqa: E402
from engine.notices.render import render_due  # noqa: E402
from engine.notices.send import send_due  # noqa: E402
from engine.notices.templates import load as load_templates  # noqa: E402
from engine.store.unit_of_work import read_only  # noqa: E402
from engine.strategies_in_force import load_registry  # noqa: E402
from engine.webhooks.dispatcher import Dispatcher  # noqa: E402
from engine.webhooks.endpoints import register  # noqa: E402
from schema.context import make_context  # noqa: E402

database, receiver_url = sys.argv[1], sys.argv[2]
strategies = Path(__file__).resolve().parents[2] / "strategies"
service = build_service(Settings(database_url=database, today="2026-03-02"))
ctx = service.ctx
load_demo(service, seed=7, customers=40, invoices=300)
registry = load_registry(strategies)
run_cycle(ctx, registry.current, date(2026, 3, 2), chunk_size=1)  # one invoice per chunk

register(ctx.store, receiver_url, ctx.now(), ["o2c.customer.created"], allow_private=True)  # from here on: delivered
app = GraphQLApp(ctx, registry, ())
context = make_context(ctx, Principal(1, "tracer", "admin", "tracer"), auth_error=None)
mutation = (
    'mutation Create { createCustomer(input: {externalRef: "T-1", name: "Traced", segment: "smb", '
    'currency: "EUR", creditLimit: "10.00"}) { id } }'
)
result = asyncio.run(app.schema.execute(mutation, context_value=context, operation_name="Create"))
assert result.errors is None, result.errors

# the messages the cycle requested: rendered, then sent as .eml files (spans per batch and message)
render_due(ctx, registry.current)
mail_dir = Path(database.removeprefix("sqlite:///")).parent / "mail"
send_due(ctx.store, load_templates(ctx.settings.templates_dir), registry.current,
         {"email": FileMail(str(mail_dir), "credit@o2c.invalid", None)}, ctx.now())  # fmt: skip

dispatcher = Dispatcher(ctx.store, clock=ctx.clock, allow_private=True)
while dispatcher.run_once():
    pass
dispatcher.close()

with read_only(ctx.store) as uow:
    rows = uow.select("SELECT type, data FROM outbox ORDER BY id")
events = [{"type": t, "traceparent": (d if isinstance(d, dict) else json.loads(d)).get("traceparent")} for t, d in rows]
spans = [
    {
        "name": s.name,
        "trace_id": format(s.context.trace_id, "032x"),
        "span_id": format(s.context.span_id, "016x"),
        "parent": format(s.parent.span_id, "016x") if s.parent else None,
        "attributes": dict(s.attributes or {}),
    }
    for s in exporter.get_finished_spans()
]
print(json.dumps({"spans": spans, "events": events}))

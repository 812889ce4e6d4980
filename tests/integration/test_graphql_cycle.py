"""`runCycle` through the real schema on SQLite and PostgreSQL: a dry run reports and writes
nothing, a real run applies, a second run of the date applies nothing new, only admins may run
it, and a context built with the registry re-evaluates a changed invoice at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cycle_support import STRATEGIES, Portfolio, clear_cycle_tables, counts, history, rows
from graphql_harness import SCHEMA, codes, data
from prometheus_client import CollectorRegistry, generate_latest
from strawberry.types import ExecutionResult

from api.metrics import DatabaseCollector, read_recorded
from engine.keys import Principal
from engine.rules.registry import Registry
from engine.service import Collections
from engine.services.context import Context
from engine.store.database import Store
from schema.context import make_context

RUN = """mutation($asOf: Date, $dryRun: Boolean) { runCycle(asOf: $asOf, dryRun: $dryRun) {
  businessDate dryRun alreadyDone invoicesEvaluated applied notices tasks holdsPlaced holdsReleased
  conflicts refused byRule { rule count } wallS } }"""


def run_with(
    ctx: Context, registry: Registry, query: str, variables: dict[str, Any] | None = None, role: str = "admin"
) -> ExecutionResult:
    context = make_context(ctx, Principal(1, "testkey", role, f"{role} tester"), registry=registry)
    return asyncio.run(SCHEMA.execute(query, variable_values=variables, context_value=context))


@pytest.fixture(autouse=True)
def _clean(store: Store) -> None:
    clear_cycle_tables(store)


@pytest.fixture(scope="module")
def registry() -> Registry:
    registry = Registry(Path(STRATEGIES))
    assert registry.reload().ok
    return registry


@pytest.fixture
def book(service: Collections) -> Portfolio:
    book = Portfolio(service, service.ctx.today())
    book.customer("smb-low", "smb", "low")
    book.customer("smb-high", "smb", "high")
    for days in (5, 12, 40):
        book.invoice("smb-low", days)
        book.invoice("smb-high", days)
    book.invoice("smb-high", -5)  # a pre-due reminder
    return book


def test_a_dry_run_reports_what_would_happen_and_writes_nothing(
    ctx: Context, registry: Registry, book: Portfolio
) -> None:
    before = counts(ctx.store)
    report = data(run_with(ctx, registry, RUN, {"dryRun": True}))["runCycle"]
    assert report["dryRun"] is True and report["alreadyDone"] is False
    assert report["applied"] > 0 and report["notices"] > 0
    assert report["byRule"] and all(r["count"] > 0 for r in report["byRule"])
    assert counts(ctx.store) == before


def test_a_real_run_applies_once_per_business_date(ctx: Context, registry: Registry, book: Portfolio) -> None:
    dry = data(run_with(ctx, registry, RUN, {"dryRun": True}))["runCycle"]
    report = data(run_with(ctx, registry, RUN))["runCycle"]
    assert report["businessDate"] == ctx.today().isoformat() and report["dryRun"] is False
    assert report["applied"] > 0 and report["notices"] > 0 and report["wallS"] >= 0
    assert (report["applied"], report["notices"], report["byRule"]) == (dry["applied"], dry["notices"], dry["byRule"])
    assert rows(ctx.store, "SELECT status FROM cycle_run") == ["done"]

    again = data(run_with(ctx, registry, RUN, {"asOf": ctx.today().isoformat()}))["runCycle"]
    assert again["alreadyDone"] is True and again["applied"] == 0


def test_only_a_dry_run_may_look_at_a_future_date(ctx: Context, registry: Registry, book: Portfolio) -> None:
    tomorrow = (ctx.today() + timedelta(days=1)).isoformat()
    refused = run_with(ctx, registry, RUN, {"asOf": tomorrow})
    assert codes(refused) == ["VALIDATION_FAILED"]
    assert refused.errors is not None and refused.errors[0].extensions == {"code": "VALIDATION_FAILED", "field": "asOf"}
    assert rows(ctx.store, "SELECT COUNT(*) FROM cycle_run") == [0]
    assert data(run_with(ctx, registry, RUN, {"asOf": tomorrow, "dryRun": True}))["runCycle"]["dryRun"] is True


@pytest.mark.parametrize("role", ["viewer", "collector", "policy", "integrator"])
def test_only_admins_may_run_the_cycle(ctx: Context, registry: Registry, role: str) -> None:
    assert codes(run_with(ctx, registry, RUN, {"dryRun": True}, role=role)) == ["FORBIDDEN"]


PAY = """mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { id } }"""


def test_with_the_registry_a_partial_payment_re_evaluates_the_invoice_at_once(
    ctx: Context, registry: Registry, service: Collections
) -> None:
    book = Portfolio(service, ctx.today())
    customer = book.customer("smb-low", "smb", "low")
    invoice = book.invoice("smb-low", 5)  # past smb-standard's grace: the cycle would dun it
    payment = {
        "customerId": str(customer),
        "reference": "P-1",
        "amount": {"amount": "10.00", "currency": "EUR"},
        "receivedOn": ctx.today().isoformat(),
        "allocations": [{"invoiceId": str(invoice), "amount": "10.00"}],
    }
    data(run_with(ctx, registry, PAY, {"input": payment}, role="collector"))
    by_rules = [h for h in history(ctx.store, invoice) if h["actor"] == "rule:cycle"]
    assert by_rules, "the payment should have re-evaluated the invoice through the strategies in force"
    assert by_rules[-1]["cause"]["strategy"] == "smb-standard"


def test_the_metrics_collector_reads_transitions_and_the_last_cycle_from_the_database(
    ctx: Context, registry: Registry, book: Portfolio
) -> None:
    report = data(run_with(ctx, registry, RUN))["runCycle"]
    recorded = read_recorded(ctx.store)
    transitions = {(m, t): n for m, t, n in recorded.transitions}
    assert transitions[("invoice", "issue")] == 7
    assert transitions[("invoice", "dun")] >= 1
    assert recorded.last_cycle is not None
    assert recorded.last_cycle["business_date"] == ctx.today().isoformat()
    assert recorded.last_cycle["stats"]["applied"] == report["applied"]
    assert recorded.rule_hits == {r["rule"]: r["count"] for r in report["byRule"]}
    text = generate_latest_for(DatabaseCollector(ctx.store))
    assert 'o2c_transitions_recorded{machine="invoice",trigger="issue"} 7.0' in text
    assert "o2c_cycle_last_duration_seconds" in text and "o2c_metrics_database_up 1.0" in text


def generate_latest_for(collector: DatabaseCollector) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return generate_latest(registry).decode()


def test_the_metrics_collector_counts_webhook_deliveries_by_status(
    ctx: Context, registry: Registry, book: Portfolio
) -> None:
    from engine.webhooks.endpoints import register
    from engine.webhooks.fanout import fan_out

    register(ctx.store, "http://127.0.0.1:9/hook", ctx.now(), allow_private=True)  # hears what comes after it
    data(run_with(ctx, registry, RUN))
    queued = fan_out(ctx.store, ctx.now())
    assert queued > 0
    recorded = read_recorded(ctx.store)
    assert dict(recorded.deliveries) == {"pending": queued}
    text = generate_latest_for(DatabaseCollector(ctx.store))
    assert f'o2c_webhook_deliveries{{status="pending"}} {float(queued)}' in text

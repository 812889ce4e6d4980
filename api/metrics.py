"""Prometheus metrics (`GET /metrics`). One registry per process for in-process metrics, owned here,
plus per app a collector that reads what the database has recorded at scrape time.

Why gauges from the database rather than counters in this process: transitions and cycles are
written by every process (API replicas, `o2c worker`, `o2c cycle`), and survive restarts. A counter
here would see only this process's share and reset on restart; the database sees all of it. So
`o2c_transitions_recorded{machine,trigger}` is the number of rows in the append-only history (it
only grows, but it is a gauge: any replica reports the same total), and the last finished cycle's
duration and decisions by rule come from its `cycle_run` row. Those queries are cached for a few
seconds so that frequent scrapes cost one aggregate query per TTL.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client import Counter as PromCounter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from strawberry.extensions import SchemaExtension

from engine.kpi_history import latest
from engine.store.database import Store
from engine.store.unit_of_work import read_only
from engine.webhooks.fanout import fanout_position

log = logging.getLogger("o2c.api.metrics")

REGISTRY = CollectorRegistry()
# The conventional process_* (CPU, memory, open files, start time) and python_* (version, GC) series.
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

GRAPHQL_LATENCY = Histogram(
    "o2c_graphql_operation_seconds",
    "Time to execute one GraphQL operation (subscriptions: their whole life).",
    ["operation"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
GRAPHQL_REQUESTS = PromCounter(
    "o2c_graphql_operations_total",
    "GraphQL operations by type and outcome (ok, error).",
    ["operation", "outcome"],
    registry=REGISTRY,
)


class GraphQLMetrics(SchemaExtension):
    """Observes every operation's latency and whether it returned errors."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        elapsed = time.perf_counter() - started
        try:
            operation = self.execution_context.operation_type.value
        except Exception:  # unparsable document: no operation type to report
            operation = "invalid"
        result = self.execution_context.result
        errors = getattr(result, "errors", None) or self.execution_context.pre_execution_errors
        GRAPHQL_LATENCY.labels(operation).observe(elapsed)
        GRAPHQL_REQUESTS.labels(operation, "error" if errors else "ok").inc()


@dataclass(frozen=True)
class Recorded:
    """One read of the database's aggregates."""

    transitions: list[tuple[str, str, int]] = field(default_factory=list)  # machine, trigger, rows
    last_cycle: dict[str, Any] | None = None  # business_date, duration_s, finished_at, stats
    rule_hits: dict[str, int] = field(default_factory=dict)  # over every finished cycle
    deliveries: list[tuple[str, int]] = field(default_factory=list)  # webhook deliveries by status
    attempts: list[tuple[str, int]] = field(default_factory=list)  # webhook attempts by outcome
    outbox_position: int = 0  # the newest event's position
    fanout_position: int | None = None  # the last event fanned out to webhook deliveries (None: no endpoint yet)
    notices: list[tuple[str, str, int]] = field(default_factory=list)  # messages by channel used and state


def _stats(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):  # SQLite keeps JSON as text; PostgreSQL hands back a dict
        raw = json.loads(raw or "{}")
    return dict(raw or {})


def _instant(raw: Any) -> datetime | None:
    if raw is None or isinstance(raw, datetime):
        return raw
    return datetime.fromisoformat(str(raw))


def read_recorded(store: Store) -> Recorded:
    """Blocking (Pony): call off the event loop."""
    with read_only(store) as uow:
        transitions = uow.select(
            'SELECT entity_type, "trigger", COUNT(*) FROM transition_history GROUP BY entity_type, "trigger"'
        )
        deliveries = uow.select("SELECT status, COUNT(*) FROM webhook_delivery GROUP BY status")
        attempts = uow.select(
            "SELECT CASE WHEN status_code BETWEEN 200 AND 299 THEN 'success' WHEN status_code IS NULL "
            "THEN 'network_error' ELSE 'http_error' END AS outcome, COUNT(*) FROM webhook_attempt GROUP BY 1"
        )
        newest = uow.select("SELECT MAX(id) FROM outbox")[0]  # one column: a list of values
        notices = uow.select(
            "SELECT COALESCE(via, channel), state, COUNT(*) FROM notice_message GROUP BY COALESCE(via, channel), state"
        )
        runs = uow.select(
            "SELECT business_date, started_at, finished_at, stats FROM cycle_run "
            "WHERE status = 'done' ORDER BY finished_at DESC, business_date DESC"
        )
    hits: Counter[str] = Counter()
    last: dict[str, Any] | None = None
    for business_date, started, finished, raw in runs:
        stats = _stats(raw)
        hits.update({str(k): int(v) for k, v in dict(stats.get("by_rule") or {}).items()})
        if last is None:
            start, end = _instant(started), _instant(finished)
            last = {
                "business_date": str(business_date)[:10],
                # the runner's own wall time; the stored timestamps come from the (settable) clock
                "duration_s": float(stats["wall_s"])
                if "wall_s" in stats
                else ((end - start).total_seconds() if start and end else None),
                "stats": stats,
            }
    return Recorded(
        [(str(m), str(t), int(n)) for m, t, n in transitions],
        last,
        dict(hits),
        [(str(st), int(n)) for st, n in deliveries],
        [(str(o), int(n)) for o, n in attempts],
        int(newest or 0),
        fanout_position(store),
        [(str(c), str(st), int(n)) for c, st, n in notices],
    )


class DatabaseCollector(Collector):
    """Gauges of what the database has recorded, read at scrape time (cached for `ttl` seconds)."""

    def __init__(self, store: Store, ttl: float = 10.0) -> None:
        self.store, self.ttl = store, ttl
        self._lock = threading.Lock()
        self._cached: tuple[float, Recorded] | None = None

    def recorded(self) -> Recorded:
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] >= self.ttl:
                self._cached = (now, read_recorded(self.store))
            return self._cached[1]

    def describe(self) -> Iterable[Metric]:
        return []  # no read at registration time

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("o2c_metrics_database_up", "1 when the database aggregates below could be read.")
        try:
            recorded = self.recorded()
        except Exception:  # a scrape reports, it does not fail: the process metrics still count
            log.warning("metrics: reading the database failed", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        transitions = GaugeMetricFamily(
            "o2c_transitions_recorded",
            "Transitions in the history, by machine and trigger (every process's, from the database).",
            labels=["machine", "trigger"],
        )
        for machine, trigger, count in recorded.transitions:
            transitions.add_metric([machine, trigger], count)
        yield transitions
        hits = GaugeMetricFamily(
            "o2c_rule_hits_recorded",
            "Decisions of the daily cycle by strategy/rule, summed over every finished cycle.",
            labels=["rule"],
        )
        for rule, count in sorted(recorded.rule_hits.items()):
            hits.add_metric([rule], count)
        yield hits
        deliveries = GaugeMetricFamily(
            "o2c_webhook_deliveries", "Webhook deliveries by status (pending, succeeded, dead).", labels=["status"]
        )
        for status, count in recorded.deliveries:
            deliveries.add_metric([status], count)
        yield deliveries
        attempts = GaugeMetricFamily(
            "o2c_webhook_attempts", "Webhook delivery attempts by outcome.", labels=["outcome"]
        )
        for outcome, count in recorded.attempts:
            attempts.add_metric([outcome], count)
        yield attempts
        outbox = GaugeMetricFamily("o2c_outbox_position", "Position (id) of the newest event in the outbox.")
        outbox.add_metric([], recorded.outbox_position)
        yield outbox
        fanned = GaugeMetricFamily(
            "o2c_webhook_fanout_position",
            "Position of the last event turned into webhook deliveries; o2c_outbox_position minus this is the "
            "webhook lag in events (absent until an endpoint is registered).",
        )
        if recorded.fanout_position is not None:
            fanned.add_metric([], recorded.fanout_position)
        yield fanned
        messages = GaugeMetricFamily(
            "o2c_notices",
            "Messages to customers by channel (the one used once rendered) and state: sent, bounced, failed, "
            "queued (a channel not configured keeps them there), …",
            labels=["channel", "state"],
        )
        for channel, state, count in recorded.notices:
            messages.add_metric([channel, state], count)
        yield messages
        last = recorded.last_cycle
        duration = GaugeMetricFamily(
            "o2c_cycle_last_duration_seconds",
            "Wall time of the last finished daily cycle, from its start to its finish (a resumed run "
            "counts from its first start).",
        )
        last_hits = GaugeMetricFamily(
            "o2c_cycle_last_rule_hits", "Decisions by strategy/rule in the last finished daily cycle.", labels=["rule"]
        )
        last_done = GaugeMetricFamily(
            "o2c_cycle_last_business_date_seconds", "The last finished cycle's business date (Unix time, midnight UTC)."
        )
        applied = GaugeMetricFamily(
            "o2c_cycle_last_applied", "Transitions, notices and tasks of the last finished cycle.", labels=["kind"]
        )
        if last is not None:
            if last["duration_s"] is not None:
                duration.add_metric([], last["duration_s"])
            day = datetime.fromisoformat(last["business_date"] + "T00:00:00+00:00")
            last_done.add_metric([], day.timestamp())
            stats = last["stats"]
            for rule, count in sorted(dict(stats.get("by_rule") or {}).items()):
                last_hits.add_metric([str(rule)], int(count))
            for kind in ("applied", "notices", "tasks"):
                applied.add_metric([kind], int(stats.get(kind, 0)))
        yield from (duration, last_hits, last_done, applied)


class SubscriptionCollector(Collector):
    """Gauges of this process's event subscriptions (engine/events/hub.py), read at scrape time."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        from engine.events.hub import existing_hubs

        stats = [h.stats() for h in existing_hubs(self.store)]
        gauges = (
            ("o2c_event_subscribers", "Live event subscribers in this process.", "subscribers"),
            ("o2c_event_subscriber_buffered", "Events waiting in subscriber buffers.", "buffered"),
            ("o2c_event_subscriber_overflows", "Live buffers that overflowed (caught up from the log).", "overflows"),
            ("o2c_event_slow_consumers_closed", "Connections closed for not reading (4008).", "slow_consumers"),
            ("o2c_event_hub_reads", "Outbox reads by the shared event reader since start.", "reads"),
            ("o2c_event_hub_notified", "1 when the event reader wakes on NOTIFY at commit (PostgreSQL).", "listening"),
        )
        for name, doc, attr in gauges:
            gauge = GaugeMetricFamily(name, doc)
            gauge.add_metric([], sum(int(getattr(s, attr)) for s in stats))
            yield gauge


class KpiCollector(Collector):
    """The newest KPI snapshot (engine/kpi_history) as gauges, labelled by currency, dimension (all,
    segment, strategy) and key; read at scrape time, cached for `ttl` seconds."""

    FIGURES = (
        ("o2c_kpi_open_receivables_minor", "Open receivables in minor units.", "open_receivables"),
        ("o2c_kpi_current_percent", "Current (not yet due) share of open receivables, percent.", "pct_current"),
        ("o2c_kpi_countback_dso_days", "Countback DSO in days.", "countback_dso"),
        ("o2c_kpi_promise_kept_ratio", "Kept / decided promises to pay of the last 90 days.", "promise_kept_rate"),
        ("o2c_kpi_unapplied_cash_minor", "Unapplied cash in minor units.", "unapplied_cash"),
        ("o2c_kpi_dispute_cycle_days", "Mean days to resolve a dispute (last 90 days).", "dispute_cycle_days"),
        ("o2c_kpi_open_disputes", "Open disputes.", "open_disputes"),
    )

    def __init__(self, store: Store, ttl: float = 10.0) -> None:
        self.store, self.ttl = store, ttl
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Any]] | None = None

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        try:
            with self._lock:
                now = time.monotonic()
                if self._cached is None or now - self._cached[0] >= self.ttl:
                    self._cached = (now, latest(self.store))
                rows = self._cached[1]
        except Exception:  # reported by o2c_metrics_database_up's collector; a scrape never fails
            log.warning("metrics: reading the KPI snapshot failed", exc_info=True)
            return
        labels = ["currency", "dimension", "key"]
        for name, doc, figure in self.FIGURES:
            gauge = GaugeMetricFamily(name, doc, labels=labels)
            for row in rows:
                value = row.figures.get(figure)
                if value is not None:
                    gauge.add_metric([row.currency, row.dimension, row.key], float(value))
            yield gauge
        aging = GaugeMetricFamily(
            "o2c_kpi_aging_minor", "Open receivables by aging bucket, minor units.", labels=[*labels, "bucket"]
        )
        for row in rows:
            for bucket, amount in dict(row.figures.get("aging") or {}).items():
                aging.add_metric([row.currency, row.dimension, row.key, bucket], float(amount))
        yield aging


def metrics_endpoint(store: Store, ttl: float = 10.0) -> Any:
    """`GET /metrics` for one app: the process registry plus its database's aggregates. The
    database is read on a worker thread, never on the event loop."""
    database = CollectorRegistry(auto_describe=False)
    database.register(DatabaseCollector(store, ttl))
    database.register(SubscriptionCollector(store))
    database.register(KpiCollector(store, ttl))

    def render() -> bytes:
        return generate_latest(REGISTRY) + generate_latest(database)

    async def metrics(_request: Request) -> Response:
        return Response(await run_in_threadpool(render), media_type=CONTENT_TYPE_LATEST)

    return metrics

"""Prometheus metrics (`GET /metrics`). One registry per process, owned here."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from strawberry.extensions import SchemaExtension

REGISTRY = CollectorRegistry()

GRAPHQL_LATENCY = Histogram(
    "o2c_graphql_operation_seconds",
    "Time to execute one GraphQL operation (subscriptions: their whole life).",
    ["operation"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
GRAPHQL_REQUESTS = Counter(
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


async def metrics(_request: Request) -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

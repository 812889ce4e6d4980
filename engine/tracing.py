"""OpenTelemetry traces, optional: the one home of the `opentelemetry` packages (the `[otel]` extra).
Without them every function here does nothing, at no cost. With them the service's spans — GraphQL
operations, the daily cycle and its chunks, webhook deliveries, notice sending (per batch and
message) — go to whatever tracer provider the process has: one set up by `opentelemetry-instrument`,
or the SDK's, configured from
`O2C_OTEL_TRACES` (`console` prints finished spans, for a first look; `otlp` sends them to the OTLP
endpoint in the standard `OTEL_EXPORTER_OTLP_*` variables, with `opentelemetry-exporter-otlp`).

An event written inside a span carries the span's W3C `traceparent` in its data, so a consumer can
join the trace of the change that caused it."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from states.errors import ValidationFailed

try:
    from opentelemetry import propagate, trace
except ImportError:  # the [otel] extra is not installed
    trace = None  # type: ignore[assignment]
    propagate = None  # type: ignore[assignment]

TRACER_NAME = "o2c-engine"
EXPORTERS = ("console", "otlp")


def available() -> bool:
    return trace is not None


@contextmanager
def span(name: str, attributes: Mapping[str, Any] | None = None) -> Iterator[Any]:
    """A span around the `with` body (the current span's child); nothing without OpenTelemetry."""
    if trace is None:
        yield None
        return
    with trace.get_tracer(TRACER_NAME).start_as_current_span(name, attributes=dict(attributes or {})) as current:
        yield current


def set_attribute(current: Any, key: str, value: str | int | float | bool) -> None:
    if current is not None:
        current.set_attribute(key, value)


def traceparent() -> str | None:
    """The W3C `traceparent` of the current span, or None (no OpenTelemetry, or no span recording)."""
    if propagate is None:
        return None
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def configure(exporter_name: str | None) -> bool:
    """Install the SDK's tracer provider when `O2C_OTEL_TRACES` (`Settings.otel_traces`, checked
    against EXPORTERS there) asks for one; True when it did."""
    if not exporter_name:
        return False
    try:
        sdk_trace = importlib.import_module("opentelemetry.sdk.trace")
        export = importlib.import_module("opentelemetry.sdk.trace.export")
        resources = importlib.import_module("opentelemetry.sdk.resources")
        if exporter_name == "otlp":
            otlp = importlib.import_module("opentelemetry.exporter.otlp.proto.http.trace_exporter")
            exporter = otlp.OTLPSpanExporter()
        else:
            exporter = export.ConsoleSpanExporter()
    except ImportError as exc:
        raise ValidationFailed(
            f"O2C_OTEL_TRACES={exporter_name} needs OpenTelemetry: pip install 'o2c-engine[otel]' ({exc.name} missing)"
        ) from None
    resource = resources.Resource.create()  # the SDK reads the standard OTEL_SERVICE_NAME itself
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(resources.Resource({"service.name": TRACER_NAME}))
    provider = sdk_trace.TracerProvider(resource=resource)
    provider.add_span_processor(export.BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return True

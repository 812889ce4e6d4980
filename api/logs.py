"""Logging for the processes: plain text by default, one JSON object per line with
`O2C_LOG_FORMAT=json` (time, level, logger, message, correlation id, actor, operation, exception).
The correlation id comes from the request's `X-Correlation-Id` header (or is made up) and is sent
back on the response, so a client can quote it and an operator can find every line of that request."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from engine import log_context
from engine.tracing import set_attribute, span
from states.errors import ValidationFailed

HEADER = "x-correlation-id"
FORMATS = ("text", "json")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlationId": log_context.correlation_id.get(),
            "actor": log_context.actor.get(),
            "operation": log_context.operation.get(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure(verbose: bool, log_format: str | None) -> None:
    """Root logging for a CLI process; `log_format` is `O2C_LOG_FORMAT` (text or json)."""
    fmt = (log_format or "text").strip().lower()
    if fmt not in FORMATS:
        raise ValidationFailed(f"O2C_LOG_FORMAT={log_format!r}: one of {', '.join(FORMATS)}")
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler], force=True)


def json_logs(log_format: str | None) -> bool:
    return (log_format or "").strip().lower() == "json"


class CorrelationId:
    """ASGI middleware: binds the request's correlation id (its `X-Correlation-Id`, at most 64
    characters, or a new one) for everything the request logs, and returns it as a header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        sent = dict(scope["headers"]).get(HEADER.encode(), b"").decode("latin-1").strip()
        value = sent[:64] if sent.isprintable() and sent else log_context.new_correlation_id()
        token = log_context.correlation_id.set(value)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = value
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log_context.correlation_id.reset(token)


class OperationContext(SchemaExtension):
    """Binds the GraphQL operation and the caller for the log lines of the request (its access log
    line included: every request runs in a task of its own, so nothing leaks into the next), and
    traces the operation as a span."""

    def on_operation(self) -> Iterator[None]:
        principal = getattr(self.execution_context.context, "principal", None)
        log_context.actor.set(f"key:{principal.prefix}" if principal is not None else "anonymous")
        name = self.execution_context.operation_name
        log_context.operation.set(f"graphql:{name}" if name else "graphql")
        with span("graphql.operation", {"graphql.operation.name": name or ""}) as current:
            yield
            kind = getattr(self.execution_context, "operation_type", None)
            set_attribute(current, "graphql.operation.type", getattr(kind, "value", "invalid"))

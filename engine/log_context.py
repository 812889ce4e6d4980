"""What a log line is about, carried in context variables so every layer logs it without passing it
along: the request's correlation id, the actor (API key or system job) and the operation. The API
sets them per request (api/logs.py); jobs set them per run; `O2C_LOG_FORMAT=json` writes them out."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

correlation_id: ContextVar[str | None] = ContextVar("o2c_correlation_id", default=None)
actor: ContextVar[str | None] = ContextVar("o2c_actor", default=None)
operation: ContextVar[str | None] = ContextVar("o2c_operation", default=None)


def new_correlation_id() -> str:
    return uuid.uuid4().hex[:16]


def current_correlation_id() -> str:
    """The id of the work in hand, or a fresh one for work outside any request or job."""
    return correlation_id.get() or new_correlation_id()


@contextmanager
def bound(*, operation_name: str, actor_name: str = "system") -> Iterator[str]:
    """A job's context: a fresh correlation id, the actor and the operation, for the `with` body."""
    tokens = (
        correlation_id.set(new_correlation_id()),
        actor.set(actor_name),
        operation.set(operation_name),
    )
    try:
        yield correlation_id.get() or ""
    finally:
        operation.reset(tokens[2])
        actor.reset(tokens[1])
        correlation_id.reset(tokens[0])

"""The per-request GraphQL context, `RequestContext` (the engine's is `engine.services.context.Context`):
the service, the caller, and this request's DataLoaders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

import strawberry
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from engine.bootstrap import wire
from engine.keys import Principal
from engine.rules.registry import Registry
from engine.service import Collections
from engine.services.context import Context as EngineContext
from engine.store.database import Store
from schema.loaders import Loaders
from states.actors import Actor, person

T = TypeVar("T")


@dataclass
class RequestContext:
    engine: EngineContext
    service: Collections
    principal: Principal | None
    loaders: Loaders
    auth_error: str | None = None
    request: Request | WebSocket | None = None
    response: Response | WebSocket | None = None
    connection_params: dict[str, Any] | None = field(default=None)
    registry: Registry | None = None  # the process's strategies in force (one per app)

    @property
    def store(self) -> Store:
        return self.engine.store

    def strategies(self) -> Registry:
        """The registry in force. An app always has one; its absence is a wiring bug (INTERNAL)."""
        if self.registry is None:
            raise RuntimeError("no strategy registry is wired into this GraphQL context")
        return self.registry

    def today(self) -> date:
        return self.engine.today()

    def actor(self) -> Actor:
        """Changes made through the API are made by a person (or system) holding a key."""
        if self.principal is None:
            return person("anonymous")
        if self.principal.collector_email:
            return person(self.principal.collector_email)  # a collector's key acts as that person
        return person(f"{self.principal.name} (key {self.principal.prefix})")

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking (Pony) work on a worker thread: never on the event loop."""
        return await run_in_threadpool(fn, *args, **kwargs)


def make_context(
    engine: EngineContext,
    principal: Principal | None,
    *,
    auth_error: str | None = None,
    request: Request | WebSocket | None = None,
    response: Response | WebSocket | None = None,
    registry: Registry | None = None,
    service: Collections | None = None,
) -> RequestContext:
    """`service` is the process's (`engine.bootstrap.wire`, built once at start-up); without it
    one is wired here. With a `registry`, changes made through the service (payments, dispute
    outcomes, …) are re-evaluated at once by the strategies in force."""
    return RequestContext(
        engine=engine,
        service=service if service is not None else wire(engine, registry),
        principal=principal,
        loaders=Loaders(engine),
        auth_error=auth_error,
        request=request,
        response=response,
        registry=registry,
    )


Info = strawberry.Info[RequestContext, None]

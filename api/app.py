"""The Starlette application: GraphQL (HTTP + graphql-transport-ws on /graphql), health,
readiness and metrics — and, in `o2c serve`, the background side: the leader-leased scheduler and
strategy hot reload (file changes and SIGHUP)."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import time
from typing import Any

import anyio.to_thread
from graphql import DocumentNode
from graphql.validation import NoSchemaIntrospectionCustomRule
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.extensions import AddValidationRules, SchemaExtension
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from api import graphiql
from api.auth import MISSING, authenticate, header_from_params
from api.body_limit import BodyLimit
from api.delivery_hooks import delivery_route
from api.dispatching import start_dispatcher
from api.graphql_http import GRAPHQL_RESPONSE, is_request_error, negotiate
from api.key_watch import watch_key
from api.logs import CorrelationId, OperationContext
from api.metrics import GraphQLMetrics, metrics_endpoint
from api.request_body import HTTPException, decode_body
from engine.bootstrap import build_context, wire
from engine.config import Settings, load_settings
from engine.events.hub import existing_hubs
from engine.notices.channels import channel_status
from engine.rules import sources
from engine.rules.registry import PollingWatcher, Registry, ReloadResult
from engine.scheduler import LeaderScheduler
from engine.services.context import Context as EngineContext
from engine.store.faults import as_unavailable
from engine.store.health import readiness
from engine.store.upgrades import LATEST
from engine.strategies_in_force import load_registry
from engine.worker import build_scheduler
from schema.build import build_schema
from schema.context import RequestContext, make_context
from states.errors import Unavailable

log = logging.getLogger("o2c.api")


@dataclass(frozen=True)
class Background:
    """What runs beside the API in this process (`o2c serve` decides; tests usually want none)."""

    scheduler: bool = False  # the leader-leased scheduler: daily cycle and timers
    dispatch: bool = False  # the webhook dispatcher, in a thread (several processes share the work)
    dispatch_idle_seconds: float = 1.0
    hot_reload: bool = False  # reload strategies on file change (polling) and on SIGHUP
    cycle_at: time = time(6, 0)
    tick_seconds: float = 5.0
    lease_seconds: float = 30.0
    poll_seconds: float = 2.0


class ValidDocuments:
    """The documents this app has already parsed and validated without an error, by query text
    (least recently used dropped past `size`). A repeated query skips graphql-core's parse and
    validation, which cost about a tenth of a list page's time. Only error-free results are kept:
    the rules (schema, depth, token and alias limits) are fixed for the app, so a text valid once
    is valid again; an invalid text is parsed and validated afresh every time."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._documents: OrderedDict[str, DocumentNode] = OrderedDict()

    def get(self, query: str) -> DocumentNode | None:
        document = self._documents.get(query)
        if document is not None:
            self._documents.move_to_end(query)
        return document

    def keep(self, query: str, document: DocumentNode) -> None:
        self._documents[query] = document
        self._documents.move_to_end(query)
        while len(self._documents) > self.size:
            self._documents.popitem(last=False)

    def extension(self) -> SchemaExtension:
        """A fresh extension per operation (never a shared instance) over this shared cache."""
        return _ReuseValidDocuments(self)


class _ReuseValidDocuments(SchemaExtension):
    def __init__(self, documents: ValidDocuments) -> None:
        super().__init__()
        self.documents = documents
        self.reused = False

    def on_parse(self) -> Iterator[None]:
        query = self.execution_context.query
        if query and self.execution_context.graphql_document is None:
            document = self.documents.get(query)
            if document is not None:
                self.execution_context.graphql_document = document
                self.reused = True
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if self.reused:
            context.pre_execution_errors = []  # validated before: graphql-core skips it
        yield
        document = context.graphql_document
        if not self.reused and context.query and document is not None and context.pre_execution_errors == []:
            self.documents.keep(context.query, document)


class GraphQLApp(GraphQL[RequestContext, None]):
    def __init__(
        self,
        engine: EngineContext,
        registry: Registry,
        allowed_origins: tuple[str, ...],
        *,
        graphiql: bool = True,
        introspection: bool = True,
    ) -> None:
        documents = ValidDocuments()
        no_introspection = () if introspection else (lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]),)
        super().__init__(
            build_schema(extra_extensions=(GraphQLMetrics, OperationContext, documents.extension, *no_introspection)),
            graphql_ide="graphiql" if graphiql else None,
            allow_queries_via_get=False,  # GET serves GraphiQL; queries are POSTed
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allowed_origins=allowed_origins,
        )
        self.engine = engine
        self.registry = registry
        self.service = wire(engine, registry)  # the one door, built once per process

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except Unavailable as down:  # raised before any byte of the answer was sent (get_context)
            if scope["type"] != "http":
                raise
            error = {"message": down.message, "extensions": {"code": down.code}}
            await JSONResponse({"errors": [error]}, status_code=503, headers={"Retry-After": "5"})(scope, receive, send)

    def parse_json(self, data: str | bytes) -> Any:
        return decode_body(data)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> RequestContext:
        try:
            principal, error = await authenticate(self.engine.store, request.headers.get("authorization"))
        except Unavailable as down:  # no GraphQL result can be formed without knowing the caller
            if isinstance(request, WebSocket):
                raise HTTPException(503, down.message) from None
            raise  # answered by __call__: HTTP 503 with the typed error
        return make_context(
            self.engine,
            principal,
            auth_error=error,
            request=request,
            response=response,
            registry=self.registry,
            service=self.service,
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql.page()  # the service's own copy of GraphiQL: no CDN

    # GraphQL over HTTP: the media type the client accepts decides the answer's type and status.
    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = negotiate(request.headers.get("accept"))
        if isinstance(request, Request):
            request.state.graphql_sub_response = sub_response
        return sub_response

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        body = await super().process_result(request, result)
        sub_response: Response | None = getattr(request.state, "graphql_sub_response", None)
        if (
            sub_response is not None
            and sub_response.media_type == GRAPHQL_RESPONSE
            and is_request_error(result.data, result.errors)
        ):
            body.pop("data", None)
            sub_response.status_code = 400
        return body

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        if sub_response.media_type == GRAPHQL_RESPONSE:
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
        return response

    async def on_ws_connect(self, context: RequestContext) -> UnsetType | dict[str, object] | None:
        """Authentication at `connection_init`: a valid key in the payload (`{"Authorization":
        "Bearer KEY"}`) or the handshake header, or the connection is closed with 4403."""
        header = header_from_params(context.connection_params)
        if context.principal is None and header:
            context.principal, context.auth_error = await authenticate(self.engine.store, header)
        if context.principal is None:
            log.info("WebSocket connection refused at connection_init: %s", context.auth_error or MISSING)
            raise ConnectionRejectionError({"message": context.auth_error or MISSING})
        watch_key(
            self.engine.store, context, header or str(context.request and context.request.headers["authorization"])
        )
        return UNSET


def log_reload(result: ReloadResult, how: str) -> None:
    """After a reload from the background (file change, SIGHUP): log it; keep the new texts."""
    if result.ok and result.in_force is not None:
        sources.remember(result.in_force)
        names = ", ".join(f"{c.name} v{c.version} {c.content_hash[:12]}" for c in result.in_force.strategies)
        log.info("strategies reloaded (%s): %s", how, names)
    else:
        log.error("strategy reload (%s) refused; the previous set stays in force:\n%s", how, "\n".join(result.messages))


def _reload_on_signal(registry: Registry) -> None:
    try:
        log_reload(registry.reload(), "SIGHUP")
    except Exception:  # never let a reload take the server down
        log.exception("strategy reload on SIGHUP failed; the previous set stays in force")


def _strategies_ready(registry: Registry) -> dict[str, Any]:
    in_force = registry.current
    return {
        "count": len(in_force.strategies),
        "loadedAt": in_force.loaded_at.isoformat(),
        "inForce": [{"name": c.name, "version": c.version, "contentHash": c.content_hash} for c in in_force.strategies],
    }


def cors(settings: Settings) -> list[Middleware]:
    """CORS for browser front ends on other origins: `O2C_CORS_ORIGINS` (comma-separated origins, or `*`);
    none by default, so a browser on another origin may not call the API."""
    allowed = list(settings.cors_origins)
    if not allowed:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=allowed,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["authorization", "content-type", "accept", "x-correlation-id"],
            expose_headers=["x-correlation-id"],
            max_age=600,
        )
    ]


def create_app(
    settings: Settings | None = None,
    engine: EngineContext | None = None,
    *,
    registry: Registry | None = None,
    background: Background | None = None,
) -> Starlette:
    """The app. Without `registry`, the strategies are loaded from `settings.strategies_dir`; if any
    file is invalid this raises ValidationFailed listing every problem (the server does not start)."""
    settings = settings or (engine.settings if engine else load_settings())
    registry = registry or load_registry(settings.strategies_dir)
    sources.remember(registry.current)
    ctx = engine or build_context(settings)
    jobs = background or Background()
    origins = settings.allowed_origins
    graphql = GraphQLApp(
        ctx,
        registry,
        origins,
        graphiql=settings.graphiql,
        introspection=settings.introspection,
    )

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> JSONResponse:
        checks: dict[str, Any] = {}
        try:
            checks["strategies"] = _strategies_ready(registry)
        except Exception as exc:
            checks["strategies"] = {"count": 0, "error": str(exc)}
        try:
            version, state = await run_in_threadpool(readiness, ctx.store)
        except Exception as exc:  # the probe reports, it does not crash
            down = as_unavailable(exc)
            if down is None:
                log.exception("readiness probe failed")
            detail = down.message if down is not None else "the database cannot be read; see the server log"
            body = {"status": "unavailable", "database": "unreachable" if down else "error", "detail": detail, **checks}
            return JSONResponse(body, status_code=503)
        checks |= {"schemaVersion": version, "database": state, "channels": channel_status(settings)}
        ok = version == LATEST and checks["strategies"]["count"] > 0 and state == "ok"
        return JSONResponse({"status": "ok" if ok else "unavailable", **checks}, status_code=200 if ok else 503)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        # Every blocking call (Pony) runs on this pool; each thread keeps one database connection.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        watcher: PollingWatcher | None = None
        scheduler: LeaderScheduler | None = None
        sighup = False
        if jobs.hot_reload:
            watcher = PollingWatcher(registry, jobs.poll_seconds, on_result=lambda r: log_reload(r, "file change"))
            watcher.start()
            loop = asyncio.get_running_loop()
            try:  # reload off the event loop: it reads and compiles every file
                loop.add_signal_handler(signal.SIGHUP, lambda: loop.run_in_executor(None, _reload_on_signal, registry))
                sighup = True
            except (ValueError, RuntimeError, NotImplementedError, AttributeError):  # not the main thread, or no SIGHUP
                log.warning("SIGHUP reload unavailable in this process; file changes still reload")
        dispatching = start_dispatcher(ctx, jobs.dispatch_idle_seconds) if jobs.dispatch else None
        if jobs.scheduler:
            scheduler = build_scheduler(ctx, registry, jobs.cycle_at, jobs.tick_seconds, jobs.lease_seconds)
            scheduler.start()
            log.info("scheduler on: daily cycle at %s, tick %ss", jobs.cycle_at.isoformat("minutes"), jobs.tick_seconds)
        try:
            yield
        finally:
            if dispatching is not None:
                await run_in_threadpool(dispatching.stop)  # finishes the claimed batch
            if scheduler is not None:
                await run_in_threadpool(scheduler.stop)  # waits for a running job; releases the lease
            if sighup:
                asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
            if watcher is not None:
                await run_in_threadpool(watcher.stop)
            for hub in existing_hubs(ctx.store):  # the event reader and its LISTEN connection
                await hub.close()
            ctx.store.disconnect()

    routes = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_endpoint(ctx.store)),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        delivery_route(ctx, settings.delivery_hook_secret),
    ]
    if settings.graphiql:
        routes.append(graphiql.assets())
    limit = Middleware(BodyLimit, limit=settings.max_body_bytes)
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(CorrelationId), *cors(settings), limit])
    app.state.ctx = ctx
    app.state.registry = registry
    return app

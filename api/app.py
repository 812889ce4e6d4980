"""The Starlette application: GraphQL (HTTP + graphql-transport-ws on /graphql), health,
readiness and metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from api.auth import authenticate, header_from_params
from api.metrics import GraphQLMetrics, metrics
from engine.bootstrap import build_context
from engine.config import Settings, load_settings
from engine.services.context import Context as EngineContext
from engine.store.upgrades import LATEST, current_version
from schema.build import build_schema
from schema.context import Context, make_context


class GraphQLApp(GraphQL[Context, None]):
    def __init__(self, engine: EngineContext, allowed_origins: tuple[str, ...]) -> None:
        super().__init__(
            build_schema(extra_extensions=(GraphQLMetrics,)),
            graphql_ide="graphiql",
            allow_queries_via_get=False,  # GET serves GraphiQL; queries are POSTed
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allowed_origins=allowed_origins,
        )
        self.engine = engine

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        principal, error = await authenticate(self.engine.store, request.headers.get("authorization"))
        return make_context(self.engine, principal, auth_error=error, request=request, response=response)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        header = header_from_params(context.connection_params)
        if context.principal is None and header:
            context.principal, context.auth_error = await authenticate(self.engine.store, header)
        return UNSET


def create_app(settings: Settings | None = None, engine: EngineContext | None = None) -> Starlette:
    settings = settings or load_settings()
    ctx = engine or build_context(settings)
    origins = tuple(o for o in settings.extra.get("O2C_ALLOWED_ORIGINS", "").split(",") if o)
    graphql = GraphQLApp(ctx, origins)

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> JSONResponse:
        try:
            version = await run_in_threadpool(current_version, ctx.store)
        except Exception as exc:  # the probe reports, it does not crash
            return JSONResponse({"status": "unavailable", "database": str(exc)}, status_code=503)
        checks: dict[str, Any] = {"schemaVersion": version, "database": "ok"}
        ok = version == LATEST
        return JSONResponse({"status": "ok" if ok else "unavailable", **checks}, status_code=200 if ok else 503)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        ctx.store.disconnect()

    routes = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.ctx = ctx
    return app

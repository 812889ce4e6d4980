"""The Starlette application: health, readiness (GraphQL is mounted by schema/)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from engine.bootstrap import build_context
from engine.config import Settings, load_settings
from engine.store.upgrades import LATEST, current_version


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or load_settings()
    ctx = build_context(settings)

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> JSONResponse:
        try:
            version = await run_in_threadpool(current_version, ctx.store)
        except Exception as exc:  # the probe reports, it does not crash
            return JSONResponse({"status": "unavailable", "database": str(exc)}, status_code=503)
        ok = version == LATEST
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "schemaVersion": version},
            status_code=200 if ok else 503,
        )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        ctx.store.disconnect()

    app = Starlette(routes=[Route("/healthz", healthz), Route("/readyz", readyz)], lifespan=lifespan)
    app.state.ctx = ctx
    return app

"""`POST /hooks/delivery/{channel}`: delivery reports from a mail or SMS provider (docs/notices.md).

The raw body must carry `X-O2C-Signature: sha256=<hex HMAC-SHA256 of the body>` keyed with
`O2C_DELIVERY_HOOK_SECRET`; without the setting the route answers 404 (not offered). Answers: 200
with the message's state; 401 for a missing or wrong signature; 404 for an unknown message; 422 for
a report that cannot be read. Anything but 200 changes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from engine.notices.reports import SIGNATURE_HEADER, apply_report, parse, signed
from engine.services.context import Context
from states.errors import NotFound, ValidationFailed


def delivery_route(ctx: Context, secret: str | None) -> Route:

    async def hook(request: Request) -> JSONResponse:
        if secret is None:
            return _error(404, "NOT_FOUND", "delivery reports are not configured (O2C_DELIVERY_HOOK_SECRET)")
        body = await request.body()
        if not signed(secret, body, request.headers.get(SIGNATURE_HEADER)):
            return _error(401, "UNAUTHENTICATED", f"missing or wrong {SIGNATURE_HEADER}")
        channel = request.path_params["channel"]
        try:
            report = parse(channel, request.headers.get("content-type", ""), body)
            state = await run_in_threadpool(apply_report, ctx.store, channel, report, ctx.now())
        except ValidationFailed as exc:
            return _error(422, "VALIDATION_FAILED", exc.message, exc.field)
        except NotFound as exc:
            return _error(404, "NOT_FOUND", exc.message)
        return JSONResponse({"state": state})

    endpoint: Callable[[Request], Awaitable[JSONResponse]] = hook
    return Route("/hooks/delivery/{channel}", endpoint, methods=["POST"])


def _error(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    body = {"code": code, "message": message} | ({"field": field} if field else {})
    return JSONResponse({"error": body}, status_code=status)

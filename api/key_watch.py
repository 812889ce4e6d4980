"""A WebSocket lives as long as its key does: every KEY_RECHECK_SECONDS the key that opened the
connection is checked again, and a key that was revoked, or whose role changed, closes the socket
with 4403 — its running subscriptions end, and nothing more (subscribe, mutations) runs on it."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.websockets import WebSocket, WebSocketState

from api.auth import authenticate
from engine.store.database import Store
from schema.context import RequestContext

log = logging.getLogger("o2c.api.keys")

KEY_RECHECK_SECONDS = 2.0  # the contract is "within 5 s" of the revocation
REVOKED = "the API key was revoked or its role changed"
_watchers: set[asyncio.Task[None]] = set()  # strong references until each ends


def watch_key(store: Store, context: RequestContext, header: str | None) -> None:
    """Start watching the key of an accepted connection (`header`: the one from `connection_init`,
    else the handshake's)."""
    socket = context.request
    if not isinstance(socket, WebSocket) or context.principal is None:
        return
    header = header or socket.headers.get("authorization")
    if not header:
        return
    task = asyncio.get_running_loop().create_task(_watch(store, context, socket, header))
    _watchers.add(task)
    task.add_done_callback(_watchers.discard)


def _open(socket: WebSocket) -> bool:
    return socket.client_state == WebSocketState.CONNECTED and socket.application_state == WebSocketState.CONNECTED


async def _watch(store: Store, context: RequestContext, socket: WebSocket, header: str) -> None:
    granted = context.principal
    assert granted is not None
    while True:
        await asyncio.sleep(KEY_RECHECK_SECONDS)
        if not _open(socket):
            return
        try:
            now, _ = await authenticate(store, header)
        except Exception:  # the database is away: keep the socket, look again next time
            log.warning("could not re-check the key of a WebSocket; trying again", exc_info=True)
            continue
        if now is None or now.role != granted.role:
            context.principal, context.auth_error = None, REVOKED  # refuses what is already in flight
            log.info("closing the WebSocket of key %s: %s", granted.prefix, REVOKED)
            if _open(socket):
                with contextlib.suppress(RuntimeError):  # closed meanwhile
                    await socket.close(code=4403, reason=REVOKED)
            return

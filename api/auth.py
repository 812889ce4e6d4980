"""API keys on the wire: `Authorization: Bearer KEY` (HTTP, WebSocket handshake) or an
`Authorization` entry in the `connection_init` payload (browsers cannot set WebSocket headers)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool

from engine.keys import Principal, verify_key
from engine.store.database import Store

MISSING = "send an API key as 'Authorization: Bearer KEY'"
MALFORMED = "the Authorization header must read 'Bearer KEY'"
INVALID = "the API key is unknown or revoked"


async def authenticate(store: Store, header: str | None) -> tuple[Principal | None, str | None]:
    """(principal, None) for a valid key; (None, why) otherwise. A missing key is not an error
    here: each field decides (every field requires at least the read capability)."""
    if not header:
        return None, MISSING
    scheme, _, key = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None, MALFORMED
    principal = await run_in_threadpool(verify_key, store, key.strip())
    return (principal, None) if principal else (None, INVALID)


def header_from_params(params: Mapping[str, Any] | None) -> str | None:
    if not params:
        return None
    for name in ("Authorization", "authorization"):
        value = params.get(name)
        if isinstance(value, str):
            return value
    return None

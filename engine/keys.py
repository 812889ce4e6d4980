"""API keys: a random secret shown once, stored as its SHA-256; looked up by a short prefix.

A key reads `o2c_<prefix>_<secret>`. The prefix (not secret) finds the row; the hash of the whole
key is compared in constant time. Revoked keys never verify.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from engine.clock import loaded, stored
from engine.services.context import Context
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork, read_only, transact
from states.errors import ValidationFailed

ROLES = ("viewer", "collector", "policy", "integrator", "admin")
DEMO_KEY_NAME = "demo-admin"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's role and name; `prefix` identifies the key in logs."""

    key_id: int
    prefix: str
    role: str
    name: str
    collector_email: str | None = None  # the key acts as this collector


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _parse(key: str) -> str | None:
    parts = key.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != "o2c" or not parts[1] or not parts[2]:
        return None
    return parts[1]


def create_key(ctx: Context, role: str, name: str = "", collector_email: str | None = None) -> tuple[Principal, str]:
    """Create a key; returns it with its secret, which is never stored and never shown again.
    With `collector_email`, the key acts as that collector (changes made with it are theirs)."""
    if role not in ROLES:
        raise ValidationFailed(f"unknown role '{role}'; one of {', '.join(ROLES)}", "role")
    prefix = secrets.token_hex(4)
    key = f"o2c_{prefix}_{secrets.token_urlsafe(32)}"
    label = name.strip() or f"{role} key {prefix}"

    def work(uow: UnitOfWork) -> Principal:
        collector = None
        if collector_email:
            collector = uow.Collector.get(email=collector_email.strip().lower())
            if collector is None:
                raise ValidationFailed(f"no collector with email '{collector_email}'", "collector")
        row = uow.ApiKey(
            prefix=prefix,
            secret_hash=_digest(key),
            role=role,
            name=label,
            created_at=stored(ctx.now()),
            collector=collector,
        )
        uow.flush()
        return Principal(row.id, prefix, role, label, collector.email if collector else None)

    return transact(ctx.store, work), key


def verify_key(store: Store, key: str) -> Principal | None:
    """The principal of a valid, unrevoked key; None for anything else (no hint why)."""
    prefix = _parse(key)
    if prefix is None:
        return None
    with read_only(store) as uow:
        row = uow.ApiKey.get(prefix=prefix)
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(row.secret_hash, _digest(key)):
            return None
        return Principal(row.id, row.prefix, row.role, row.name, row.collector.email if row.collector else None)


@dataclass(frozen=True)
class KeyListing:
    prefix: str
    role: str
    name: str
    created_at: datetime
    revoked_at: datetime | None


def list_keys(store: Store) -> list[KeyListing]:
    """Every key, oldest first, without its secret (which is not stored)."""
    with read_only(store) as uow:
        rows = uow.ApiKey.select().order_by(lambda k: k.id)
        return [
            KeyListing(k.prefix, k.role, k.name, loaded(k.created_at), loaded(k.revoked_at) if k.revoked_at else None)
            for k in rows
        ]


def revoke_key(ctx: Context, prefix: str) -> bool:
    def work(uow: UnitOfWork) -> bool:
        row = uow.ApiKey.get(prefix=prefix)
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = stored(ctx.now())
        return True

    return transact(ctx.store, work)


def ensure_demo_admin_key(ctx: Context) -> str | None:
    """A fresh admin key for the demo (`make run`): earlier demo keys are revoked, since their
    secrets cannot be shown again. Returns the new key (None is reserved for 'no key made')."""

    def revoke_old(uow: UnitOfWork) -> None:
        for row in uow.ApiKey.select(lambda k: k.name == DEMO_KEY_NAME and k.revoked_at is None):
            row.revoked_at = stored(ctx.now())

    transact(ctx.store, revoke_old)
    _principal, key = create_key(ctx, "admin", DEMO_KEY_NAME)
    return key

"""Register, update, disable and list webhook endpoints. The signing secret is generated here
(Standard Webhooks form: `whsec_` + base64 of 32 random bytes), shown once, at registration or
rotation, and kept sealed (engine/webhooks/sealing.py). After a rotation the previous secret signs
too, for `ROTATION_OVERLAP`, so a receiver can switch to the new one without losing a delivery."""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from engine.clock import loaded, stored
from engine.journal.catalogue import check_event_types
from engine.store.database import Store
from engine.store.models import Entity
from engine.store.unit_of_work import UnitOfWork, read_only, transact
from engine.webhooks.destinations import check_destination
from engine.webhooks.sealing import is_sealed, seal, unseal
from states.errors import NotFound, ValidationFailed

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
MAX_ENDPOINTS = 100
ROTATION_OVERLAP = timedelta(hours=24)  # the Standard Webhooks header may carry several signatures
_SUBJECT = re.compile(r"^[a-z_]+(/[0-9]*)?$")


@dataclass(frozen=True)
class EndpointView:
    id: int
    url: str
    event_types: tuple[str, ...]  # empty: every type
    subject_filter: str | None  # a subject prefix such as "invoices/" or "invoices/42"
    description: str | None
    enabled: bool
    disabled_reason: str | None
    created_at: datetime
    failing_since: datetime | None = None  # first failed attempt since the last success
    sealed: bool = True  # the secret is stored encrypted

    def accepts(self, type: str, subject: str) -> bool:
        if self.event_types and type not in self.event_types:
            return False
        return self.subject_filter is None or subject_matches(self.subject_filter, subject)


def subject_matches(pattern: str, subject: str) -> bool:
    """`invoices/` matches every invoice; `invoices/42` only invoice 42 (not 420)."""
    return subject.startswith(pattern) if pattern.endswith("/") else subject == pattern


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def view_of(e: Entity) -> EndpointView:
    return EndpointView(
        id=e.id,
        url=e.url,
        event_types=tuple(e.event_types or ()),
        subject_filter=e.subject_filter,
        description=e.description,
        enabled=e.enabled,
        disabled_reason=e.disabled_reason,
        failing_since=loaded(e.failing_since) if e.failing_since else None,
        sealed=is_sealed(e.secret),
        created_at=loaded(e.created_at),
    )


def check_url(url: str, allow_private: bool = False) -> str:
    url = url.strip()
    check_destination(url, allow_private)
    return url


def check_types(types: Sequence[str]) -> list[str]:
    """Only event types the service emits (the catalogue): a typo would otherwise never fire."""
    return check_event_types(sorted({t.strip() for t in types}), "eventTypes")


def check_subject(subject: str | None) -> str | None:
    if subject is None or subject.strip() == "":
        return None
    subject = subject.strip()
    if not _SUBJECT.match(subject):
        raise ValidationFailed("the subject filter is a prefix ('invoices/') or a subject ('invoices/42')", "subject")
    return subject


def register(
    store: Store,
    url: str,
    now: datetime,
    event_types: Sequence[str] = (),
    subject_filter: str | None = None,
    description: str | None = None,
    allow_private: bool = False,
) -> tuple[EndpointView, str]:
    """A new enabled endpoint and its secret (returned once; only the endpoint keeps it)."""
    url, types, subject = check_url(url, allow_private), check_types(event_types), check_subject(subject_filter)

    def work(uow: UnitOfWork) -> tuple[EndpointView, str]:
        if uow.WebhookEndpoint.select().count() >= MAX_ENDPOINTS:
            raise ValidationFailed(f"at most {MAX_ENDPOINTS} webhook endpoints; disable or reuse one", "url")
        # Late import: fanout imports this module.
        from engine.webhooks.fanout import start_cursor_if_missing

        start_cursor_if_missing(uow)
        secret = new_secret()
        e = uow.WebhookEndpoint(
            url=url,
            secret=seal(secret),
            event_types=types,
            subject_filter=subject,
            description=description,
            enabled=True,
            created_at=stored(now),
        )
        uow.flush()
        return view_of(e), secret

    return transact(store, work)


def update(
    store: Store,
    endpoint_id: int,
    *,
    url: str | None = None,
    event_types: Sequence[str] | None = None,
    subject_filter: str | None = None,
    clear_subject_filter: bool = False,
    description: str | None = None,
    enabled: bool | None = None,
    allow_private: bool = False,
) -> EndpointView:
    """Change what is given. `enabled=True` re-enables (its pending deliveries resume)."""
    new_url = check_url(url, allow_private) if url is not None else None
    types = check_types(event_types) if event_types is not None else None
    subject = check_subject(subject_filter)

    def work(uow: UnitOfWork) -> EndpointView:
        e = _get(uow, endpoint_id)
        if new_url is not None:
            e.url = new_url
        if types is not None:
            e.event_types = types
        if clear_subject_filter:
            e.subject_filter = None
        elif subject is not None:
            e.subject_filter = subject
        if description is not None:
            e.description = description
        if enabled is True:
            e.enabled, e.disabled_reason = True, None
        elif enabled is False:
            e.enabled, e.disabled_reason = False, "disabled by a user"
        return view_of(e)

    return transact(store, work)


def disable(store: Store, endpoint_id: int, reason: str = "disabled by a user") -> EndpointView:
    """No new deliveries are sent; pending ones wait (re-enable to resume them)."""

    def work(uow: UnitOfWork) -> EndpointView:
        e = _get(uow, endpoint_id)
        e.enabled, e.disabled_reason = False, reason[:200]
        return view_of(e)

    return transact(store, work)


def rotate_secret(store: Store, endpoint_id: int, now: datetime) -> tuple[EndpointView, str]:
    """A new secret (returned once); the old one keeps signing beside it for `ROTATION_OVERLAP`."""

    def work(uow: UnitOfWork) -> tuple[EndpointView, str]:
        e = _get(uow, endpoint_id)
        secret = new_secret()
        e.previous_secret, e.secret, e.secret_rotated_at = e.secret, seal(secret), stored(now)
        return view_of(e), secret

    return transact(store, work)


def signing_secrets(e: Entity, now: datetime) -> tuple[str, ...]:
    """The secrets that sign a delivery now: the current one, and the previous one within a day of
    its rotation."""
    current = unseal(e.secret)
    rotated = loaded(e.secret_rotated_at) if e.secret_rotated_at else None
    if e.previous_secret and rotated is not None and now - rotated < ROTATION_OVERLAP:
        return current, unseal(e.previous_secret)
    return (current,)


def seal_stored_secrets(store: Store) -> int:
    """Seal secrets written before sealing existed (`o2c db upgrade` calls this); returns how many."""

    def work(uow: UnitOfWork) -> int:
        count = 0
        for e in uow.WebhookEndpoint.select():
            if not is_sealed(e.secret):
                e.secret = seal(e.secret)
                count += 1
            if e.previous_secret and not is_sealed(e.previous_secret):
                e.previous_secret = seal(e.previous_secret)
        return count

    return transact(store, work)


def get(store: Store, endpoint_id: int) -> EndpointView:
    with read_only(store) as uow:
        return view_of(_get(uow, endpoint_id))


def list_endpoints(store: Store, include_disabled: bool = True) -> list[EndpointView]:
    with read_only(store) as uow:
        rows = uow.WebhookEndpoint.select().order_by(lambda e: e.id)
        return [view_of(e) for e in rows if include_disabled or e.enabled]


def _get(uow: UnitOfWork, endpoint_id: int) -> Entity:
    e = uow.WebhookEndpoint.get(id=endpoint_id)
    if e is None:
        raise NotFound(f"webhook endpoint {endpoint_id} does not exist")
    return e

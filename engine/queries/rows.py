"""Raw rows → views for the hot read paths (GraphQL lists and DataLoader batches).

Loading Pony entities to copy them into frozen views cost most of a page's database time
(identity map, tracked JSON values, per-attribute validation). These reads select only the
columns a view holds and convert them directly. Both stores are covered: SQLite hands back
dates, instants and JSON as text; PostgreSQL (psycopg2) as `date`, naive `datetime` and dicts.
The column lists below are the single place that knows each view's columns and their order.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from engine.views import CustomerView, DisputeView, InvoiceView, TransitionView


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _day_or_none(value: Any) -> date | None:
    return None if value is None else _day(value)


def _instant(value: Any) -> datetime:
    """A stored (naive UTC) instant, marked UTC, as `engine.clock.loaded` does."""
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return at.replace(tzinfo=UTC)


def _instant_or_none(value: Any) -> datetime | None:
    return None if value is None else _instant(value)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def columns(alias: str, names: Sequence[str]) -> str:
    """`alias.a, alias.b, …` (quoted: some column names are SQL keywords, e.g. "trigger")."""
    return ", ".join(f'{alias}."{n}"' for n in names)


CUSTOMER_COLUMNS = (
    "id",
    "external_ref",
    "name",
    "segment",
    "risk_class",
    "risk_score",
    "credit_limit",
    "currency",
    "payment_terms_days",
    "timezone",
    "tags",
    "email",
    "state",
    "unapplied_credit",
    "broken_promises",
    "version",
    "country",
    "subdivision",
)


def customer_view(r: Sequence[Any]) -> CustomerView:
    return CustomerView(
        int(r[0]),
        r[1],
        r[2],
        r[3],
        r[4],
        int(r[5]),
        int(r[6]),
        r[7],
        int(r[8]),
        r[9],
        tuple(_json(r[10]) or ()),
        r[11],
        r[12],
        int(r[13]),
        int(r[14]),
        int(r[15]),
        r[16],
        r[17],
    )


INVOICE_COLUMNS = (
    "id",
    "customer",
    "number",
    "issue_date",
    "due_date",
    "currency",
    "amount",
    "open_amount",
    "state",
    "dunning_level",
    "last_notice_on",
    "paid_on",
    "version",
)


def invoice_view(r: Sequence[Any]) -> InvoiceView:
    return InvoiceView(
        int(r[0]),
        int(r[1]),
        r[2],
        _day(r[3]),
        _day(r[4]),
        r[5],
        int(r[6]),
        int(r[7]),
        r[8],
        int(r[9]),
        _day_or_none(r[10]),
        _day_or_none(r[11]),
        int(r[12]),
    )


DISPUTE_COLUMNS = (
    "id",
    "invoice",
    "customer",
    "reason_code",
    "amount",
    "state",
    "outcome",
    "credit_amount",
    "description",
    "opened_at",
    "due_at",
    "resolved_at",
    "version",
    "owner",
    "payment",
)


def dispute_view(r: Sequence[Any]) -> DisputeView:
    return DisputeView(
        int(r[0]),
        int(r[1]),
        int(r[2]),
        r[3],
        int(r[4]),
        r[5],
        r[6],
        None if r[7] is None else int(r[7]),
        r[8],
        _instant(r[9]),
        _instant(r[10]),
        _instant_or_none(r[11]),
        int(r[12]),
        r[13],
        None if r[14] is None else int(r[14]),
    )


TRANSITION_COLUMNS = (
    "id",
    "entity_type",
    "entity_id",
    "entity_version",
    "from_state",
    "to_state",
    "trigger",
    "actor",
    "cause",
    "facts",
    "reason",
    "at",
)


def transition_view(r: Sequence[Any]) -> TransitionView:
    return TransitionView(
        int(r[0]),
        r[1],
        int(r[2]),
        int(r[3]),
        r[4],
        r[5],
        r[6],
        r[7],
        dict(_json(r[8]) or {}),
        dict(_json(r[9]) or {}),
        r[10],
        _instant(r[11]),
    )

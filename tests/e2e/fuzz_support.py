"""Schema-generated GraphQL operations (hypothesis-graphql over the checked-in SDL) and the judge
of their answers: an HTTP 5xx or an `INTERNAL` error is a failure, any typed error is fine.

Shared by the fuzz test (`tests/e2e/test_fuzz.py`, bounded) and `benchmarks/fuzz.py` (timed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes

SDL = (Path(__file__).resolve().parents[2] / "schema.graphql").read_text()

# Values a client may send that sit on the edges of what the columns and parsers hold.
_EDGE_TEXTS = st.sampled_from(
    [
        *("", " ", "x" * 300, "x" * 5000, "\x00", "ab\x00cd", "ü" * 200),
        *("1e3", "1.0E+2", "-0", "NaN", "Infinity", "0x10", "1_000"),
    ]
)
_DATES = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.sampled_from(["2026-03-02", "2026-02-29", "0001-01-01", "9999-12-31", "2026-13-01", "today", ""]),
    _EDGE_TEXTS,
)
_DATETIMES = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2)).map(lambda d: d.isoformat()),
    st.sampled_from(["2026-03-02T10:00:00Z", "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00"]),
    _EDGE_TEXTS,
)
_DECIMALS = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=None).map(str),
    st.sampled_from(["12.50", "0", "-1", "0.001", "99999999999999999999.99", "1" * 40, "1e3", "1.0E+2"]),
    _EDGE_TEXTS,
)
_MINOR = st.one_of(st.integers(min_value=-(2**70), max_value=2**70).map(nodes.Int), _EDGE_TEXTS.map(nodes.String))
_JSON = st.one_of(
    st.integers().map(nodes.Int), st.text(max_size=20).map(nodes.String), st.booleans().map(nodes.Boolean)
)
# IDs that hit rows of the seeded database, and ids of every other size and shape.
_IDS = st.one_of(
    st.integers(min_value=1, max_value=40).map(str),
    st.sampled_from([str(2**31), str(2**63), str(2**64), "-1", "0", "abc", "1.5", " 7", "１", "9" * 400]),
)

CUSTOM_SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "Date": _DATES.map(nodes.String),
    "DateTime": _DATETIMES.map(nodes.String),
    "Decimal": _DECIMALS.map(nodes.String),
    "MinorUnits": _MINOR,
    "JSON": _JSON,
    "ID": _IDS.map(nodes.String),
    "String": st.one_of(st.text(max_size=40), _EDGE_TEXTS, _DATES, _DECIMALS).map(nodes.String),
}


def operations(mode: Mode = Mode.POSITIVE) -> st.SearchStrategy[str]:
    """Queries and mutations of the whole schema (subscriptions go over WebSocket, not here)."""
    return from_schema(SDL, custom_scalars=CUSTOM_SCALARS, mode=mode, allow_x00=True)  # type: ignore[return-value]


def all_operations() -> st.SearchStrategy[str]:
    """Valid documents (mostly executed) and invalid ones (refused before execution), mixed."""
    return st.one_of(operations(Mode.POSITIVE), operations(Mode.POSITIVE), operations(Mode.NEGATIVE))


@dataclass
class Tally:
    """What a run saw: requests, HTTP 5xx, INTERNAL errors (with the first few examples)."""

    requests: int = 0
    server_errors: int = 0
    internal: int = 0
    examples: list[str] = field(default_factory=list)

    def judge(self, query: str, response: httpx.Response) -> str | None:
        """Count the answer; return why it is a failure, or None."""
        self.requests += 1
        problem: str | None = None
        if response.status_code >= 500:
            self.server_errors += 1
            problem = f"HTTP {response.status_code}: {response.text[:300]}"
        else:
            try:
                body = response.json()
            except ValueError:
                body = None
            errors = body.get("errors") if isinstance(body, dict) else None
            for error in errors or ():
                if (error.get("extensions") or {}).get("code") == "INTERNAL" or "code" not in (
                    error.get("extensions") or {}
                ):
                    self.internal += 1
                    problem = f"untyped or INTERNAL error: {error}"
                    break
        if problem and len(self.examples) < 20:
            self.examples.append(f"{problem}\n  query: {query[:2000]}")
        return problem


def seed_demo(database_url: str, today: str = "2026-03-02") -> None:
    """A small demo portfolio, so that generated ids (1..40) hit real customers and invoices."""
    from engine.bootstrap import build_context
    from engine.clock import clock_for_date
    from engine.config import Settings
    from engine.demo import load_demo
    from engine.service import Collections
    from engine.store.upgrades import upgrade

    ctx = build_context(Settings(database_url=database_url), clock=clock_for_date(date.fromisoformat(today)))
    upgrade(ctx.store)
    load_demo(Collections(ctx), customers=12, invoices=40)
    ctx.store.disconnect()


def send(client: httpx.Client, url: str, key: str, query: str) -> httpx.Response:
    return client.post(f"{url}/graphql", json={"query": query}, headers={"Authorization": f"Bearer {key}"}, timeout=60)

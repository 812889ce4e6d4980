"""Every outbox event is a CloudEvents 1.0 JSON envelope; cursors are opaque and settle in commit order."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg2
import pytest
import strawberry
from cloudevents.core.formats.json import JSONFormat
from cloudevents.v1.http import from_json
from graphql_harness import seed_portfolio

from engine.events.cursor import decode, encode, settled_events_after, stable_position
from engine.events.envelope import to_json
from engine.keys import Principal
from engine.queries.events import events_after
from engine.service import Collections
from engine.services.context import Context
from engine.store.database import Store
from engine.store.unit_of_work import read_only
from schema.context import make_context
from schema.errors import ErrorCodes
from schema.events.queries import EventQueries
from states.errors import ValidationFailed


@strawberry.type
class _Query(EventQueries):
    pass


EVENTS_SCHEMA = strawberry.Schema(query=_Query, extensions=[ErrorCodes])
EVENTS = """query($after: String, $first: Int!, $types: [String!], $subject: String) {
  events(after: $after, first: $first, types: $types, subject: $subject) {
    endCursor hasMore
    events { id cursor source specversion type subject datacontenttype entityVersion time data envelope }
  }
}"""


def query(ctx: Context, variables: dict[str, Any]) -> dict[str, Any]:
    context = make_context(ctx, Principal(1, "testkey", "integrator", "integrator tester"))
    result = asyncio.run(EVENTS_SCHEMA.execute(EVENTS, variable_values=variables, context_value=context))
    assert result.errors is None, result.errors
    assert result.data is not None
    page: dict[str, Any] = result.data["events"]
    return page


def test_every_outbox_event_parses_as_a_cloudevent_with_the_sdk(service: Collections) -> None:
    seed_portfolio(service, customers=2, invoices_each=2)
    events = events_after(service.ctx.store, 0, 1000)
    assert events
    for e in events:
        body = to_json(e, "urn:o2c-engine")
        parsed = JSONFormat().read(None, body)
        assert parsed.get_id() == e.id
        assert parsed.get_specversion() == "1.0"
        assert parsed.get_source() == "urn:o2c-engine"
        assert parsed.get_type().startswith("o2c.") and parsed.get_type() == e.type
        assert parsed.get_subject() == e.subject and "/" in e.subject
        assert parsed.get_datacontenttype() == "application/json"
        assert parsed.get_time() == e.time
        data = parsed.get_data()
        assert isinstance(data, dict) and data["entityVersion"] == e.entity_version
        legacy = from_json(body)  # the SDK's v1 HTTP API reads it too
        assert legacy["id"] == e.id and legacy.data["entityVersion"] == e.entity_version


def test_a_state_change_event_carries_snapshot_from_to_trigger_and_cause(service: Collections) -> None:
    seed_portfolio(service, customers=1, invoices_each=1)
    (e, *_) = [e for e in events_after(service.ctx.store, 0, 100) if e.subject.startswith("invoices/")]
    assert e.subject.startswith("invoices/")
    assert {"snapshot", "from", "to", "trigger", "cause", "entityVersion"} <= set(e.data)


def test_the_events_query_replays_from_any_cursor_with_the_envelope(service: Collections) -> None:
    seed_portfolio(service, customers=2, invoices_each=2)
    everything = query(service.ctx, {"first": 500})
    assert not everything["hasMore"]
    all_ids = [e["id"] for e in everything["events"]]
    first = query(service.ctx, {"first": 2})
    assert first["hasMore"] and [e["id"] for e in first["events"]] == all_ids[:2]
    rest = query(service.ctx, {"first": 500, "after": first["endCursor"]})
    assert [e["id"] for e in rest["events"]] == all_ids[2:]
    e = rest["events"][0]
    assert e["envelope"]["specversion"] == "1.0" and e["envelope"]["id"] == e["id"]
    assert e["envelope"]["data"]["entityVersion"] == e["entityVersion"] == e["data"]["entityVersion"]
    assert JSONFormat().read(None, __import__("json").dumps(e["envelope"])).get_id() == e["id"]
    resumed = query(service.ctx, {"first": 500, "after": everything["endCursor"]})
    assert resumed["events"] == [] and resumed["endCursor"] == everything["endCursor"]
    invoices = query(service.ctx, {"first": 500, "types": ["o2c.invoice.issued"]})
    assert {x["type"] for x in invoices["events"]} == {"o2c.invoice.issued"}


def test_cursors_are_opaque_and_a_forged_one_is_a_validation_error() -> None:
    assert decode(encode(42)) == 42
    assert not encode(42).isdigit()
    assert decode("42") == 42  # the first release's cursors still work
    with pytest.raises(ValidationFailed):
        decode("evt_bm9wZQ")


@pytest.mark.postgres
def test_a_transaction_that_commits_late_with_an_earlier_position_is_never_skipped(pg_database: str) -> None:
    store = Store(pg_database)
    try:
        with read_only(store) as uow:
            start = int(uow.select("SELECT COALESCE(MAX(id), 0) FROM outbox")[0])
        early, late = psycopg2.connect(pg_database), psycopg2.connect(pg_database)
        try:
            insert = (
                "INSERT INTO outbox (event_id, type, subject, entity_type, entity_id, entity_version, time, data)"
                " VALUES (%s, 'o2c.invoice.state_changed', 'invoices/1', 'invoice', 1, %s, now(), '{}')"
                " RETURNING id"
            )
            with early.cursor() as cur:
                cur.execute(insert, ("late-committer", 1))
                early_position = cur.fetchone()[0]
            with late.cursor() as cur:
                cur.execute(insert, ("early-committer", 2))
                late_position = cur.fetchone()[0]
            late.commit()
            assert early_position < late_position
            # The later position is committed and visible, but a reader must not pass the open one.
            assert stable_position(store) is None
            assert [e.id for e in events_after(store, start, 10)] == ["early-committer"]
            assert settled_events_after(store, start, 10) == []
            early.commit()
            assert stable_position(store) == late_position
            seen = [e.id for e in settled_events_after(store, start, 10)]
            # A fresh horizon may be cached for a moment: read until both are there.
            while len(seen) < 2:
                seen = [e.id for e in settled_events_after(store, start, 10)]
            assert seen == ["late-committer", "early-committer"]
        finally:
            early.close()
            late.close()
    finally:
        store.disconnect()

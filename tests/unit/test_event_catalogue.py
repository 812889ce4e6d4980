"""The event catalogue is the one list of event types: its schemas are valid, the docs carry it,
and what clients name (webhooks, filters) must be in it."""

from __future__ import annotations

from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from engine.journal.catalogue import CATALOGUE, check_event_types, event_type, rewrite_doc
from states.errors import ValidationFailed

ROOT = Path(__file__).resolve().parents[2]


def test_every_event_type_has_a_valid_json_schema_that_requires_the_entity_version() -> None:
    for t in CATALOGUE.values():
        schema = t.schema()
        Draft202012Validator.check_schema(schema)
        assert "entityVersion" in schema["required"], t.name
        assert t.name.startswith("o2c."), t.name


def test_docs_events_lists_exactly_the_catalogue() -> None:
    doc = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    assert rewrite_doc(doc) == doc, "docs/events.md is stale: run `python -m engine.journal`"


def test_an_unknown_event_type_named_by_a_client_is_refused_with_the_allowed_list() -> None:
    with pytest.raises(ValidationFailed) as err:
        check_event_types(["o2c.invoice.state_changed", "o2c.invoice.payed"], "eventTypes")
    assert err.value.field == "eventTypes"
    assert "'o2c.invoice.payed'" in str(err.value)
    assert "o2c.payment.applied" in str(err.value)
    assert check_event_types(["o2c.payment.applied"], "types") == ["o2c.payment.applied"]


def test_writing_an_event_type_missing_from_the_catalogue_is_a_programming_error() -> None:
    with pytest.raises(KeyError, match="not in the catalogue"):
        event_type("o2c.invoice.teleported")

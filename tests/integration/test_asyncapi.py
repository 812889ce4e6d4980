"""docs/asyncapi.yaml is the machine-readable event contract: generated from the catalogue, valid
AsyncAPI 3.0 (checked against the official JSON Schema from the `@asyncapi/specs` npm package), and
every envelope the service really sends validates against its message."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator, Draft202012Validator

from engine.demo import load_demo
from engine.events.envelope import to_dict
from engine.journal.asyncapi import DOCUMENT, render
from engine.journal.catalogue import CATALOGUE
from engine.queries.events import events_after
from engine.service import Collections

SPECS = "@asyncapi/specs@6.11.1"


def _document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DOCUMENT.read_text())
    return loaded


def test_the_checked_in_document_is_generated_from_the_catalogue() -> None:
    assert DOCUMENT.read_text() == render(), "run python -m engine.journal.asyncapi"
    doc = _document()
    assert doc["asyncapi"] == "3.0.0"
    assert set(doc["components"]["messages"]) == set(CATALOGUE)
    for channel in ("webhook", "subscription"):
        assert set(doc["channels"][channel]["messages"]) == set(CATALOGUE)


def _official_schema(tmp: Path) -> dict[str, Any] | None:
    npm = shutil.which("npm")
    if npm is None:
        if os.environ.get("CI") == "true":
            pytest.fail("npm is required in CI to fetch the AsyncAPI JSON Schema")
        return None
    subprocess.run([npm, "pack", "--silent", SPECS], cwd=tmp, check=True, timeout=300, capture_output=True)
    (archive,) = tmp.glob("*.tgz")
    with tarfile.open(archive) as tar:
        member = tar.extractfile("package/schemas/3.0.0.json")
        assert member is not None
        loaded: dict[str, Any] = json.load(member)
    return loaded


@pytest.mark.slow
def test_the_document_is_valid_asyncapi_3(tmp_path: Path) -> None:
    schema = _official_schema(tmp_path)
    if schema is None:
        pytest.skip("npm not installed (the AsyncAPI JSON Schema is an npm package; CI requires it)")
    validator = Draft7Validator(schema)
    errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(_document())]
    assert not errors, errors[:5]
    broken = {**_document(), "operations": {"x": {"action": "listen", "channel": {"$ref": "#/channels/webhook"}}}}
    assert not validator.is_valid(broken)  # the official schema does judge


def test_every_envelope_the_service_sends_validates_against_its_asyncapi_message(service: Collections) -> None:
    load_demo(service, seed=5, customers=20, invoices=120)
    doc = _document()
    events = events_after(service.ctx.store, 0, 10_000)
    assert {e.type for e in events} >= {"o2c.customer.created", "o2c.invoice.issued"}
    for event in events:
        envelope = to_dict(event, "urn:o2c-engine")
        message = Draft202012Validator({**doc, "$ref": f"#/components/messages/{event.type}/payload"})
        assert not [e.message for e in message.iter_errors(envelope)], event.type
        other = next(name for name in CATALOGUE if name != event.type)
        wrong = Draft202012Validator({**doc, "$ref": f"#/components/messages/{other}/payload"})
        assert not wrong.is_valid(envelope)  # a message accepts only its own type

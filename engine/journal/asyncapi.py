"""The machine-readable event contract: an AsyncAPI 3.0 document generated from the event catalogue
(`docs/asyncapi.yaml`). Every catalogued type is one message — the CloudEvents 1.0 JSON envelope
whose `type` is that name and whose `data` follows the type's JSON Schema — received on two channels:
webhooks (HTTP POST to the integrator's URL, Standard Webhooks signatures) and the GraphQL `events`
subscription (`graphql-transport-ws` on `/graphql`, the envelope in the `envelope` field).

`python -m engine.journal.asyncapi` rewrites the file; `--check` fails when it is out of date (lint)."""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import yaml

from engine.events.envelope import DATACONTENTTYPE, SPECVERSION, STRUCTURED_CONTENT_TYPE
from engine.journal import ENTITY_PATHS
from engine.journal.catalogue import CATALOGUE, EventType

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"
JSON = dict[str, Any]


def _version() -> str:
    try:
        return version("o2c-engine")
    except PackageNotFoundError:  # a source tree that was not installed
        return "0.0.0"


ENVELOPE: JSON = {
    "type": "object",
    "description": "CloudEvents 1.0, JSON structured mode. Deduplicate by `id`; order one subject's events "
    "by `data.entityVersion` (no global order is promised).",
    "required": ["id", "source", "specversion", "type", "subject", "time", "datacontenttype", "data"],
    "properties": {
        "id": {"type": "string", "description": "unique per event; the `webhook-id` of every attempt"},
        "source": {"type": "string", "description": "`O2C_EVENT_SOURCE`, `urn:o2c-engine` by default"},
        "specversion": {"type": "string", "const": SPECVERSION},
        "type": {"type": "string"},
        "subject": {"type": "string", "pattern": f"^({'|'.join(sorted(set(ENTITY_PATHS.values())))})/[0-9]+$"},
        "time": {"type": "string", "format": "date-time"},
        "datacontenttype": {"type": "string", "const": DATACONTENTTYPE},
        "data": {"type": "object"},
    },
}


def _payload(entry: EventType) -> JSON:
    data = {k: v for k, v in entry.schema().items() if k not in ("$schema", "title")}
    return {
        "allOf": [
            {"$ref": "#/components/schemas/CloudEvent"},
            {"type": "object", "properties": {"type": {"const": entry.name}, "data": data}},
        ]
    }


def _message(entry: EventType) -> JSON:
    return {
        "name": entry.name,
        "title": entry.name,
        "summary": entry.summary,
        "contentType": STRUCTURED_CONTENT_TYPE,
        "payload": _payload(entry),
    }


def document() -> JSON:
    """The AsyncAPI 3.0 document as a plain dict (YAML- and JSON-ready)."""
    messages = {name: {"$ref": f"#/components/messages/{name}"} for name in CATALOGUE}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "o2c-engine events",
            "version": _version(),
            "description": "Every change the engine makes, as one CloudEvent from the outbox (docs/events.md): at "
            "least once, signed webhooks with retries, and a GraphQL subscription; replay from a cursor with "
            "the `events` query.",
        },
        "defaultContentType": STRUCTURED_CONTENT_TYPE,
        "servers": {
            "graphql": {
                "host": "localhost:8000",
                "protocol": "ws",
                "pathname": "/graphql",
                "description": "The `events` subscription over graphql-transport-ws; the key goes in "
                "connection_init as {Authorization: 'Bearer KEY'}.",
            }
        },
        "channels": {
            "webhook": {
                "address": "{endpointUrl}",
                "title": "Webhook deliveries",
                "description": "POSTed to each registered endpoint whose event types and subject filter match; "
                "signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature).",
                "parameters": {"endpointUrl": {"description": "the URL given to registerWebhook"}},
                "messages": messages,
            },
            "subscription": {
                "address": "/graphql",
                "title": "GraphQL events subscription",
                "description": "subscription { events(types: [...]) { envelope } } — one message per event.",
                "servers": [{"$ref": "#/servers/graphql"}],
                "messages": messages,
            },
        },
        "operations": {
            "receiveWebhook": {
                "action": "receive",
                "title": "Receive a webhook",
                "channel": {"$ref": "#/channels/webhook"},
                "messages": [{"$ref": f"#/channels/webhook/messages/{name}"} for name in CATALOGUE],
            },
            "subscribeToEvents": {
                "action": "receive",
                "title": "Receive events from the GraphQL subscription",
                "channel": {"$ref": "#/channels/subscription"},
                "messages": [{"$ref": f"#/channels/subscription/messages/{name}"} for name in CATALOGUE],
            },
        },
        "components": {
            "schemas": {"CloudEvent": ENVELOPE},
            "messages": {name: _message(entry) for name, entry in CATALOGUE.items()},
        },
    }


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # the two channels list the same messages: write both out, no YAML anchors


def render() -> str:
    header = "# Generated from engine/journal/catalogue.py by `python -m engine.journal.asyncapi`; do not edit.\n"
    return header + yaml.dump(document(), Dumper=_NoAliases, sort_keys=False, allow_unicode=True, width=120)


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not DOCUMENT.exists() or DOCUMENT.read_text(encoding="utf-8") != text:
            print(f"{DOCUMENT.name} is out of date: run python -m engine.journal.asyncapi", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

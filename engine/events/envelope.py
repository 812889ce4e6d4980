"""The CloudEvents 1.0 JSON envelope of one outbox event, built with the `cloudevents` SDK.

The same bytes go to webhooks (structured content mode); the GraphQL `events` query and
subscription expose the same attributes. `id` is the outbox event id: a consumer
deduplicates by it, and a webhook retry carries it unchanged as `webhook-id`.
"""

from __future__ import annotations

import json
from typing import Any

from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from engine.queries.events import EventView

SPECVERSION = "1.0"
DATACONTENTTYPE = "application/json"
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"  # the HTTP Content-Type of a webhook body
_FORMAT = JSONFormat()


def cloud_event(event: EventView, source: str) -> CloudEvent:
    """The SDK's event (validated on construction: a malformed attribute raises)."""
    data: dict[str, Any] = {**event.data, "entityVersion": event.entity_version}
    attributes: dict[str, Any] = {
        "id": event.id,
        "source": source,
        "specversion": SPECVERSION,
        "type": event.type,
        "subject": event.subject,
        "time": event.time,
        "datacontenttype": DATACONTENTTYPE,
    }
    return CloudEvent(attributes, data)


def to_json(event: EventView, source: str) -> bytes:
    """The structured-mode JSON body: attributes and `data` in one object."""
    return _FORMAT.write(cloud_event(event, source))


def to_dict(event: EventView, source: str) -> dict[str, Any]:
    """The envelope as a JSON-ready dict (what GraphQL returns as `envelope`)."""
    parsed: dict[str, Any] = json.loads(to_json(event, source))
    return parsed

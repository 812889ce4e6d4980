"""The event catalogue: every `o2c.*` event type the service emits, with the JSON Schema of its
`data`. One list that the writers check against, webhook registration and event filters validate
with, and `docs/events.md` is checked against (tests/unit/test_event_catalogue.py).

Schemas name the keys a consumer may rely on; they allow extra keys so that adding a field is not
a breaking change (the contract in docs/events.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from states.errors import ValidationFailed

JSON = dict[str, Any]

MONEY: JSON = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "description": "decimal amount, no exponent"}
NULLABLE_STRING: JSON = {"type": ["string", "null"]}
TRACEPARENT: JSON = {
    "type": "string",
    "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
    "description": "W3C trace context of the change that caused the event (present when it was traced)",
}
CAUSE: JSON = {
    "type": "object",
    "required": ["kind"],
    "properties": {"kind": {"type": "string"}},
    "description": "who or what caused it: a rule (strategy, version, content_hash, rule), a user, a payment, a timer…",
}


def _snapshot(required: list[str], properties: JSON) -> JSON:
    return {"type": "object", "required": required, "properties": properties}


INVOICE_SNAPSHOT = _snapshot(
    ["id", "state", "version"],
    {
        "id": {"type": "integer"},
        "number": {"type": "string"},
        "customerId": {"type": "integer"},
        "state": {"type": "string"},
        "dunningLevel": {"type": "integer"},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "amount": MONEY,
        "openAmount": MONEY,
        "dueDate": {"type": "string", "format": "date"},
        "version": {"type": "integer"},
    },
)
ACCOUNT_SNAPSHOT = _snapshot(
    ["id", "state"],
    {
        "id": {"type": "integer"},
        "state": {"type": "string"},
        "holdReason": {"type": "string"},
        "riskClass": {"type": "string"},
        "riskScore": {"type": "integer"},
    },
)
DISPUTE_SNAPSHOT = _snapshot(
    ["id", "invoiceId", "state", "amount", "version"],
    {
        "id": {"type": "integer"},
        "invoiceId": {"type": "integer"},
        "state": {"type": "string"},
        "reasonCode": {"type": "string"},
        "amount": MONEY,
        "outcome": NULLABLE_STRING,
        "version": {"type": "integer"},
        "paymentId": {"type": "integer", "description": "a deduction: the short payment that left the difference"},
    },
)


def transition(snapshot: JSON) -> JSON:
    """The data of an event that reports a state machine transition (history row + event)."""
    return {
        "type": "object",
        "required": ["from", "to", "trigger", "actor", "cause", "reason", "snapshot"],
        "properties": {
            "from": NULLABLE_STRING,
            "to": {"type": "string"},
            "trigger": {"type": "string"},
            "actor": {"type": "string"},
            "cause": CAUSE,
            "reason": NULLABLE_STRING,
            "snapshot": snapshot,
        },
    }


NOTICE_SNAPSHOT = _snapshot([], {})


def notice_transition() -> JSON:
    """A notice transition (states/notice.py): the message's channel (the one used once rendered), its
    recipient (null until rendered) and the numbers of the invoices it concerns."""
    base = transition(NOTICE_SNAPSHOT)
    return {
        **base,
        "required": [*base["required"], "channel", "recipient", "invoices"],
        "properties": {
            **base["properties"],
            "channel": {"type": "string"},
            "recipient": NULLABLE_STRING,
            "invoices": {"type": "array", "items": {"type": "string"}},
        },
    }


NOTICE_SUMMARIES = {
    "requested": "The daily cycle asked for a message to a customer (one per customer, date and channel, "
    "listing its invoices with their levels in `lines`).",
    "rendered": "The message was rendered from its template in the recipient's language (maybe on a fallback channel).",
    "queued": "The message waits for its channel.",
    "sent": "The channel accepted the message.",
    "delivered": "The channel reported the message delivered.",
    "bounced": "The channel refused the recipient for good.",
    "failed": "The message could not be sent and was given up.",
    "cancelled": "The message was stopped before it left (nothing left to ask for, nobody reachable, or a person).",
}


@dataclass(frozen=True)
class EventType:
    name: str
    entity_type: str  # the `entity_type` of the outbox row; its version orders the entity's events
    summary: str
    data: JSON

    def schema(self) -> JSON:
        """The JSON Schema of the event's `data`, with the `entityVersion` every event carries."""
        required = [*self.data.get("required", []), "entityVersion"]
        properties = {
            **self.data.get("properties", {}),
            "entityVersion": {"type": "integer", "minimum": 1},
            "traceparent": TRACEPARENT,
        }
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": self.name,
            "description": self.summary,
            **self.data,
            "required": required,
            "properties": properties,
        }


_TYPES = (
    EventType(
        "o2c.invoice.issued",
        "invoice",
        "An invoice was created (API, import or demo) in state open.",
        transition(INVOICE_SNAPSHOT),
    ),
    EventType(
        "o2c.invoice.state_changed",
        "invoice",
        "An invoice moved in its machine (overdue, dunning level, promised, disputed, paid, escalated…).",
        transition(INVOICE_SNAPSHOT),
    ),
    EventType(
        "o2c.invoice.amount_changed",
        "invoice",
        "An invoice's open amount changed without a state change (a partial payment, a reversal that does not reopen).",
        {
            "type": "object",
            "required": ["cause", "snapshot"],
            "properties": {"cause": CAUSE, "reason": NULLABLE_STRING, "snapshot": INVOICE_SNAPSHOT},
        },
    ),
    EventType(
        "o2c.dispute.state_changed",
        "dispute",
        "A dispute was opened or moved (review, awaiting customer, resolved, escalated, withdrawn).",
        transition(DISPUTE_SNAPSHOT),
    ),
    EventType(
        "o2c.account.credit_hold_placed",
        "account",
        "A customer's credit account went on hold, or gained a hold reason.",
        transition(ACCOUNT_SNAPSHOT),
    ),
    EventType(
        "o2c.account.credit_hold_released",
        "account",
        "A hold reason cleared or a person released the hold.",
        transition(ACCOUNT_SNAPSHOT),
    ),
    EventType(
        "o2c.account.risk_class_changed",
        "account",
        "The risk score moved a customer that was scored before into another risk class.",
        transition(ACCOUNT_SNAPSHOT),
    ),
    EventType(
        "o2c.customer.created",
        "account",
        "A customer was created (API, import or demo).",
        {
            "type": "object",
            "required": ["snapshot"],
            "properties": {
                "snapshot": _snapshot(["id"], {"id": {"type": "integer"}, "externalRef": {"type": "string"}})
            },
        },
    ),
    EventType(
        "o2c.customer.updated",
        "account",
        "A customer's master data changed; `changed` holds the new values by field.",
        {"type": "object", "required": ["changed"], "properties": {"changed": {"type": "object"}}},
    ),
    *(
        EventType(
            f"o2c.notice.{state}",
            "notice",
            summary,
            notice_transition(),
        )
        for state, summary in NOTICE_SUMMARIES.items()
    ),
    EventType(
        "o2c.payment.applied",
        "payment",
        "A payment was recorded and allocated; what it did not allocate is the customer's unapplied credit.",
        {
            "type": "object",
            "required": ["snapshot"],
            "properties": {
                "snapshot": _snapshot(
                    ["id", "currency", "amount", "unapplied", "allocations"],
                    {
                        "id": {"type": "integer"},
                        "reference": NULLABLE_STRING,
                        "currency": {"type": "string"},
                        "amount": MONEY,
                        "unapplied": MONEY,
                        "allocations": {
                            "type": "array",
                            "items": _snapshot(
                                ["invoiceId", "amount"], {"invoiceId": {"type": "integer"}, "amount": MONEY}
                            ),
                        },
                    },
                )
            },
        },
    ),
    EventType(
        "o2c.payment.reversed",
        "payment",
        "A payment was reversed (returned, bounced); the invoices it paid reopen or grow again.",
        {
            "type": "object",
            "required": ["reason", "actor", "snapshot"],
            "properties": {
                "reason": NULLABLE_STRING,
                "actor": {"type": "string"},
                "snapshot": _snapshot(["id"], {"id": {"type": "integer"}, "reference": NULLABLE_STRING}),
            },
        },
    ),
)

_CASH_TYPES: tuple[EventType, ...] = (
    EventType(
        "o2c.payment.unapplied",
        "payment",
        "A payment's allocations were taken back (a wrong match); the money is unapplied credit again.",
        {
            "type": "object",
            "required": ["reason", "actor", "snapshot"],
            "properties": {
                "reason": NULLABLE_STRING,
                "actor": {"type": "string"},
                "snapshot": _snapshot(["id"], {"id": {"type": "integer"}, "unapplied": MONEY}),
            },
        },
    ),
    EventType(
        "o2c.bank_transaction.state_changed",
        "bank_transaction",
        "A bank transaction moved in cash application (auto-applied, suggested, unmatched, applied, "
        "on account, excluded, returned); `reason` holds the match's reasons.",
        transition(
            _snapshot(
                ["id", "state", "version"],
                {
                    "id": {"type": "integer"},
                    "bankRef": {"type": "string"},
                    "state": {"type": "string"},
                    "amount": MONEY,
                    "currency": {"type": "string"},
                    "customerId": {"type": ["integer", "null"]},
                    "paymentId": {"type": ["integer", "null"]},
                    "confidence": {"type": "integer"},
                    "version": {"type": "integer"},
                },
            )
        ),
    ),
)

# The collectors' workspace (issue 16): tasks, dunning blocks, dispute comments and owners, the
# customer timeline, portfolios, write-off requests.
TASK_SNAPSHOT = _snapshot(
    ["id", "subject", "queue", "status", "version"],
    {
        "id": {"type": "integer"},
        "subject": {"type": "string", "description": "invoice:ID or customer:ID"},
        "queue": {"type": "string"},
        "status": {"type": "string"},
        "assignee": NULLABLE_STRING,
        "customerId": {"type": "integer"},
        "invoiceId": {"type": ["integer", "null"]},
        "version": {"type": "integer"},
    },
)
BLOCK_SNAPSHOT = _snapshot(
    ["id", "customerId", "reasonCode", "status", "version"],
    {
        "id": {"type": "integer"},
        "customerId": {"type": "integer"},
        "invoiceId": {"type": ["integer", "null"]},
        "reasonCode": {"type": "string"},
        "status": {"type": "string"},
        "startsOn": {"type": "string", "format": "date"},
        "endsOn": {"type": ["string", "null"], "format": "date"},
        "version": {"type": "integer"},
    },
)


def _news(required: list[str], properties: JSON) -> JSON:
    return {"type": "object", "required": required, "properties": properties}


_COLLECTOR_TYPES: tuple[EventType, ...] = (
    EventType(
        "o2c.task.opened",
        "task",
        "A task was opened for a queue (by a rule, an escalation with its hand-over, a person, the phone "
        "channel or an undeliverable notice); at most one unfinished per subject and queue.",
        transition(TASK_SNAPSHOT),
    ),
    EventType(
        "o2c.task.state_changed",
        "task",
        "A task moved: assigned, started, snoozed, woken, completed with an outcome, cancelled.",
        transition(TASK_SNAPSHOT),
    ),
    EventType(
        "o2c.dunning_block.placed",
        "dunning_block",
        "Dunning was blocked on a customer or an invoice (reason code, optional end date).",
        transition(BLOCK_SNAPSHOT),
    ),
    EventType(
        "o2c.dunning_block.state_changed",
        "dunning_block",
        "A dunning block was lifted by a person or expired after its end date.",
        transition(BLOCK_SNAPSHOT),
    ),
    EventType(
        "o2c.dispute.commented",
        "dispute",
        "A person commented on a dispute.",
        _news(
            ["author", "text", "snapshot"],
            {"author": {"type": "string"}, "text": {"type": "string"}, "snapshot": DISPUTE_SNAPSHOT},
        ),
    ),
    EventType(
        "o2c.dispute.owner_changed",
        "dispute",
        "A dispute got another owner (a queue or a collector).",
        _news(
            ["from", "to", "actor", "snapshot"],
            {
                "from": NULLABLE_STRING,
                "to": {"type": "string"},
                "actor": {"type": "string"},
                "snapshot": DISPUTE_SNAPSHOT,
            },
        ),
    ),
    EventType(
        "o2c.note.added",
        "note",
        "A person added a note to a customer's timeline (optionally about one invoice).",
        _news(
            ["text", "author"],
            {"text": {"type": "string"}, "author": {"type": "string"}, "invoiceId": {"type": ["integer", "null"]}},
        ),
    ),
    EventType(
        "o2c.call.logged",
        "note",
        "A person logged a call with its outcome (reached, voicemail, promise, dispute, wrong number…).",
        _news(
            ["outcome", "author"],
            {
                "outcome": {"type": "string"},
                "text": {"type": "string"},
                "author": {"type": "string"},
                "invoiceId": {"type": ["integer", "null"]},
            },
        ),
    ),
    EventType(
        "o2c.attachment.added",
        "attachment",
        "A file was stored for a customer (its type sniffed from the bytes, its size checked).",
        _news(
            ["filename", "contentType", "size", "sha256"],
            {
                "filename": {"type": "string"},
                "contentType": {"type": "string"},
                "size": {"type": "integer"},
                "sha256": {"type": "string"},
            },
        ),
    ),
    EventType(
        "o2c.customer.collector_assigned",
        "account",
        "A person put a customer in a collector's portfolio by hand (rules assign in bulk without events).",
        _news(["from", "to", "by"], {"from": NULLABLE_STRING, "to": NULLABLE_STRING, "by": {"type": "string"}}),
    ),
    EventType(
        "o2c.write_off.state_changed",
        "write_off",
        "A write-off above the requester's limit was requested, approved (the invoice is written off in "
        "the same transaction) or rejected.",
        transition(
            _snapshot(
                ["id", "invoiceId", "status"],
                {"id": {"type": "integer"}, "invoiceId": {"type": "integer"}, "status": {"type": "string"}},
            )
        ),
    ),
)

CATALOGUE: dict[str, EventType] = {t.name: t for t in (*_TYPES, *_CASH_TYPES, *_COLLECTOR_TYPES)}
EVENT_TYPES: tuple[str, ...] = tuple(CATALOGUE)


def event_type(name: str) -> EventType:
    """The catalogue entry of an event the code is about to write; an unknown name is a bug."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise KeyError(f"event type {name!r} is not in the catalogue (engine/journal/catalogue.py)") from None


def check_event_types(names: list[str] | tuple[str, ...], field: str) -> list[str]:
    """Event types a client named (webhook registration, event filters): each must be one the
    service emits; an unknown one is refused with the allowed list."""
    unknown = [n for n in names if n not in CATALOGUE]
    if unknown:
        raise ValidationFailed(
            f"unknown event type{'s' if len(unknown) > 1 else ''} {', '.join(repr(n[:80]) for n in unknown[:5])};"
            f" the service emits: {', '.join(EVENT_TYPES)}",
            field,
        )
    return list(names)


def markdown() -> str:
    """The catalogue as the table `docs/events.md` carries between its markers."""
    lines = [
        "| type | subject | data (besides `entityVersion`) | when |",
        "| --- | --- | --- | --- |",
    ]
    for t in CATALOGUE.values():
        keys = ", ".join(f"`{k}`" for k in t.data.get("properties", {}))
        lines.append(f"| `{t.name}` | `{t.entity_type}` | {keys} | {t.summary} |")
    return "\n".join(lines)


DOC_START = "<!-- event-catalogue:start (generated: python -m engine.journal) -->"
DOC_END = "<!-- event-catalogue:end -->"


def rewrite_doc(text: str) -> str:
    """`text` with the block between the markers replaced by the current catalogue."""
    head, _, rest = text.partition(DOC_START)
    _, _, tail = rest.partition(DOC_END)
    return f"{head}{DOC_START}\n{markdown()}\n{DOC_END}{tail}"

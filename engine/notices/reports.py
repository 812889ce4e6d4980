"""Delivery reports: what a provider later says about a message that was `sent`.

A report names the message (`notice`: its id or its key `notice-ID`; for a Twilio-style SMS status
callback also the provider's `MessageSid`, kept in the message's delivery text) and an outcome:
`delivered`, `bounced` (the address is wrong for good) or `failed`. Twilio's `MessageStatus` maps
`delivered → delivered`, `undelivered`/`failed` → `failed`, or `bounced` with the error codes of an
unknown or invalid number; its interim statuses (`queued`, `sending`, `sent`, `accepted`) change
nothing. The move goes through the notice machine (history and the `o2c.notice.*` event); a report
for a message that is not `sent` any more (already reported) changes nothing and says so.
A bounce also marks the contact's channel invalid, as a refusal at sending does."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl

from engine.notices.machine import fire_notice
from engine.notices.recipients import ADDRESS_OF
from engine.services.contacts import mark_invalid
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork
from states import notice as ntc
from states.actors import Actor
from states.errors import NotFound, ValidationFailed

ACTOR = Actor("system", "delivery-report")
SIGNATURE_HEADER = "X-O2C-Signature"  # "sha256=" + hex HMAC-SHA256 of the raw body
OUTCOMES = {"delivered": "deliver", "bounced": "bounce", "failed": "fail"}
TWILIO_STATUS = {"delivered": "delivered", "undelivered": "failed", "failed": "failed"}
TWILIO_INTERIM = frozenset({"queued", "accepted", "scheduled", "sending", "sent"})
# Twilio error codes that say the number itself is wrong: a bounce, not a failure.
TWILIO_BOUNCE_CODES = frozenset({"21211", "21614", "30005", "30006"})
CHANNELS = ("email", "sms", "letter")


@dataclass(frozen=True)
class Report:
    notice_id: int | None
    provider_id: str | None
    outcome: str | None  # delivered | bounced | failed; None: an interim status, nothing to do
    reason: str | None


def signed(secret: str, body: bytes, header: str | None) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return header is not None and hmac.compare_digest(expected, header.strip())


def parse(channel: str, content_type: str, body: bytes) -> Report:
    """A JSON report `{"notice": …, "status": …, "reason": …}` on every channel, or a Twilio-style
    form post on `sms`. Raises `ValidationFailed` (with the field) for anything else."""
    if channel not in CHANNELS:
        raise ValidationFailed(f"no delivery reports for channel {channel!r}; one of {', '.join(CHANNELS)}", "channel")
    if content_type.startswith("application/x-www-form-urlencoded") and channel == "sms":
        try:
            form = dict(parse_qsl(body.decode(), strict_parsing=True))
        except (UnicodeDecodeError, ValueError):
            raise ValidationFailed("the form post cannot be read", "body") from None
        status = form.get("MessageStatus") or form.get("SmsStatus") or ""
        code = form.get("ErrorCode") or None
        if status in TWILIO_INTERIM:
            outcome = None
        elif status in TWILIO_STATUS:
            outcome = "bounced" if code in TWILIO_BOUNCE_CODES else TWILIO_STATUS[status]
        else:
            raise ValidationFailed(f"unknown MessageStatus {status!r}", "MessageStatus")
        said = f"{status} (error {code})" if code else status
        return Report(_notice_id(form.get("notice")), form.get("MessageSid") or None, outcome, said)
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise ValidationFailed("the body must be JSON (or a form post for sms)", "body") from None
    if not isinstance(data, dict):
        raise ValidationFailed("the body must be a JSON object", "body")
    given = data.get("status")
    if given not in OUTCOMES:
        raise ValidationFailed(f"status must be one of {', '.join(OUTCOMES)}", "status")
    note = data.get("reason")
    if note is not None and not isinstance(note, str):
        raise ValidationFailed("reason must be text", "reason")
    notice = _notice_id(data.get("notice"))
    if notice is None:
        raise ValidationFailed("notice is required: the message id or its key notice-ID", "notice")
    return Report(notice, None, str(given), note[:500] if note else None)


def _notice_id(value: object) -> int | None:
    if value is None or value == "":
        return None
    text = str(value).removeprefix("notice-")
    if isinstance(value, bool) or not text.isdigit() or len(text) > 18:
        raise ValidationFailed(f"notice must be a message id or notice-ID, not {value!r}", "notice")
    return int(text)


def apply_report(store: Store, channel: str, report: Report, now: datetime) -> str:
    """Move the message; returns its state afterwards. `NotFound` for an unknown message."""
    with UnitOfWork(store, write=True) as uow:
        msg = None
        if report.notice_id is not None:
            msg = uow.Notice.get(id=report.notice_id)
        elif report.provider_id:
            suffix = f" as {report.provider_id}"
            found = uow.Notice.select(lambda m: m.delivery is not None and m.delivery.endswith(suffix))[:1]
            msg = found[0] if found else None
        if msg is None or (msg.via or msg.channel) != channel:
            raise NotFound(f"no {channel} message {report.notice_id or report.provider_id}")
        if report.outcome is None or msg.state != ntc.SENT:
            return str(msg.state)  # interim, or reported already: nothing changes
        fire_notice(uow, msg, OUTCOMES[report.outcome], ACTOR, now, reason=report.reason, cause={"kind": "report"})
        if report.outcome == "bounced" and msg.recipient:
            field = ADDRESS_OF.get(channel)
            for contact in uow.Contact.select(lambda c: c.customer == msg.customer):
                if field and getattr(contact, field) == msg.recipient:
                    mark_invalid(contact, channel)
        state = str(msg.state)
        uow.commit()
        return state

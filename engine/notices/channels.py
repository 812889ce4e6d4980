"""The channel port: what the send step hands an adapter and what an adapter may answer.

One adapter module per channel (`mail.py`: SMTP or a `file:` directory; `letters.py`: PDFs to a
directory with a daily manifest; `sms_http.py`: a Twilio-compatible HTTP API). A channel without an
adapter leaves its messages `queued` and says so (`not_configured`). Phone messages are collector
tasks and never pass through here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol
from urllib.parse import urlsplit

from engine.config import Settings


@dataclass(frozen=True)
class Outgoing:
    notice_id: int
    channel: str
    recipient: str
    subject: str | None
    text: str
    html: str | None
    document: bytes | None
    business_date: date
    customer_ref: str

    @property
    def key(self) -> str:
        """Stable per notice: the email Message-ID and any provider's idempotency key. A message
        re-sent after a crash between sending and recording carries the same key."""
        return f"notice-{self.notice_id}"


class Refused(Exception):
    """A permanent refusal of the recipient (SMTP 5xx on RCPT, an invalid number): the message bounces."""


class Unavailable(Exception):
    """A transient failure (unreachable, 4xx, timeout): retried later with backoff."""


class Adapter(Protocol):
    channel: str

    def send(self, message: Outgoing) -> str:
        """Hand the message over; return what happened in words ("accepted by …", "written to …").
        Raise `Refused` or `Unavailable`."""
        ...

    def finish(self) -> None:
        """After a batch (e.g. rewrite the day's letter manifest)."""
        ...


def adapters_from(env: Settings) -> dict[str, Adapter]:
    """The adapters the settings configure: `O2C_SMTP_URL` (+ `O2C_MAIL_FROM`), `O2C_LETTER_DIR`,
    `O2C_SMS_URL` (+ `O2C_SMS_ACCOUNT`, `O2C_SMS_TOKEN`, `O2C_SMS_FROM`)."""
    from engine.notices.letters import LetterDirectory
    from engine.notices.mail import mail_adapter
    from engine.notices.sms_http import HttpSms

    found: dict[str, Adapter] = {}
    if env.smtp_url:
        found["email"] = mail_adapter(env.smtp_url, env.mail_from, env.mail_reply_to)
    if env.letter_dir:
        found["letter"] = LetterDirectory(env.letter_dir)
    if env.sms_url:
        found["sms"] = HttpSms(env.sms_url, env.sms_account or "", env.sms_token or "", env.sms_from or "")
    return found


def channel_status(env: Settings) -> dict[str, str]:
    """For `/readyz`: how each channel is served; a channel not configured keeps its messages queued."""
    smtp = env.smtp_url or ""
    email = "not configured (messages stay queued)"
    if smtp.startswith("file:"):
        email = f"written to files in {smtp.removeprefix('file:')}"
    elif smtp:
        email = f"smtp {smtp.split('@')[-1]}"  # never the credentials
    letter = env.letter_dir
    sms_host = urlsplit(env.sms_url or "").hostname  # never the credentials
    return {
        "email": email,
        "letter": f"written to files in {letter}" if letter else "not configured (messages stay queued)",
        "sms": f"http {sms_host}" if sms_host else "not configured (messages stay queued)",
        "phone": "collector tasks",
    }

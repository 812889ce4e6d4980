"""SMS over a Twilio-compatible HTTP API (httpx), the home of SMS sending.

Settings: `O2C_SMS_URL` (the API base, e.g. `https://api.provider.example`), `O2C_SMS_ACCOUNT` and
`O2C_SMS_TOKEN` (HTTP basic auth), `O2C_SMS_FROM` (the sender number or name). Each message is a
form post of `To`, `From`, `Body` to `{URL}/2010-04-01/Accounts/{ACCOUNT}/Messages.json` carrying
the idempotency header `I-Twilio-Idempotency-Token: notice-ID`: a re-send after a crash between
sending and recording is recognisably the same message.

What the provider answers decides the outcome: 2xx is accepted (the provider's message sid is kept
in the delivery text); 400 (e.g. Twilio error 21211, "invalid To number") refuses the recipient, so
the message bounces; 429, 5xx, other 4xx (credentials, a wrong URL: to be fixed by the operator),
timeouts and unreachable hosts are `Unavailable` and retried with backoff."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from engine.notices.channels import Outgoing, Refused, Unavailable
from states.errors import ValidationFailed

TIMEOUT_S = 10.0
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"


class HttpSms:
    channel = "sms"

    def __init__(self, url: str, account: str, token: str, sender: str, client: httpx.Client | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationFailed(f"O2C_SMS_URL must be an http(s) URL, not {url!r}", "O2C_SMS_URL")
        if not account or not token:
            raise ValidationFailed("O2C_SMS_ACCOUNT and O2C_SMS_TOKEN are required with O2C_SMS_URL", "O2C_SMS_ACCOUNT")
        if not sender:
            raise ValidationFailed("O2C_SMS_FROM is required with O2C_SMS_URL", "O2C_SMS_FROM")
        self.endpoint = f"{url.rstrip('/')}/2010-04-01/Accounts/{quote(account, safe='')}/Messages.json"
        self.host = parts.netloc.rsplit("@", 1)[-1]  # never the credentials
        self.sender = sender
        self._auth = httpx.BasicAuth(account, token)
        self._client = client
        self._owned = client is None

    def _session(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=TIMEOUT_S, follow_redirects=False)
        return self._client

    def send(self, message: Outgoing) -> str:
        form = {"To": message.recipient, "From": self.sender, "Body": message.text}
        try:
            answer = self._session().post(
                self.endpoint, data=form, auth=self._auth, headers={IDEMPOTENCY_HEADER: message.key}
            )
        except httpx.TimeoutException as exc:
            raise Unavailable(f"timeout: {type(exc).__name__}") from None
        except httpx.HTTPError as exc:
            raise Unavailable(f"{type(exc).__name__}: {exc}") from None
        body = _json(answer)
        if answer.is_success:
            sid = body.get("sid")
            return f"accepted by {self.host}" + (f" as {sid}" if isinstance(sid, str) and sid else "")
        why = f"{answer.status_code}" + (f" error {body['code']}" if body.get("code") is not None else "")
        if isinstance(body.get("message"), str):
            why += f": {body['message']}"
        if answer.status_code == 400:
            raise Refused(why)
        raise Unavailable(why)

    def finish(self) -> None:
        if self._owned and self._client is not None:
            self._client.close()
            self._client = None


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}

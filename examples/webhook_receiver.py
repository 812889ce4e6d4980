"""An example webhook receiver: verifies Standard Webhooks signatures and logs each event once.

    WEBHOOK_SECRET=whsec_... PORT=8080 python examples/webhook_receiver.py

Register it with `registerWebhook(input: {url: "http://HOST:8080/hooks"})` and put the secret that
mutation returns (shown once) in `WEBHOOK_SECRET`. What it does, as a receiver should:

- verifies `webhook-id`, `webhook-timestamp` and `webhook-signature` with the `standardwebhooks`
  library (the timestamp must be within five minutes): a bad signature gets 400, so nothing forged
  is logged (and the sender does not retry a 4xx);
- deduplicates by `webhook-id` (delivery is at least once: the same id may come again);
- answers 204 at once and would do any slow work elsewhere;
- without a secret configured it answers 503, so the sender keeps the deliveries and retries them
  once the secret is set (nothing is lost);
- `GET /healthz` answers 200 (the container health check).

Standard library plus `standardwebhooks`; one JSON line per event on stdout.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

log = logging.getLogger("webhook_receiver")
REMEMBERED_IDS = 100_000  # ids kept for deduplication (the oldest are forgotten first)


class Seen:
    """The webhook ids already handled, bounded."""

    def __init__(self, capacity: int = REMEMBERED_IDS) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def first_time(self, webhook_id: str) -> bool:
        with self._lock:
            if webhook_id in self._ids:
                return False
            self._ids[webhook_id] = None
            if len(self._ids) > self._capacity:
                self._ids.popitem(last=False)
            return True


def make_handler(secret: str | None, seen: Seen) -> type[BaseHTTPRequestHandler]:
    verifier = Webhook(secret) if secret else None

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer(200 if self.path == "/healthz" else 404, {"status": "ok"} if self.path == "/healthz" else None)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            if verifier is None:
                self._answer(503, {"error": "WEBHOOK_SECRET is not configured"})
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                event: Any = verifier.verify(body, headers)
            except WebhookVerificationError as exc:
                log.warning("refused a delivery: %s", exc)
                self._answer(400, {"error": f"signature: {exc}"})
                return
            webhook_id = headers["webhook-id"]
            if seen.first_time(webhook_id):
                record = {
                    "webhook_id": webhook_id,
                    "type": event.get("type"),
                    "subject": event.get("subject"),
                    "entity_version": (event.get("data") or {}).get("entityVersion"),
                    "time": event.get("time"),
                }
                print(json.dumps(record), flush=True)
            else:
                log.info("duplicate %s ignored", webhook_id)
            self._answer(204, None)

        def _answer(self, status: int, payload: dict[str, str] | None) -> None:
            data = json.dumps(payload).encode() if payload is not None else b""
            self.send_response(status)
            if data:
                self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return None  # one line per event is printed above; no access log

    return Handler


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    secret = os.environ.get("WEBHOOK_SECRET", "").strip() or None
    host, port = os.environ.get("HOST", "0.0.0.0"), int(os.environ.get("PORT", "8080"))
    server = ThreadingHTTPServer((host, port), make_handler(secret, Seen()))
    server.daemon_threads = True
    # As PID 1 in a container, SIGTERM is ignored unless handled: stop serving on it.
    signal.signal(signal.SIGTERM, lambda _s, _f: threading.Thread(target=server.shutdown).start())
    if secret is None:
        log.warning("WEBHOOK_SECRET is not set: answering 503 (the sender retries) until it is")
    log.info("receiving webhooks on http://%s:%d/hooks", host, server.server_address[1])
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

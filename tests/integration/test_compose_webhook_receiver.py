"""The example webhook receiver of docker-compose.yml, run as the real script: it accepts what our
dispatcher signs, logs each webhook-id once, refuses forged or stale deliveries, and answers 503
(retried by the sender) until its secret is configured."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from engine.webhooks.dispatcher import sign

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "webhook_receiver.py"
SECRET = "whsec_" + "c2VjcmV0LWZvci10aGUtZXhhbXBsZS1yZWNlaXZlcg=="


@contextmanager
def receiver(secret: str | None, log: Path) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "WEBHOOK_SECRET": secret or ""}
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, str(SCRIPT)], env=env, stdout=out, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _event(event_id: str) -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": "urn:o2c-engine",
            "type": "o2c.invoice.state_changed",
            "subject": "invoices/42",
            "time": "2026-03-02T12:00:00Z",
            "datacontenttype": "application/json",
            "data": {"to": "dunning", "entityVersion": 3},
        }
    ).encode()


def _post(base: str, body: bytes, headers: dict[str, str]) -> int:
    return httpx.post(f"{base}/hooks", content=body, headers=headers, timeout=5).status_code


def _logged(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


def test_a_signed_delivery_is_accepted_and_logged_once_even_when_sent_again(tmp_path: Path) -> None:
    log = tmp_path / "receiver.log"
    with receiver(SECRET, log) as base:
        body = _event("evt-1")
        headers = sign(SECRET, "evt-1", datetime.now(UTC), body)
        assert _post(base, body, headers) == 204
        assert _post(base, body, sign(SECRET, "evt-1", datetime.now(UTC), body)) == 204  # at-least-once resend

    assert _logged(log) == [
        {
            "webhook_id": "evt-1",
            "type": "o2c.invoice.state_changed",
            "subject": "invoices/42",
            "entity_version": 3,
            "time": "2026-03-02T12:00:00Z",
        }
    ]


def test_a_forged_or_stale_delivery_is_refused_and_not_logged(tmp_path: Path) -> None:
    log = tmp_path / "receiver.log"
    with receiver(SECRET, log) as base:
        body = _event("evt-2")
        other_secret = "whsec_" + "YW5vdGhlci1zZWNyZXQtYWx0b2dldGhlci1kaWZmZXJlbnQ="
        assert _post(base, body, sign(other_secret, "evt-2", datetime.now(UTC), body)) == 400
        tampered = body.replace(b"dunning", b"paid")
        assert _post(base, tampered, sign(SECRET, "evt-2", datetime.now(UTC), body)) == 400
        stale = datetime.now(UTC) - timedelta(hours=1)
        assert _post(base, body, sign(SECRET, "evt-2", stale, body)) == 400
        assert _post(base, body, {}) == 400

    assert _logged(log) == []


def test_without_a_secret_the_receiver_answers_503_so_the_sender_retries(tmp_path: Path) -> None:
    log = tmp_path / "receiver.log"
    with receiver(None, log) as base:
        body = _event("evt-3")
        assert _post(base, body, sign(SECRET, "evt-3", datetime.now(UTC), body)) == 503

    assert _logged(log) == []

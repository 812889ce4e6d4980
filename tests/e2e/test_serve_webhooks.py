"""`o2c serve` on one box delivers webhooks without a second command: a real server, a real receiver."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from server_process import running_server
from standardwebhooks import Webhook

from api.commands.serve import background_for
from engine.config import load_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from webhook_receiver import running_receiver

REGISTER = """mutation($url: String!) {
  registerWebhook(input: {url: $url, eventTypes: ["o2c.customer.created"]}) { secret }
}"""
CREATE = """mutation { createCustomer(input: {externalRef: "HOOK-1", name: "Hooked", segment: "smb",
  currency: "EUR", creditLimit: "100.00"}) { id } }"""


@pytest.mark.slow
def test_a_single_box_delivers_a_signed_webhook_for_a_committed_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("O2C_WEBHOOK_ALLOW_PRIVATE", "1")  # the receiver listens on 127.0.0.1
    with running_receiver() as receiver, running_server(f"sqlite:///{tmp_path / 'o2c.sqlite'}") as server:
        secret = server.graphql(REGISTER, {"url": receiver.url})["data"]["registerWebhook"]["secret"]
        assert server.graphql(CREATE)["data"]["createCustomer"]["id"]
        deadline = time.monotonic() + 60  # a bound, not a timing assertion
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.2)
        (request,) = receiver.received
        payload = Webhook(secret).verify(request.body, request.headers)
        assert payload["type"] == "o2c.customer.created"


def test_serve_runs_the_dispatcher_unless_switched_off_and_no_scheduler_runs_no_background_work() -> None:
    default = background_for(load_settings({}))
    assert default.scheduler and default.dispatch
    assert not background_for(load_settings({"O2C_SERVE_DISPATCH": "0"})).dispatch
    api_only = background_for(load_settings({}), no_scheduler=True)
    assert not api_only.scheduler and not api_only.dispatch
    assert background_for(load_settings({"O2C_SCHEDULER": "0"})) == api_only

"""A real `o2c dispatch` process SIGKILLed between sending a webhook and recording the answer:
a second dispatcher process sends it again with the same `webhook-id`, and nothing is lost."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from event_contract import became_overdue
from standardwebhooks import Webhook
from test_webhooks import hooks_store
from webhook_receiver import Receiver, running_receiver

from engine.journal import emit
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork, transact
from engine.webhooks import endpoints
from engine.webhooks.deliveries import get_delivery, list_deliveries

pytestmark = pytest.mark.slow
__all__ = ["hooks_store"]  # a fixture used by name
SENT = re.compile(r"o2c dispatch: sent delivery (\d+) webhook-id (\S+)")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as r:
        yield r


def publish(store: Store, n: int) -> list[str]:
    def work(uow: UnitOfWork) -> list[str]:
        return [
            emit(
                uow,
                type="o2c.invoice.state_changed",
                entity_type="invoice",
                entity_id=500 + k,
                entity_version=2,
                customer_id=None,
                at=datetime.now(UTC),
                data=became_overdue(500 + k),
            )
            for k in range(n)
        ]

    return transact(store, work)


def dispatch(database_url: str, *options: str, fault: str | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "O2C_DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1", "O2C_WEBHOOK_ALLOW_PRIVATE": "1"}
    env.pop("O2C_TODAY", None)
    if fault:
        env["O2C_DISPATCH_FAULT"] = fault
    cmd = [sys.executable, "-m", "api.cli", "dispatch", "--timeout", "5", "--idle", "0.2", *options]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.1)


def test_a_dispatcher_sigkilled_between_sending_and_recording_is_redelivered_by_another_with_the_same_id(
    hooks_store: Store, database_url: str, receiver: Receiver
) -> None:
    _, secret = endpoints.register(hooks_store, receiver.url, datetime.now(UTC), allow_private=True)
    event_ids = publish(hooks_store, 3)

    doomed = dispatch(database_url, "--batch", "1", "--lease", "3", fault="hang-after-send")
    try:
        assert doomed.stdout is not None
        for line in doomed.stdout:
            sent = SENT.search(line)
            if sent:
                break
        else:
            raise AssertionError(f"the dispatcher exited ({doomed.wait()}) before sending")
        delivery_id, webhook_id = int(sent.group(1)), sent.group(2)
        doomed.send_signal(signal.SIGKILL)  # between the receiver's 200 and recording it
        assert doomed.wait(timeout=30) == -signal.SIGKILL
    finally:
        if doomed.poll() is None:
            doomed.kill()
    assert receiver.ids() == [webhook_id]
    before = get_delivery(hooks_store, delivery_id)
    assert before is not None and before.status == "pending" and before.attempt_log == ()

    survivor = dispatch(database_url, "--batch", "5")
    try:
        wait_until(
            lambda: all(d.status == "succeeded" for d in list_deliveries(hooks_store)) and len(receiver.ids()) >= 4,
            "every delivery succeeded",
        )
    finally:
        survivor.send_signal(signal.SIGTERM)
        survivor.wait(timeout=30)

    ids = receiver.ids()
    assert ids.count(webhook_id) == 2  # the receiver saw the killed send and its redelivery
    assert sorted(set(ids)) == sorted(event_ids) and len(ids) == 4  # nothing lost, nothing else twice
    for request in receiver.received:
        assert Webhook(secret).verify(request.body, request.headers)["id"] == request.headers["webhook-id"]
    after = get_delivery(hooks_store, delivery_id)
    assert after is not None and after.status == "succeeded" and len(after.attempt_log) == 1

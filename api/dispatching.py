"""The webhook dispatcher in a thread of an `o2c serve` or `o2c worker` process: it runs until
stopped, then finishes the batch it claimed and closes its HTTP client."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from api.commands.dispatch import dispatcher_for
from engine.services.context import Context
from engine.webhooks.dispatcher import Dispatcher

log = logging.getLogger(__name__)


@dataclass
class Dispatching:
    dispatcher: Dispatcher
    thread: threading.Thread
    stopping: threading.Event

    def alive(self) -> bool:
        return self.thread.is_alive()

    def stop(self, timeout: float = 60.0) -> None:
        self.stopping.set()
        self.thread.join(timeout=timeout)


def start_dispatcher(ctx: Context, idle_seconds: float) -> Dispatching:
    dispatcher = dispatcher_for(ctx)
    stopping = threading.Event()

    def send_webhooks() -> None:
        try:
            dispatcher.run(stopping, idle_seconds=idle_seconds)
        finally:
            dispatcher.close()

    thread = threading.Thread(target=send_webhooks, name="webhook-dispatcher", daemon=True)
    thread.start()
    log.info("webhook dispatcher %s running", dispatcher.holder)
    return Dispatching(dispatcher, thread, stopping)

"""`o2c dispatch [--once]` — send webhook deliveries: fan out new events, claim due deliveries
with a lease, sign and send them, record every attempt. Run as many as you like: on PostgreSQL
they share the work (`FOR UPDATE SKIP LOCKED`); on SQLite they take turns.

Fault hooks for tests (`O2C_DISPATCH_FAULT`), both acting after a receiver answered and before the
outcome is recorded: `exit-after-send` ends the process at once; `hang-after-send` prints
`o2c dispatch: sent delivery <id> webhook-id <id>` and waits forever, to be SIGKILLed. Either way
the lease lapses and another dispatcher sends the delivery again, with the same `webhook-id`.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from collections.abc import Callable
from datetime import timedelta
from types import FrameType

from engine.bootstrap import build_context
from engine.services.context import Context
from engine.webhooks.dispatcher import Claimed, Dispatcher, Outcome

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dispatch", help="send webhook deliveries (several may run side by side)")
    p.add_argument("--once", action="store_true", help="one round: send what is due now, then exit")
    p.add_argument("--batch", type=int, default=None, help="deliveries claimed per round (O2C_DISPATCH_BATCH, 10)")
    p.add_argument("--timeout", type=float, default=None, help="HTTP timeout seconds (O2C_DISPATCH_TIMEOUT, 10)")
    p.add_argument("--idle", type=float, default=None, help="seconds to wait when idle (O2C_DISPATCH_IDLE, 1)")
    p.add_argument(
        "--lease",
        type=float,
        default=None,
        help="seconds a claim holds its deliveries (O2C_DISPATCH_LEASE; default: batch × (timeout + 1) + 30)",
    )
    p.set_defaults(run=_dispatch)


def _exit_after_send(_c: Claimed, _o: Outcome) -> None:
    os._exit(137)


def _hang_after_send(c: Claimed, _o: Outcome) -> None:
    print(f"o2c dispatch: sent delivery {c.delivery_id} webhook-id {c.event.id}", flush=True)
    threading.Event().wait()  # until SIGKILL


FAULTS = {"exit-after-send": _exit_after_send, "hang-after-send": _hang_after_send}


def dispatcher_for(
    ctx: Context,
    *,
    batch: int | None = None,
    timeout: float | None = None,
    lease: float | None = None,
    after_send: Callable[[Claimed, Outcome], None] | None = None,
) -> Dispatcher:
    """A dispatcher on the process's store with the `O2C_DISPATCH_*` settings (flags win); used by
    `o2c dispatch` and by the dispatcher thread of `o2c worker`."""
    settings = ctx.settings
    return Dispatcher(
        ctx.store,
        source=settings.source,
        batch=batch or settings.dispatch_batch,
        timeout=timeout or settings.dispatch_timeout,
        lease_seconds=lease or settings.dispatch_lease,  # None: batch × (timeout + 1) + 30
        after_send=after_send,
        allow_private=settings.webhook_allow_private,
        retry_scale=settings.webhook_retry_scale,
        disable_after=timedelta(days=settings.webhook_disable_after_days),
    )


def build_dispatcher(args: argparse.Namespace) -> tuple[Dispatcher, float]:
    """The dispatcher and its idle seconds (`--idle`, else O2C_DISPATCH_IDLE)."""
    ctx = build_context()
    fault = ctx.settings.dispatch_fault  # the model accepts only the names in FAULTS
    after_send = FAULTS[fault] if fault else None
    dispatcher = dispatcher_for(ctx, batch=args.batch, timeout=args.timeout, lease=args.lease, after_send=after_send)
    return dispatcher, args.idle or ctx.settings.dispatch_idle


def _dispatch(args: argparse.Namespace) -> int:
    dispatcher, idle = build_dispatcher(args)
    try:
        if args.once:
            sent = 0
            while True:
                n = dispatcher.run_once()
                sent += n
                if n == 0:
                    break
            print(f"o2c dispatch: {sent} deliveries attempted", flush=True)
            return 0
        stop = threading.Event()

        def on_signal(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, on_signal)
        print(f"o2c dispatch {dispatcher.holder} running", flush=True)
        dispatcher.run(stop, idle_seconds=idle)
        return 0
    finally:
        dispatcher.close()

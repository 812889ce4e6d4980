"""`o2c dispatch [--once]` — send webhook deliveries: fan out new events, claim due deliveries
with a lease, sign and send them, record every attempt. Run as many as you like: on PostgreSQL
they share the work (`FOR UPDATE SKIP LOCKED`); on SQLite they take turns.

`O2C_DISPATCH_FAULT=exit-after-send` makes the process die right after a receiver answered and
before the outcome is recorded (for fault tests: the delivery is sent again, same `webhook-id`).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from types import FrameType

from engine.bootstrap import build_context
from engine.webhooks.dispatcher import Claimed, Dispatcher, Outcome

log = logging.getLogger(__name__)
FAULT_ENV = "O2C_DISPATCH_FAULT"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dispatch", help="send webhook deliveries (several may run side by side)")
    p.add_argument("--once", action="store_true", help="one round: send what is due now, then exit")
    p.add_argument("--batch", type=int, default=None, help="deliveries claimed per round (O2C_DISPATCH_BATCH, 10)")
    p.add_argument("--timeout", type=float, default=None, help="HTTP timeout seconds (O2C_DISPATCH_TIMEOUT, 10)")
    p.add_argument("--idle", type=float, default=None, help="seconds to wait when idle (O2C_DISPATCH_IDLE, 1)")
    p.set_defaults(run=_dispatch)


def _exit_after_send(_c: Claimed, _o: Outcome) -> None:
    os._exit(137)


def build_dispatcher(args: argparse.Namespace) -> Dispatcher:
    ctx = build_context()
    extra = ctx.settings.extra
    fault = extra.get(FAULT_ENV, "")
    return Dispatcher(
        ctx.store,
        source=ctx.settings.source,
        batch=args.batch or int(extra.get("O2C_DISPATCH_BATCH", "10")),
        timeout=args.timeout or float(extra.get("O2C_DISPATCH_TIMEOUT", "10")),
        after_send=_exit_after_send if fault == "exit-after-send" else None,
    )


def _dispatch(args: argparse.Namespace) -> int:
    dispatcher = build_dispatcher(args)
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
        dispatcher.run(stop, idle_seconds=args.idle or float(os.environ.get("O2C_DISPATCH_IDLE", "1")))
        return 0
    finally:
        dispatcher.close()


if __name__ == "__main__":  # `python -m api.commands.dispatch` until "dispatch" is in api/cli.py GROUPS
    import sys

    parser = argparse.ArgumentParser(prog="o2c dispatch")
    inner = parser.add_subparsers(dest="command", required=True)
    register(inner)
    parsed = parser.parse_args(["dispatch", *sys.argv[1:]])
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(int(parsed.run(parsed) or 0))

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
from types import FrameType

from engine.bootstrap import build_context
from engine.webhooks.dispatcher import Claimed, Dispatcher, Outcome
from states.errors import ValidationFailed

log = logging.getLogger(__name__)
FAULT_ENV = "O2C_DISPATCH_FAULT"


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


def build_dispatcher(args: argparse.Namespace) -> Dispatcher:
    ctx = build_context()
    extra = ctx.settings.extra
    fault = extra.get(FAULT_ENV, "")
    if fault and fault not in FAULTS:
        raise ValidationFailed(f"{FAULT_ENV}={fault!r}: one of {', '.join(FAULTS)}")
    lease = args.lease or (float(extra["O2C_DISPATCH_LEASE"]) if extra.get("O2C_DISPATCH_LEASE") else None)
    return Dispatcher(
        ctx.store,
        source=ctx.settings.source,
        batch=args.batch or int(extra.get("O2C_DISPATCH_BATCH", "10")),
        timeout=args.timeout or float(extra.get("O2C_DISPATCH_TIMEOUT", "10")),
        lease_seconds=lease,
        after_send=FAULTS.get(fault),
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

"""`o2c worker [--no-dispatch] [--once]` — the background side as its own process: the leader-leased
scheduler (daily cycle, cycle partitions, timers) and, in a thread beside it, the webhook
dispatcher. Run two or more: one leads the scheduler, the others stand by (and help with cycle
partitions); every dispatcher claims deliveries with `FOR UPDATE SKIP LOCKED`, so none is sent twice.

With `O2C_TODAY` the business date stays pinned, while leases are judged by the wall clock
(`engine.clock.PinnedDayClock`): they must lapse when a holder dies, which a stopped clock never does.

`--once` runs one scheduler tick (take the lease, the day's work that is due, let the lease go) and
exits: for cron, and for the kill tests. A worker killed anywhere and started again ends its day as
an uninterrupted one would (ADR 0022); on the same host it leads again at once.

`O2C_HEARTBEAT_FILE=/tmp/o2c-worker.alive` makes the process touch that file every second while it
works (the container health check reads its age).
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from datetime import time as time_of_day
from types import FrameType

from api.commands.dispatch import dispatcher_for
from api.dispatching import Dispatching, start_dispatcher
from engine.bootstrap import build_context
from engine.config import load_settings
from engine.strategies_in_force import load_registry
from engine.worker import build_scheduler

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "worker", help="run the scheduler (daily cycle, timers; one leader at a time) and the webhook dispatcher"
    )
    p.add_argument(
        "--cycle-at", type=_time_of_day, default=None, help="local time of the daily cycle, HH:MM (O2C_CYCLE_AT, 06:00)"
    )
    p.add_argument("--tick", type=float, default=None, help="seconds between scheduler ticks (O2C_TICK_SECONDS, 5)")
    p.add_argument("--lease", type=float, default=None, help="leader lease seconds (O2C_LEASE_SECONDS, 30)")
    p.add_argument(
        "--no-dispatch",
        action="store_true",
        help="do not send webhook deliveries from this process (O2C_WORKER_DISPATCH=0)",
    )
    p.add_argument(
        "--once",
        action="store_true",
        help="one scheduler tick (the day's cycle if due, its timers, rendering), then exit",
    )
    p.set_defaults(run=_worker)


def _time_of_day(raw: str) -> time_of_day:
    try:
        return time_of_day.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a time of day (HH:MM)") from None


def _worker(args: argparse.Namespace) -> int:
    settings = load_settings()
    cycle_at = args.cycle_at or settings.cycle_at
    tick = args.tick or settings.tick_seconds
    lease = args.lease or settings.lease_seconds
    idle = settings.dispatch_idle
    dispatch = not args.no_dispatch and settings.worker_dispatch

    ctx = build_context(settings)
    registry = load_registry(settings.strategies_dir)
    scheduler = build_scheduler(ctx, registry, cycle_at, tick, lease)
    if args.once:
        led = scheduler.once()
        print(f"o2c worker {scheduler.holder}: " + ("one tick as the leader" if led else "another worker leads"))
        return 0
    if dispatch:
        dispatcher_for(ctx).close()  # bad O2C_DISPATCH_* settings stop the process before anything starts
    if not args.verbose:  # APScheduler logs every tick, httpx every request, at INFO; our jobs log what they do
        logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
        logging.getLogger("httpx").setLevel(logging.WARNING)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            result = registry.reload()
            log.info("strategies reloaded" if result.ok else "reload refused: %s", "; ".join(result.messages))
            return
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    scheduler.start()
    sending: Dispatching | None = start_dispatcher(ctx, idle) if dispatch else None
    sends = f"dispatcher {sending.dispatcher.holder}" if sending is not None else "dispatcher off"
    print(f"o2c worker {scheduler.holder} running ({sends})", flush=True)
    heartbeat = settings.heartbeat_file
    while not stop.wait(1.0):
        # A container health check reads the file's age: it stays fresh while the dispatcher lives.
        if heartbeat is not None and (sending is None or sending.alive()):
            heartbeat.write_text(f"{time.time():.0f}\n")
    if sending is not None:
        sending.stop()
    scheduler.stop()
    return 0

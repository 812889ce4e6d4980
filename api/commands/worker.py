"""`o2c worker` — the scheduler (leader lease), daily cycle and timers as their own process."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from types import FrameType

from engine.bootstrap import build_context
from engine.strategies_in_force import load_registry
from engine.worker import build_scheduler, parse_cycle_time

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("worker", help="run the scheduler: daily cycle and timers (one leader at a time)")
    p.add_argument("--cycle-at", default=None, help="local time of the daily cycle, HH:MM (O2C_CYCLE_AT, 06:00)")
    p.add_argument("--tick", type=float, default=None, help="seconds between scheduler ticks (O2C_TICK_SECONDS, 5)")
    p.add_argument("--lease", type=float, default=None, help="leader lease seconds (O2C_LEASE_SECONDS, 30)")
    p.set_defaults(run=_worker)


def _worker(args: argparse.Namespace) -> int:
    ctx = build_context()
    extra = ctx.settings.extra
    registry = load_registry(ctx.settings.strategies_dir)
    scheduler = build_scheduler(
        ctx,
        registry,
        parse_cycle_time(args.cycle_at or extra.get("O2C_CYCLE_AT", "06:00")),
        args.tick or float(extra.get("O2C_TICK_SECONDS", "5")),
        args.lease or float(extra.get("O2C_LEASE_SECONDS", "30")),
    )
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
    print(f"o2c worker {scheduler.holder} running", flush=True)
    while not stop.wait(1.0):
        pass
    scheduler.stop()
    return 0

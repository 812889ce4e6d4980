"""APScheduler is only the clock. Every tick the process tries to take or renew the leader lease;
only the leader runs the daily cycle (catching up missed dates in order) and the timers. Durable
state lives in our tables, so every job is idempotent and a standby simply takes over."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date, datetime, time

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from engine import lease
from engine.services.context import Context
from engine.store.faults import as_unavailable

log = logging.getLogger(__name__)

JOB_DEFAULTS = {
    # Explicit, not APScheduler's defaults (misfire_grace_time=1 silently drops runs on a busy box).
    "coalesce": True,  # a backlog of ticks is one tick: the jobs catch up by themselves
    "max_instances": 1,
    "misfire_grace_time": 300,
}


class LeaderScheduler:
    """Runs `daily` once per business date after `cycle_at` (local time) and `timers` every tick,
    but only while this process holds the lease."""

    def __init__(
        self,
        ctx: Context,
        daily: Callable[[date], object],
        timers: Callable[[date], object],
        cycle_at: time = time(6, 0),
        tick_seconds: float = 5.0,
        lease_seconds: float = 30.0,
        helper: Callable[[], object] | None = None,
    ) -> None:
        self.ctx = ctx
        self.daily, self.timers = daily, timers
        self.helper = helper  # every tick of a standby: help with work any worker may do
        self.cycle_at = cycle_at
        self.tick_seconds, self.lease_seconds = tick_seconds, lease_seconds
        self.holder = lease.new_holder()
        self.is_leader = False
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._keepalive = threading.Thread(target=self._renew_while_leading, name="leader-lease", daemon=True)
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(2)}, job_defaults=JOB_DEFAULTS, timezone=ctx.clock.zone
        )

    def start(self) -> None:
        self._scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.tick_seconds,
            id="tick",
            next_run_time=datetime.now(self.ctx.clock.zone),
        )
        self._scheduler.start()
        self._keepalive.start()
        log.info("scheduler started as %s", self.holder)

    def stop(self) -> None:
        self._stopping.set()
        self._scheduler.shutdown(wait=True)
        if self._keepalive.is_alive():
            self._keepalive.join()
        if self.is_leader:
            lease.release(self.ctx.store, lease.SCHEDULER_LEASE, self.holder)
        self.ctx.store.disconnect()

    def once(self) -> bool:
        """One beat without the clock (`o2c worker --once`, for cron or a test): the lease taken,
        whatever is due done, the lease let go. True when this process led."""
        self.tick()
        led = self.is_leader
        if led:
            lease.release(self.ctx.store, lease.SCHEDULER_LEASE, self.holder)
        self.ctx.store.disconnect()
        return led

    def tick(self) -> None:
        """One beat: hold the lease, then do whatever is due. Never raises (it is logged)."""
        with self._lock:
            try:
                now = self.ctx.now()
                self.is_leader = lease.acquire(
                    self.ctx.store, lease.SCHEDULER_LEASE, self.holder, self.lease_seconds, self.ctx.clock.lease_now()
                )
                if not self.is_leader:
                    if self.helper is not None:
                        self.helper()
                    return
                today = self.ctx.today()
                if now.astimezone(self.ctx.clock.zone).time() >= self.cycle_at:
                    self.daily(today)
                self.timers(today)
            except Exception as exc:
                down = as_unavailable(exc)
                if down is None:
                    log.exception("scheduler tick failed; the next tick retries")
                else:  # the database's fault, not ours: one line per tick until it clears
                    log.warning("scheduler tick: %s", down.message)  # the next tick retries

    def _renew_while_leading(self) -> None:
        """Renew the leader lease every third of its length, beside the ticks: a tick that runs a
        long cycle would otherwise let the lease lapse and a standby lead at the same time."""
        while not self._stopping.wait(self.lease_seconds / 3):
            if not self.is_leader:
                continue
            try:
                self.is_leader = lease.acquire(
                    self.ctx.store, lease.SCHEDULER_LEASE, self.holder, self.lease_seconds, self.ctx.clock.lease_now()
                )
            except Exception as exc:
                down = as_unavailable(exc)
                log.warning(
                    "renewing the leader lease failed: %s; the next attempt retries",
                    down.message if down else exc,
                    exc_info=down is None,
                )

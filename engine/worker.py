"""The background side of a process: the leader-leased scheduler that runs the daily cycle
(catching up missed dates), the timers and, once a business date, the outbox retention."""

from __future__ import annotations

import logging
from datetime import date, time, timedelta

from engine import crash, kpi_history, log_context
from engine.bootstrap import wire
from engine.commands import RunTimers
from engine.cycle.partitions import oldest_open_date, work_partitions
from engine.cycle.runner import pending_dates, run_due
from engine.events.retention import prune
from engine.notices.channels import adapters_from
from engine.notices.render import render_due
from engine.notices.send import send_due
from engine.notices.templates import load
from engine.predict.service import refresh as refresh_predictions
from engine.rules.registry import Registry
from engine.scheduler import LeaderScheduler
from engine.services.context import Context
from engine.timers import TIMER

log = logging.getLogger(__name__)
RENDER_PER_TICK = 2000  # messages rendered per scheduler tick (the rest on the next ticks)


def build_scheduler(
    ctx: Context,
    registry: Registry,
    cycle_at: time,
    tick_seconds: float = 5.0,
    lease_seconds: float = 30.0,
    partitions: int | None = None,
) -> LeaderScheduler:
    """The leader opens each due date's cycle in `partitions` slices (O2C_CYCLE_PARTITIONS, 4) and
    works them; every standby works open slices of the oldest running date on each of its ticks."""
    service = wire(ctx, registry)  # timers go through the one door (broken promises: next cycle)
    count = partitions or ctx.settings.cycle_partitions

    def daily(today: date) -> None:
        # Called on every tick after the cycle's time: once today's cycle is done there is nothing
        # to refresh (predictions and the KPI snapshot were taken before it).
        if not pending_dates(ctx, today):
            return
        # Before the cycle, so that its p_late facts are today's; a failure leaves yesterday's.
        try:
            run = refresh_predictions(ctx.store, today, ctx.now(), ctx.settings)
            log.info("predictions %s: %s", today, run.line())
        except Exception:
            log.exception("payment predictions were not refreshed for %s", today)
        crash.reached("worker.predictions_refreshed")
        yesterday = today - timedelta(days=1)  # the last business date a snapshot sees whole
        try:
            kpi_history.take(ctx.store, ctx.clock.zone, yesterday, kpi_history.router(registry.current))
        except Exception:
            log.exception("the KPI snapshot of %s was not taken", yesterday)
        crash.reached("worker.kpi_taken")
        with log_context.bound(operation_name="cycle"):
            for report in run_due(ctx, registry.current, today, partitions=count, holder=scheduler.holder):
                if not report.already_done:
                    log.info("cycle %s: %s", report.business_date, report.as_dict())

    retention = ctx.settings.event_retention_days
    adapters = adapters_from(ctx.settings)  # O2C_SMTP_URL, O2C_LETTER_DIR (docs/notices.md)
    pruned_on: date | None = None

    def timers(today: date) -> None:
        nonlocal pruned_on
        service.handle(RunTimers(today), TIMER)
        rendered = render_due(ctx, registry.current, limit=RENDER_PER_TICK)
        crash.reached("notices.rendered")
        if rendered is not None and (rendered.rendered or rendered.cancelled):
            log.info("notices rendered: %s", rendered)
        if rendered is not None and adapters:
            sent = send_due(ctx.store, load(ctx.settings.templates_dir), registry.current, adapters, ctx.now(),
                            limit=RENDER_PER_TICK)  # fmt: skip
            if sent.sent or sent.bounced or sent.failed or sent.cancelled:
                log.info("notices sent: %s", sent.as_dict())
            crash.reached("notices.sent")
        if pruned_on != today:  # once per business date, by the leader
            result = prune(ctx.store, ctx.now(), retention)
            pruned_on = today
            if result.removed:
                log.info("outbox pruned: %s", result)

    def helper() -> None:
        day = oldest_open_date(ctx)
        if day is not None:
            report = work_partitions(ctx, registry.current, day, scheduler.holder)
            if report.partitions_worked:
                log.info("helped with the cycle of %s: %s", day, report.as_dict())

    scheduler = LeaderScheduler(ctx, daily, timers, cycle_at, tick_seconds, lease_seconds, helper)
    return scheduler

"""`runCycle(asOf, dryRun)` (admins): the daily cycle for one business date, on a worker thread."""

from __future__ import annotations

import logging
from datetime import date

import strawberry

from engine.cycle.runner import CycleReport as EngineReport
from engine.cycle.runner import run_cycle
from schema.context import Info
from schema.cycle.types import CycleReport
from schema.permissions import CanOperate
from states.errors import ValidationFailed

log = logging.getLogger("o2c.api.cycle")


@strawberry.type
class CycleMutations:
    @strawberry.mutation(
        permission_classes=[CanOperate],
        description="Run the daily cycle for `asOf` (default today) with the strategies in force. Exactly "
        "once per business date: a date already done applies nothing. `dryRun` computes the same report "
        "and writes nothing; only a dry run may look at a future date.",
    )
    async def run_cycle(self, info: Info, as_of: date | None = None, dry_run: bool | None = False) -> CycleReport:
        ctx = info.context
        dry = bool(dry_run)
        today = ctx.today()
        day = as_of or today
        if day > today and not dry:
            # A done future date would make the scheduler skip every date before it.
            raise ValidationFailed(f"{day} is after today ({today}); only a dry run may look ahead", "asOf")
        strategies = ctx.strategies().current  # one set for the whole run, even if a reload lands
        report: EngineReport = await ctx.run(run_cycle, ctx.engine, strategies, day, dry_run=dry)
        if not dry:
            log.info("cycle %s run by %s: %s", day, ctx.actor(), report.as_dict())
        return CycleReport.of(report)

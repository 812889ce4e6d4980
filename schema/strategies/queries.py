"""`strategies`: the set in force; `previewStrategies`: what a candidate would change."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import strawberry

from engine.lab.experiment import experiment_report
from engine.lab.runs import RUNS
from engine.rules.errors import StrategyError
from engine.rules.source_validation import MAX_SOURCE_CHARS
from schema.context import Info
from schema.permissions import CanManageStrategies, CanRead
from schema.strategies.backtest_types import BacktestRun
from schema.strategies.experiment_types import Experiment
from schema.strategies.preview import MAX_FILES, preview
from schema.strategies.preview_types import StrategyFileInput, StrategyPreview
from schema.strategies.types import Strategy, StrategyProblem
from states.errors import NotFound, ValidationFailed

MAX_LISTED = 1000


@strawberry.type
class StrategyQueries:
    @strawberry.field(
        permission_classes=[CanRead],
        description="The strategies in force, in file order: what every decision is made with.",
    )
    def strategies(self, info: Info) -> list[Strategy]:
        # No I/O: the set in force is in memory (`source` reads a file only if it was not kept).
        in_force = info.context.strategies().current
        return [Strategy.of(c, in_force.loaded_at) for c in in_force.strategies]

    @strawberry.field(
        permission_classes=[CanManageStrategies],
        description="What the strategies in force with these files in place (same file name; a new name adds "
        "a file) would do differently on `asOf` (default today): both sets are planned on the same facts, as "
        "the daily cycle's dry run plans them. Nothing is written and nothing is put in force. An invalid "
        "candidate is refused (ok false) with every problem at FILE:LINE:COL.",
    )
    async def preview_strategies(
        self,
        info: Info,
        files: list[StrategyFileInput],
        as_of: date | None = None,
        first: Annotated[
            int, strawberry.argument(description=f"Changed invoices and customers listed (at most {MAX_LISTED}).")
        ] = 100,
    ) -> StrategyPreview:
        if not files or len(files) > MAX_FILES:
            raise ValidationFailed(f"give 1 to {MAX_FILES} candidate files", "files")
        if any(len(f.source) > MAX_SOURCE_CHARS for f in files):
            raise ValidationFailed(f"a source is longer than {MAX_SOURCE_CHARS} characters", "files")
        if not 0 <= first <= MAX_LISTED:
            raise ValidationFailed(f"first must be between 0 and {MAX_LISTED}", "first")
        ctx = info.context
        in_force = ctx.strategies().current
        sources = [(f.name, f.source) for f in files]
        try:
            found = await ctx.run(preview, ctx.store, in_force, sources, as_of or ctx.today())
        except StrategyError as exc:
            return StrategyPreview(ok=False, errors=StrategyProblem.all(exc.problems))
        return StrategyPreview.of(found, first)

    @strawberry.field(
        permission_classes=[CanRead],
        description="How each arm of a champion/challenger experiment of the strategies in force did from "
        "`since` (default 90 days before `until`) to `until` (default today): customers, cash collected, days "
        "to pay, messages, and each challenger's difference to the champion with a 95% confidence interval.",
    )
    async def experiment(
        self, info: Info, name: str, since: date | None = None, until: date | None = None
    ) -> Experiment:
        ctx = info.context
        last = until or ctx.today()
        first = since or last - timedelta(days=90)
        if first > last:
            raise ValidationFailed("since must not be after until", "since")
        report = await ctx.run(experiment_report, ctx.store, ctx.strategies().current, name, first, last)
        return Experiment.of(report)

    @strawberry.field(
        permission_classes=[CanManageStrategies],
        description="A backtest started with `startBacktest`: its progress while it runs, then its result.",
    )
    def backtest(self, info: Info, id: strawberry.ID) -> BacktestRun:
        run = RUNS.get(str(id))
        if run is None:
            raise NotFound(f"no backtest {id} in this process (runs are kept in memory)")
        return BacktestRun.of(run)

"""`reloadStrategies` and `validateStrategy` (policy owners and admins)."""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated

import strawberry

from engine.lab.diff import candidate_set
from engine.lab.runs import RUNS
from engine.lab.simulate import backtest
from engine.rules import sources
from engine.rules.directory import load_sources
from engine.rules.errors import StrategyError
from engine.rules.registry import ReloadResult
from engine.rules.source_validation import MAX_SOURCE_CHARS, running_set, validate_source
from schema.context import Info
from schema.permissions import CanManageStrategies
from schema.strategies.backtest_types import BacktestRun
from schema.strategies.preview import candidate_sources
from schema.strategies.preview_types import StrategyFileInput
from schema.strategies.types import ReloadStrategiesResult, Strategy, StrategyProblem, StrategyValidation
from states.errors import ValidationFailed

log = logging.getLogger("o2c.api.strategies")


def _reload(info: Info) -> ReloadResult:
    """Blocking: reads and compiles every file; swaps the set only if all are valid."""
    context = info.context
    result = context.strategies().reload()
    who = context.actor()
    if result.ok and result.in_force is not None:
        sources.remember(result.in_force)
        log.info(
            "strategies reloaded by %s: %s",
            who,
            ", ".join(f"{c.name} v{c.version}" for c in result.in_force.strategies),
        )
    else:
        log.warning(
            "strategy reload by %s refused; the previous set stays in force:\n%s", who, "\n".join(result.messages)
        )
    return result


@strawberry.type
class StrategyMutations:
    @strawberry.mutation(
        permission_classes=[CanManageStrategies],
        description="Reload the strategy files from disk. All valid: they replace the set in force in one "
        "step. Any problem: nothing changes, and every problem is returned.",
    )
    async def reload_strategies(self, info: Info) -> ReloadStrategiesResult:
        result = await info.context.run(_reload, info)
        in_force = result.in_force
        return ReloadStrategiesResult(
            ok=result.ok,
            errors=StrategyProblem.all(result.problems),
            in_force=[Strategy.of(c, in_force.loaded_at) for c in in_force.strategies] if in_force else [],
        )

    @strawberry.mutation(
        permission_classes=[CanManageStrategies],
        description="Validate one strategy file's text without installing it. With `file` (its file name), "
        "the text is judged in place of that file of the set in force, routing included.",
    )
    async def validate_strategy(
        self,
        info: Info,
        text: Annotated[str, strawberry.argument(name="source", description="The file's text (YAML).")],
        file: Annotated[
            str | None,
            strawberry.argument(description="Its file name, e.g. smb-standard.yaml (for messages and routing)."),
        ] = None,
    ) -> StrategyValidation:
        if len(text) > MAX_SOURCE_CHARS:
            raise ValidationFailed(f"the source is longer than {MAX_SOURCE_CHARS} characters", "source")
        problems = await info.context.run(validate_source, text, file, running_set(info.context.registry))
        return StrategyValidation(ok=not problems, errors=StrategyProblem.all(problems))

    @strawberry.mutation(
        permission_classes=[CanManageStrategies],
        description="Start a backtest in the background: the daily cycle day by day for `days` days from `asOf` "
        "(default today) on a private copy of the portfolio (the live data is only read), customers paying per "
        "the response model learned from the payment history. The strategies in force run, and with `files` a "
        "candidate (those files in place of the same names) beside them on the same seed. Follow it with "
        "`backtest(id)`. An invalid candidate is refused with every problem at FILE:LINE:COL (VALIDATION_FAILED).",
    )
    async def start_backtest(
        self,
        info: Info,
        days: int,
        seed: int = 1,
        as_of: date | None = None,
        files: list[StrategyFileInput] | None = None,
    ) -> BacktestRun:
        if not 1 <= days <= 366:
            raise ValidationFailed("days must be between 1 and 366", "days")
        ctx = info.context
        in_force = ctx.strategies().current
        sets = [("in force", in_force)]
        if files:
            if any(len(f.source) > MAX_SOURCE_CHARS for f in files):
                raise ValidationFailed(f"a source is longer than {MAX_SOURCE_CHARS} characters", "files")
            texts = candidate_sources(in_force, [(f.name, f.source) for f in files])
            try:
                sets.append(("candidate", candidate_set(load_sources(texts, in_force.directory), "candidate")))
            except StrategyError as exc:
                raise ValidationFailed("\n".join(str(p) for p in exc.problems), "files") from None
        store, start = ctx.store, as_of or ctx.today()
        run = RUNS.start(lambda progress: backtest(store, sets, start, days, seed, progress), days * len(sets))
        log.info("backtest %s started by %s: %d days from %s", run.id, ctx.actor(), days, start)
        return BacktestRun.of(run)

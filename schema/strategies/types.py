"""The strategy set in force, as front ends see it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import strawberry
from starlette.concurrency import run_in_threadpool

from engine.rules.actions import Action
from engine.rules.compiler import CompiledStrategy
from engine.rules.errors import Problem
from engine.rules.sources import cached, source_of
from engine.rules.strategy import Rule
from schema.common.money import Money


@strawberry.type(description="Which customers a strategy applies to: every segment × risk class pair listed.")
class AppliesTo:
    segments: list[str]
    risks: list[str]


@strawberry.type
class ActionParam:
    name: str
    value: str


@strawberry.type(description="One action of a rule, as written in the file.")
class RuleAction:
    kind: str = strawberry.field(description="remind, dun, escalate, create_task, credit_hold, release_hold…")
    params: list[ActionParam]
    text: str = strawberry.field(description='The action in one line, e.g. "dun {channel: email, template: t1}".')

    @staticmethod
    def of(action: Action) -> RuleAction:
        return RuleAction(
            kind=action.kind,
            params=[ActionParam(name=k, value=v) for k, v in action.params],
            text=str(action),
        )


@strawberry.type
class StrategyRule:
    id: str
    description: str
    when: str = strawberry.field(description="The condition as written in the file.")
    track: str = strawberry.field(description="The first matching rule of each track wins (see docs/strategies.md).")
    actions: list[RuleAction]
    line: int = strawberry.field(description="Where the rule starts in the file.")

    @staticmethod
    def of(rule: Rule) -> StrategyRule:
        return StrategyRule(
            id=rule.id,
            description=rule.description,
            when=rule.when_text,
            track=rule.track,
            actions=[RuleAction.of(a) for a in rule.actions],
            line=rule.loc.line,
        )


@strawberry.type
class ContactCap:
    max: int
    per_days: int


@strawberry.type(description="Local hours (HH:MM, the customer's time zone) on the customer's business days.")
class SendWindow:
    from_: str = strawberry.field(name="from", description="Messages go out from this time (inclusive).")
    to: str = strawberry.field(description="Until this time (exclusive); later ones wait for the next window.")


@strawberry.type
class StrategySettings:
    grace_days: int
    max_dunning_level: int
    min_amount: list[Money] = strawberry.field(description="No notices below these; none in other currencies.")
    contact_cap: ContactCap | None
    send_window: SendWindow


@strawberry.type(description="One strategy of the set in force.")
class Strategy:
    name: str
    version: int
    content_hash: str = strawberry.field(description="SHA-256 of the file's bytes; recorded with every decision.")
    file: str
    description: str
    applies_to: AppliesTo
    settings: StrategySettings
    rules: list[StrategyRule]
    loaded_at: datetime
    compiled: strawberry.Private[CompiledStrategy]

    @strawberry.field(description="The file's text in force; null if the file on disk changed since it was loaded.")
    async def source(self) -> str | None:
        text = cached(self.compiled)
        return text if text is not None else await run_in_threadpool(source_of, self.compiled)

    @staticmethod
    def of(compiled: CompiledStrategy, loaded_at: datetime) -> Strategy:
        s = compiled.strategy
        settings = s.settings
        cap = settings.contact_cap
        return Strategy(
            name=s.name,
            version=s.version,
            content_hash=s.content_hash,
            file=s.file,
            description=s.description,
            applies_to=AppliesTo(segments=list(s.segments), risks=list(s.risks)),
            settings=StrategySettings(
                grace_days=settings.grace_days,
                max_dunning_level=settings.max_dunning_level,
                min_amount=[Money.of(minor, cur) for cur, minor in sorted(settings.min_amount.items())],
                contact_cap=ContactCap(max=cap.max, per_days=cap.per_days) if cap else None,
                send_window=SendWindow(
                    from_=f"{settings.send_window.start:%H:%M}", to=f"{settings.send_window.end:%H:%M}"
                ),
            ),
            rules=[StrategyRule.of(r) for r in s.rules],
            loaded_at=loaded_at,
            compiled=compiled,
        )


@strawberry.type(description="A problem in a strategy file: `text` reads FILE:LINE:COL: message.")
class StrategyProblem:
    file: str
    line: int
    column: int
    message: str
    text: str

    @staticmethod
    def of(problem: Problem) -> StrategyProblem:
        loc = problem.loc
        return StrategyProblem(file=loc.file, line=loc.line, column=loc.col, message=problem.message, text=str(problem))

    @staticmethod
    def all(problems: Iterable[Problem]) -> list[StrategyProblem]:
        return [StrategyProblem.of(p) for p in problems]


@strawberry.type
class ReloadStrategiesResult:
    ok: bool = strawberry.field(description="True when the files on disk replaced the set in force.")
    errors: list[StrategyProblem] = strawberry.field(description="Why not; the previous set stays in force.")
    in_force: list[Strategy] = strawberry.field(description="The set in force after the call.")


@strawberry.type
class StrategyValidation:
    ok: bool = strawberry.field(description="True when a reload with this file in place would succeed.")
    errors: list[StrategyProblem]

"""What every mutation does around the service call."""

from __future__ import annotations

from typing import TypeVar

from engine.commands import Command
from schema.context import Info
from schema.loaders import Loaders

T = TypeVar("T")


async def perform(info: Info, command: Command[T]) -> T:
    """Send `command` through the service's one door (`Collections.handle`) as the caller, on a
    worker thread (it transacts: a failure writes nothing), then start this request's loaders
    afresh so that the returned object graph shows the change."""
    ctx = info.context
    actor = ctx.actor()
    result: T = await ctx.run(lambda: ctx.service.handle(command, actor))
    ctx.loaders = Loaders(ctx.engine)
    return result

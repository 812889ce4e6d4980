"""What every mutation does around the service call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from schema.context import Info
from schema.loaders import Loaders

T = TypeVar("T")


async def perform(info: Info, command: Callable[..., T], *args: Any) -> T:
    """Run a service command on a worker thread (it transacts: a failure writes nothing), then
    start this request's loaders afresh so that the returned object graph shows the change."""
    ctx = info.context
    result = await ctx.run(command, *args)
    ctx.loaders = Loaders(ctx.engine)
    return result

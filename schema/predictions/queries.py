"""`cashForecast`."""

from __future__ import annotations

from datetime import date

import strawberry

from engine.predict.forecast import forecast
from schema.context import Info
from schema.permissions import CanRead
from schema.predictions.types import CashForecast


@strawberry.type
class PredictionQueries:
    @strawberry.field(
        permission_classes=[CanRead],
        description="Expected receipts per week from the open invoices' payment predictions, with an 80 % band, "
        "and forecast vs actual for past weeks (from the daily snapshot).",
    )
    async def cash_forecast(
        self, info: Info, currency: str, weeks: int = 13, past_weeks: int = 8, as_of: date | None = None
    ) -> CashForecast:
        ctx = info.context
        found = await ctx.run(forecast, ctx.store, currency, as_of or ctx.today(), weeks, past_weeks)
        return CashForecast.of(found)

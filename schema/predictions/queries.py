"""`cashForecast`, `expectedCreditLoss`."""

from __future__ import annotations

from datetime import date

import strawberry

from engine.predict.credit_loss import LOSS_AFTER_DAYS, expected_credit_loss
from engine.predict.forecast import forecast
from schema.context import Info
from schema.permissions import CanRead
from schema.predictions.types import CashForecast, ExpectedCreditLoss
from states.errors import ValidationFailed


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

    @strawberry.field(
        permission_classes=[CanRead],
        description="Expected bad debt (IFRS 9 simplified approach): the provision matrix and the expected loss "
        "per customer and in total. A loss is a write-off or an invoice open `lossAfterDays` past due.",
    )
    async def expected_credit_loss(
        self,
        info: Info,
        currency: str,
        as_of: date | None = None,
        loss_after_days: int = LOSS_AFTER_DAYS,
        top: int = 20,
    ) -> ExpectedCreditLoss:
        ctx = info.context
        if not 0 <= top <= 100:
            raise ValidationFailed(f"top={top}: between 0 and 100", "top")
        today = ctx.today()
        found = await ctx.run(expected_credit_loss, ctx.store, currency, as_of or today, today, loss_after_days, top)
        return ExpectedCreditLoss.of(found)

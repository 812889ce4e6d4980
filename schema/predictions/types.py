"""Payment predictions (engine/predict) as GraphQL types."""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry

from engine.predict import credit_loss
from engine.predict import forecast as forecasting
from engine.predict.service import InvoicePrediction
from schema.common.money import Money
from schema.ids import to_id


@strawberry.enum(description="What made a prediction: the trained model, or the customer-mean baseline.")
class PredictionBasis(Enum):
    MODEL = "model"
    BASELINE = "baseline"


@strawberry.type(description="A factor that moved the predicted delay, in words, with the days it adds (or saves).")
class PredictionFactor:
    feature: str
    words: str
    days: float


@strawberry.type(description="The 80 % interval of the payment date (10 % and 90 % quantiles).")
class DateInterval:
    low: date
    high: date


@strawberry.type(description="When the invoice is expected to be paid, and how likely late (engine/predict).")
class PaymentPrediction:
    expected_date: date
    p_late: float = strawberry.field(description="Probability of being paid after the due date (1 once past due).")
    days_late: int = strawberry.field(description="Expected payment date minus the due date, never below 0.")
    interval: DateInterval
    factors: list[PredictionFactor] = strawberry.field(description="The largest contributions, largest first.")
    basis: PredictionBasis
    note: str = strawberry.field(description="Which model, or why the baseline predicts.")

    @staticmethod
    def of(p: InvoicePrediction) -> PaymentPrediction:
        return PaymentPrediction(
            expected_date=p.expected_on,
            p_late=p.p_late,
            days_late=p.days_late,
            interval=DateInterval(low=p.low_on, high=p.high_on),
            factors=[PredictionFactor(feature=f["feature"], words=f["words"], days=f["days"]) for f in p.factors],
            basis=PredictionBasis(p.kind),
            note=(f"model {p.model_id}: " if p.model_id else "") + p.reason,
        )


@strawberry.type(description="Expected receipts of one week (Monday to Sunday) with an 80 % band.")
class ForecastWeek:
    week_start: date
    expected: Money
    low: Money
    high: Money


@strawberry.type(description="A past week: what was forecast before it began, and what was received.")
class ForecastVsActual:
    week_start: date
    forecast: Money | None = strawberry.field(description="Null when no daily snapshot preceded the week.")
    low: Money | None
    high: Money | None
    forecast_on: date | None = strawberry.field(description="The business date of the snapshot compared.")
    actual: Money


@strawberry.type(description="Cash-in forecast from the open invoices' predicted payment distributions.")
class CashForecast:
    currency: str
    as_of: date
    weeks: list[ForecastWeek]
    past: list[ForecastVsActual]
    unscored_invoices: int = strawberry.field(description="Open invoices without a prediction (on their due date).")

    @staticmethod
    def of(f: forecasting.CashForecast) -> CashForecast:
        cur = f.currency

        def money(minor: int | None) -> Money | None:
            return None if minor is None else Money.of(minor, cur)

        return CashForecast(
            currency=cur,
            as_of=f.as_of,
            weeks=[
                ForecastWeek(
                    week_start=w.week_start,
                    expected=Money.of(w.expected, cur),
                    low=Money.of(w.low, cur),
                    high=Money.of(w.high, cur),
                )
                for w in f.weeks
            ],
            past=[
                ForecastVsActual(
                    week_start=p.week_start,
                    forecast=money(p.forecast),
                    low=money(p.low),
                    high=money(p.high),
                    forecast_on=p.forecast_on,
                    actual=Money.of(p.actual, cur),
                )
                for p in f.past
            ],
            unscored_invoices=f.unscored,
        )


@strawberry.type(description="One cell of the provision matrix: an aging bucket of one segment.")
class ProvisionCell:
    segment: str
    bucket: str = strawberry.field(description="current, d1_30, d31_60, d61_90, d91_plus.")
    loss_rate: float
    roll_rate: float | None = strawberry.field(description="Observed share rolling on to the next bucket.")
    pooled: bool = strawberry.field(description="Too few invoices in this segment: the rate of all segments.")
    exposure: Money
    expected_loss: Money


@strawberry.type
class CustomerCreditLoss:
    customer_id: strawberry.ID
    name: str
    exposure: Money
    expected_loss: Money


@strawberry.type(description="IFRS 9 simplified approach: loss rates per aging bucket × segment from roll rates.")
class ExpectedCreditLoss:
    currency: str
    as_of: date
    total_exposure: Money
    total: Money
    matrix: list[ProvisionCell]
    customers: list[CustomerCreditLoss] = strawberry.field(description="Largest expected loss first.")

    @staticmethod
    def of(r: credit_loss.CreditLoss) -> ExpectedCreditLoss:
        cur = r.currency
        return ExpectedCreditLoss(
            currency=cur,
            as_of=r.as_of,
            total_exposure=Money.of(r.total_exposure, cur),
            total=Money.of(r.total, cur),
            matrix=[
                ProvisionCell(
                    segment=c.segment,
                    bucket=c.bucket,
                    loss_rate=c.loss_rate,
                    roll_rate=c.roll_rate,
                    pooled=c.pooled,
                    exposure=Money.of(c.exposure, cur),
                    expected_loss=Money.of(c.expected_loss, cur),
                )
                for c in r.matrix
            ],
            customers=[
                CustomerCreditLoss(
                    customer_id=to_id(c.customer_id),
                    name=c.name,
                    exposure=Money.of(c.exposure, cur),
                    expected_loss=Money.of(c.expected_loss, cur),
                )
                for c in r.customers
            ],
        )

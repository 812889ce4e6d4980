"""Payment predictions (engine/predict) as GraphQL types."""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry

from engine.predict.service import InvoicePrediction


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

"""PNG charts of the lab's reports (matplotlib, an optional dependency: `pip install o2c-engine[plot]`).
The one home of matplotlib in the project."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from engine.lab.experiment import ExperimentReport
from engine.lab.simulate import Backtest
from states.errors import ValidationFailed
from states.money import CURRENCY_EXPONENTS


def _pyplot():  # type: ignore[no-untyped-def]
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: never a window
        import matplotlib.pyplot as plt
    except ImportError:
        raise ValidationFailed("--plot needs matplotlib: pip install 'o2c-engine[plot]'", "plot") from None
    return plt


def _days_axis(ax: Any, days: int) -> None:
    import matplotlib.dates as mdates

    ax.xaxis.set_major_locator(mdates.DayLocator(interval=max(1, days // 12)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    ax.tick_params(axis="x", labelrotation=60, labelsize=7)


def plot_backtest(result: Backtest, path: Path) -> None:
    """DSO and cash collected per day, one line per strategy set (in the headline currency)."""
    plt = _pyplot()
    currency = result.headline_currency
    scale = 10 ** CURRENCY_EXPONENTS.get(currency, 2)
    fig, (dso, cash) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for outcome in result.outcomes:
        days = [date.fromisoformat(d.business_date) for d in outcome.days]
        dso.plot(days, [d.dso.get(currency) or 0 for d in outcome.days], label=outcome.strategies)
        cash.plot(days, [d.cash.get(currency, 0) / scale for d in outcome.days], label=outcome.strategies)
    dso.set_ylabel(f"DSO (days, {currency})")
    cash.set_ylabel(f"cash collected ({currency})")
    dso.set_title(f"Backtest from {result.start}, seed {result.seed}")
    dso.legend()
    _days_axis(cash, result.days)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)


def plot_experiment(report: ExperimentReport, path: Path) -> None:
    """Cash collected per day per arm, in the currency most of the experiment's cash is in."""
    plt = _pyplot()
    totals: dict[str, int] = {}
    for arm in report.arms:
        for c in arm.cash:
            totals[c.currency] = totals.get(c.currency, 0) + c.collected
    currency = max(totals, key=lambda c: totals[c]) if totals else "EUR"
    scale = 10 ** CURRENCY_EXPONENTS.get(currency, 2)
    fig, ax = plt.subplots(figsize=(9, 4))
    for arm in report.arms:
        per_day = arm.cash_per_day.get(currency, {})
        days = sorted(per_day)
        ax.plot(
            [date.fromisoformat(d) for d in days],
            [per_day[d] / scale for d in days],
            marker="o",
            label=f"{arm.name} ({arm.customers})",
        )
    ax.set_ylabel(f"cash collected ({currency})")
    ax.set_title(f"Experiment {report.experiment} ({report.strategy}), {report.since} .. {report.until}")
    ax.legend()
    _days_axis(ax, (date.fromisoformat(report.until) - date.fromisoformat(report.since)).days)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)

"""The lab's reports as text for a terminal (the JSON forms are their `as_dict`)."""

from __future__ import annotations

from engine.lab.diff import StrategyDiff, Treatment
from engine.lab.experiment import Comparison, ExperimentReport
from engine.lab.simulate import Backtest
from states.money import CURRENCY_EXPONENTS, format_minor


def _treatment(t: Treatment | None) -> str:
    if t is None:
        return "nothing"
    parts = [", ".join(t.rules) or "no rule"]
    if t.transitions:
        parts.append(f"{'+'.join(t.transitions)} -> {t.state} L{t.level}")
    if t.notice:
        parts.append(f"{t.notice[0]} by {t.notice[1]} ({t.notice[2]})")
    if t.task:
        parts.append(f"task in {t.task}")
    return "; ".join(parts)


def diff_lines(diff: StrategyDiff, limit: int) -> list[str]:
    """A summary, then at most `limit` changed invoices and customers (all of them with --json)."""
    lines = [
        f"{diff.business_date}: {diff.invoices_evaluated} invoices evaluated; "
        f"{len(diff.invoices)} invoices and {len(diff.customers)} customers would be treated differently"
    ]
    for name, t in diff.totals.items():
        lines.append(f"  {name}: {t['before']} -> {t['after']} ({t['change']:+d})")
    lines.append("by rule (before -> after):")
    lines += [f"  {rule}: {t['before']} -> {t['after']} ({t['change']:+d})" for rule, t in diff.by_rule.items()]
    lines.append("by segment (changed invoices, customers):")
    lines += [f"  {s}: {t['invoices_changed']}, {t['customers_changed']}" for s, t in diff.by_segment.items()]
    lines.append("by channel (notices, messages: before -> after):")
    lines += [
        f"  {c}: {t['notices_before']} -> {t['notices_after']}, {t['messages_before']} -> {t['messages_after']}"
        for c, t in diff.by_channel.items()
    ]
    lines.append("contact: " + ", ".join(f"{k} {v}" for k, v in diff.contact.items()))
    if diff.invoices:
        lines.append("invoices (before => after):")
    for c in diff.invoices[:limit]:
        lines.append(
            f"  invoice {c.invoice_id} (customer {c.customer_id}, {c.segment}×{c.risk}): "
            f"{_treatment(c.before)} => {_treatment(c.after)}"
        )
    if len(diff.invoices) > limit:
        lines.append(f"  … and {len(diff.invoices) - limit} more (--json lists every one)")
    if diff.customers:
        lines.append("customers (messages today, orders: before => after):")
    for k in diff.customers[:limit]:
        was, now = k.before, k.after
        cap = f", cap {now.cap}/{now.cap_days}d with {now.recent_notices} sent" if now.cap else ""
        lines.append(
            f"  customer {k.customer_id} ({k.segment}×{k.risk}): messages {was.messages} => {now.messages}{cap}; "
            f"orders {list(was.orders)} => {list(now.orders)}"
        )
    if len(diff.customers) > limit:
        lines.append(f"  … and {len(diff.customers) - limit} more (--json lists every one)")
    return lines


def _vs(c: Comparison | None) -> str:
    if c is None:
        return ""
    interval = f" [{c.low}, {c.high}]" if c.low is not None else ""
    return f" ({c.difference:+} vs champion{interval})"


def experiment_lines(report: ExperimentReport) -> list[str]:
    lines = [f"experiment {report.experiment} ({report.strategy}), {report.since} .. {report.until}:"]
    for arm in report.arms:
        lines.append(
            f"  {arm.name}: {arm.customers} customers; {arm.invoices_paid} invoices paid, days to pay "
            f"{arm.days_to_pay}{_vs(arm.days_to_pay_vs_champion)}; messages per customer "
            f"{arm.messages_per_customer}{_vs(arm.messages_vs_champion)}"
        )
        for cash in arm.cash:
            lines.append(
                f"    cash {cash.currency}: {format_minor(cash.collected, cash.currency)} from {cash.customers} "
                f"customers, {cash.per_customer / 10 ** CURRENCY_EXPONENTS[cash.currency]:.2f} per customer"
                f"{_vs(cash.vs_champion)} (differences in minor units)"
            )
    return lines


def backtest_lines(result: Backtest) -> list[str]:
    c = result.headline_currency
    lines = [f"backtest from {result.start}, {result.days} days, seed {result.seed} (figures in {c or 'n/a'}):"]
    for o in result.outcomes:
        cash = format_minor(o.cash.get(c, 0), c) if c else "0"
        lines.append(
            f"  {o.strategies}: cash {cash} {c}; DSO {o.dso_start.get(c)} -> {o.dso_end.get(c)}; CEI {o.cei.get(c)}%; "
            f"messages per customer {o.messages_per_customer}; holds placed {o.holds_placed}; "
            f"escalations {o.escalations} (response model: {o.response_model}; {o.learned_from} paid invoices, "
            f"{o.notices_observed} past notices, {o.reminder_reaction_share:.0%} of them followed by payment "
            "within 14 days)"
        )
    return lines

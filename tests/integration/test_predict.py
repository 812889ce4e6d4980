"""Payment predictions learned from the database (demo history), stored per open invoice, read by
the cycle's facts, explained for one invoice; too little history falls back to the baseline."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from cycle_support import Portfolio as CyclePortfolio
from cycle_support import shipped_strategies
from graphql_harness import codes, data, run
from prometheus_client import CollectorRegistry, generate_latest

from api.cli import main
from api.metrics import KpiCollector
from engine import kpi_history
from engine.config import Settings
from engine.cycle.book import load_book
from engine.cycle.runner import run_cycle
from engine.demo import load_demo
from engine.lab.response import PredictedResponse, learn_response
from engine.lab.simulate import backtest
from engine.lab.text import backtest_lines
from engine.predict import service as predictions
from engine.predict.credit_loss import expected_credit_loss
from engine.service import Collections
from engine.services.context import Context
from engine.store.unit_of_work import UnitOfWork, read_only
from engine.strategies_in_force import load_registry
from states.actors import person
from states.money import format_minor

FAST = Settings(predict_iterations=30, predict_min_payments=100)


@pytest.fixture
def demo(service: Collections) -> Collections:
    load_demo(service, customers=120, invoices=1500, seed=5)
    return service


def test_training_stores_a_model_and_a_prediction_for_every_open_invoice(demo: Collections, ctx: Context) -> None:
    run = predictions.train(ctx.store, ctx.today(), ctx.now(), FAST)
    assert run.kind == "model" and run.trained_rows > 100
    with read_only(ctx.store) as uow:
        open_ids = set(uow.select("SELECT id FROM invoice WHERE state NOT IN ('paid', 'cancelled', 'written_off')"))
        stored = uow.select("SELECT invoice, expected_on, low_on, high_on, p_late, days_late FROM invoice_prediction")
    assert {int(r[0]) for r in stored} == {int(i) for i in open_ids} and run.scored == len(open_ids)
    for _, expected, low, high, p_late, days_late in stored:
        as_day = [d if isinstance(d, date) else date.fromisoformat(d) for d in (expected, low, high)]
        assert as_day[1] <= as_day[0] <= as_day[2] and as_day[0] >= ctx.today()
        assert 0 <= p_late <= 1000 and days_late >= 0


def test_the_cycle_facts_carry_the_stored_prediction(demo: Collections, ctx: Context) -> None:
    predictions.train(ctx.store, ctx.today(), ctx.now(), FAST)
    book = load_book(ctx.store, ctx.today())
    with read_only(ctx.store) as uow:
        stored = dict(uow.select("SELECT invoice, p_late FROM invoice_prediction"))
    p = book.portfolio
    assert len(p) > 0
    for k in range(len(p)):
        assert int(p.p_late[k]) == (stored[int(p.invoice_id[k])] + 5) // 10


def test_one_invoice_prediction_names_its_factors_in_words(demo: Collections, ctx: Context) -> None:
    predictions.train(ctx.store, ctx.today(), ctx.now(), FAST)
    with read_only(ctx.store) as uow:
        invoice_id = int(uow.select("SELECT MIN(invoice) FROM invoice_prediction")[0])
    found = predictions.explain(ctx.store, [invoice_id, 10**9], ctx.today())
    assert list(found) == [invoice_id]
    one = found[invoice_id]
    assert one.kind == "model" and one.low_on <= one.expected_on <= one.high_on
    assert one.factors and all(f["words"] and isinstance(f["days"], float) for f in one.factors)


def test_too_little_history_falls_back_to_the_customer_mean_marked_as_such(service: Collections, ctx: Context) -> None:
    load_demo(service, customers=5, invoices=40, seed=2)
    run = predictions.train(ctx.store, ctx.today(), ctx.now())
    assert run.kind == "baseline"
    assert "needed to learn from: the customer-mean baseline predicts instead" in run.reason
    with read_only(ctx.store) as uow:
        invoice_id = int(uow.select("SELECT MIN(invoice) FROM invoice_prediction")[0])
    assert predictions.explain(ctx.store, [invoice_id], ctx.today())[invoice_id].kind == "baseline"


def test_graphql_invoice_payment_prediction_and_the_worklist_use_the_model(demo: Collections, ctx: Context) -> None:
    predictions.train(ctx.store, ctx.today(), ctx.now(), FAST)
    query = """{ invoices(first: 5, filter: {state: [OVERDUE, DUNNING, OPEN]}) { edges { node { dueDate
        paymentPrediction { expectedDate pLate daysLate interval { low high } basis note
                            factors { feature words days } } } } } }"""
    edges = data(run(ctx, query))["invoices"]["edges"]
    assert edges
    for edge in edges:
        p = edge["node"]["paymentPrediction"]
        assert p["basis"] == "MODEL" and p["note"].startswith("model ")
        assert p["interval"]["low"] <= p["expectedDate"] <= p["interval"]["high"]
        assert 0 <= p["pLate"] <= 1 and p["factors"]
    paid = data(
        run(ctx, "{ invoices(first: 1, filter: {state: [PAID]}) { edges { node { paymentPrediction { pLate } } } } }")
    )
    assert paid["invoices"]["edges"][0]["node"]["paymentPrediction"] is None
    work = data(run(ctx, "{ worklist(first: 3) { edges { node { reason urgency lateProbability } } } }"))
    assert all("payment prediction" in e["node"]["reason"] for e in work["worklist"]["edges"])


def test_cash_forecast_spreads_open_invoices_and_compares_past_weeks_with_receipts(
    demo: Collections, ctx: Context
) -> None:
    earlier = ctx.today() - timedelta(days=14)
    predictions.train(ctx.store, earlier, ctx.now(), FAST)  # a snapshot two weeks ago
    predictions.score(ctx.store, ctx.today(), FAST)
    query = """{ cashForecast(currency: "EUR", weeks: 13, pastWeeks: 3) { currency weeks { weekStart
        expected { minor } low { minor } high { minor } } past { weekStart forecastOn forecast { minor }
        actual { minor } } unscoredInvoices } }"""
    found = data(run(ctx, query))["cashForecast"]
    assert len(found["weeks"]) == 13 and found["unscoredInvoices"] == 0
    with read_only(ctx.store) as uow:
        open_eur = int(uow.select("SELECT COALESCE(SUM(open_amount), 0) FROM invoice WHERE currency = 'EUR' "
                                  "AND state NOT IN ('paid', 'cancelled', 'written_off')")[0])  # fmt: skip
    expected = [int(w["expected"]["minor"]) for w in found["weeks"]]
    assert 0 < sum(expected) <= open_eur
    assert all(int(w["low"]["minor"]) <= int(w["expected"]["minor"]) <= int(w["high"]["minor"]) for w in found["weeks"])
    compared = [p for p in found["past"] if p["forecastOn"] is not None]
    assert compared and all(p["forecastOn"] == earlier.isoformat() for p in compared)
    week = date.fromisoformat(compared[-1]["weekStart"])
    with read_only(ctx.store) as uow:
        received = int(uow.select("SELECT COALESCE(SUM(amount), 0) FROM payment WHERE currency = 'EUR' "
                                  "AND received_on >= $a AND received_on < $b",
                                  {"a": week, "b": week + timedelta(days=7)})[0])  # fmt: skip
    assert int(compared[-1]["actual"]["minor"]) == received


def test_cash_forecast_refuses_bad_arguments_with_a_code(demo: Collections, ctx: Context) -> None:
    assert codes(run(ctx, '{ cashForecast(currency: "EUR", weeks: 0) { currency } }')) == ["VALIDATION_FAILED"]
    assert codes(run(ctx, '{ cashForecast(currency: "XYZ") { currency } }')) == ["VALIDATION_FAILED"]


def test_expected_credit_loss_applies_the_provision_matrix_to_open_amounts(demo: Collections, ctx: Context) -> None:
    query = """{ expectedCreditLoss(currency: "EUR", lossAfterDays: 120, top: 5) { total { minor }
        totalExposure { minor } matrix { segment bucket lossRate exposure { minor } expectedLoss { minor } }
        customers { customerId expectedLoss { minor } } } }"""
    found = data(run(ctx, query))["expectedCreditLoss"]
    cells = found["matrix"]
    assert {c["bucket"] for c in cells} == {"current", "d1_30", "d31_60", "d61_90", "d91_plus"}
    for c in cells:
        assert 0 <= c["lossRate"] <= 1
        assert abs(int(c["expectedLoss"]["minor"]) - int(c["exposure"]["minor"]) * c["lossRate"]) <= 1
    by_segment = {}
    for c in cells:
        by_segment.setdefault(c["segment"], []).append(c["lossRate"])
    assert all(rates == sorted(rates) for rates in by_segment.values())  # older debt, higher loss rate
    assert int(found["total"]["minor"]) == sum(int(c["expectedLoss"]["minor"]) for c in cells)
    with read_only(ctx.store) as uow:
        open_eur = int(uow.select("SELECT COALESCE(SUM(open_amount), 0) FROM invoice WHERE currency = 'EUR' "
                                  "AND state NOT IN ('paid', 'cancelled', 'written_off')")[0])  # fmt: skip
    assert int(found["totalExposure"]["minor"]) == open_eur
    losses = [int(c["expectedLoss"]["minor"]) for c in found["customers"]]
    assert losses == sorted(losses, reverse=True) and len(losses) <= 5
    bad = run(ctx, '{ expectedCreditLoss(currency: "EUR", lossAfterDays: 30) { total { minor } } }')
    assert codes(bad) == ["VALIDATION_FAILED"]


def test_kpi_history_keeps_daily_snapshots_broken_down_by_segment_and_strategy(demo: Collections, ctx: Context) -> None:
    route = kpi_history.router(load_registry(ctx.settings.strategies_dir).current)
    days = [ctx.today() - timedelta(days=k) for k in (2, 1, 0)]
    for day in days:
        kpi_history.take(ctx.store, ctx.clock.zone, day, route)
    kpi_history.take(ctx.store, ctx.clock.zone, days[-1], route)  # a retake replaces, never doubles
    query = """query($by: KpiDimension!, $since: Date!) { kpiHistory(currency: "EUR", from: $since, by: $by) {
        businessDate key openReceivables { minor } currentReceivables { minor } pctCurrent countbackDso
        aging { key amount { minor } } unappliedCash { minor } openDisputes } }"""

    def points(by: str) -> list[dict[str, Any]]:
        return list(data(run(ctx, query, {"by": by, "since": days[0].isoformat()}))["kpiHistory"])

    everyone = points("ALL")
    assert [p["businessDate"] for p in everyone] == [d.isoformat() for d in days]
    today = everyone[-1]
    assert int(today["openReceivables"]["minor"]) == sum(int(a["amount"]["minor"]) for a in today["aging"])
    aging = data(run(ctx, '{ agingReport(currency: "EUR") { total { minor } } }'))["agingReport"]
    assert today["openReceivables"]["minor"] == aging["total"]["minor"]
    assert today["pctCurrent"] == round(int(today["currentReceivables"]["minor"]) * 100
                                        / int(today["openReceivables"]["minor"]), 1)  # fmt: skip
    by_segment = [p for p in points("SEGMENT") if p["businessDate"] == days[-1].isoformat()]
    assert sum(int(p["openReceivables"]["minor"]) for p in by_segment) == int(today["openReceivables"]["minor"])
    strategies = {p["key"] for p in points("STRATEGY")}
    assert "smb-standard" in strategies or "mid-market" in strategies
    rendered = generate_latest(_kpi_registry(ctx)).decode()
    assert 'o2c_kpi_open_receivables_minor{currency="EUR",dimension="all",key="all"}' in rendered


def _kpi_registry(ctx: Context) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(KpiCollector(ctx.store, 0))
    return registry


def test_a_cycle_decision_on_a_predicted_fact_names_the_prediction_in_the_history(
    service: Collections, ctx: Context
) -> None:
    book = CyclePortfolio(service, ctx.today())
    book.customer("likely-late", "smb", "low")
    book.customer("on-time", "smb", "low")
    late, fine = book.invoice("likely-late", -7), book.invoice("on-time", -7)  # due in a week
    with UnitOfWork(ctx.store, write=True) as uow:
        for invoice_id, customer, p_late in ((late, "likely-late", 830), (fine, "on-time", 120)):
            uow.InvoicePrediction(invoice=invoice_id, customer=book.customers[customer], model=1,
                                  business_date=ctx.today(), expected_on=ctx.today() + timedelta(days=20),
                                  low_on=ctx.today() + timedelta(days=10), high_on=ctx.today() + timedelta(days=30),
                                  p_late=p_late, days_late=13)  # fmt: skip
        uow.commit()
    run_cycle(ctx, shipped_strategies(), ctx.today())
    with read_only(ctx.store) as uow:
        found = uow.select("SELECT invoice, rule FROM notice")
    assert [(int(i), str(r)) for i, r in found] == [(late, "early-reminder-likely-late")]
    assert _notice_cause(ctx, late)["prediction"] == "payment prediction used: p_late=83"


def _notice_cause(ctx: Context, invoice_id: int) -> dict[str, Any]:
    with read_only(ctx.store) as uow:
        rows = uow.select("SELECT data FROM outbox WHERE type = 'o2c.notice.requested'")
    for raw in rows:
        payload = raw if isinstance(raw, dict) else json.loads(raw)
        if payload.get("cause", {}).get("rule") == "early-reminder-likely-late":
            return dict(payload["cause"])
    raise AssertionError(f"no event of the reminder: {rows}")


def test_kpi_history_breaks_down_by_collector_with_the_unassigned_as_their_own_group(
    demo: Collections, ctx: Context, database_url: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    with read_only(ctx.store) as uow:
        owing = [int(r) for r in uow.select(
            "SELECT DISTINCT customer FROM invoice WHERE currency = 'EUR' "
            "AND state NOT IN ('paid', 'cancelled', 'written_off') ORDER BY customer")]  # fmt: skip
    kim = demo.create_collector("Kim Keys", "kim@example.com", ()).id
    for customer in owing[:3]:
        demo.assign_customer(customer, kim, person("alice"))
    demo.assign_customer(owing[3], None, person("alice"))  # in no portfolio
    monkeypatch.setenv("O2C_DATABASE_URL", database_url)
    monkeypatch.setenv("O2C_STRATEGIES_DIR", str(ctx.settings.strategies_dir))
    day = ctx.today()
    assert main(["kpis", "snapshot", "--as-of", day.isoformat()]) == 0
    out = capsys.readouterr().out
    assert ", collector " in out and "collector 0)" not in out
    query = """query($by: KpiDimension!, $since: Date!) { kpiHistory(currency: "EUR", from: $since, by: $by) {
        key openReceivables { minor } } }"""

    def points(by: str) -> dict[str, int]:
        found = data(run(ctx, query, {"by": by, "since": day.isoformat()}))["kpiHistory"]
        return {p["key"]: int(p["openReceivables"]["minor"]) for p in found}

    everyone, collectors = points("ALL"), points("COLLECTOR")
    assert {"kim@example.com", kpi_history.UNASSIGNED} <= set(collectors)
    assert sum(collectors.values()) == everyone["all"]
    with read_only(ctx.store) as uow:
        kims = int(uow.select(
            "SELECT COALESCE(SUM(i.open_amount), 0) FROM invoice i JOIN customer c ON c.id = i.customer "
            "WHERE c.collector = $k AND i.currency = 'EUR' AND i.state NOT IN ('paid', 'cancelled', 'written_off')",
            {"k": kim})[0])  # fmt: skip
    assert collectors["kim@example.com"] == kims > 0


def test_the_ecl_command_prints_the_provision_matrix_and_the_same_total_as_the_engine(
    demo: Collections, ctx: Context, database_url: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    day = ctx.today()
    monkeypatch.setenv("O2C_DATABASE_URL", database_url)
    monkeypatch.setenv("O2C_TODAY", day.isoformat())
    expected = expected_credit_loss(ctx.store, "EUR", day, day)
    assert main(["ecl", "--currency", "EUR", "--as-of", day.isoformat(), "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert (found["total"], found["total_exposure"]) == (expected.total, expected.total_exposure) != (0, 0)
    assert len(found["matrix"]) == len(expected.matrix)
    assert main(["ecl", "--currency", "EUR", "--as-of", day.isoformat()]) == 0
    text = capsys.readouterr().out
    assert "loss rate" in text and "d91_plus" in text and format_minor(expected.total, "EUR") in text
    assert main(["ecl", "--currency", "EURO"]) == 2
    assert "VALIDATION_FAILED" in capsys.readouterr().err


def test_the_backtest_draws_payments_from_the_trained_prediction_and_says_so(demo: Collections, ctx: Context) -> None:
    assert learn_response(ctx.store).kind == "observed delays"  # nothing trained yet: the fallback
    predictions.train(ctx.store, ctx.today(), ctx.now(), FAST)
    response = learn_response(ctx.store)
    assert isinstance(response, PredictedResponse) and response.kind.startswith("payment prediction")
    with read_only(ctx.store) as uow:
        rows = uow.select("SELECT id, customer, due_date FROM invoice WHERE state NOT IN ('paid', 'cancelled', "
                          "'written_off') ORDER BY id")  # fmt: skip
    ids = np.asarray([int(r[0]) for r in rows], dtype=np.int64)
    owners = np.asarray([int(r[1]) for r in rows], dtype=np.int64)
    epoch = date(1970, 1, 1)
    dues = np.asarray([((r[2] if isinstance(r[2], date) else date.fromisoformat(str(r[2])[:10])) - epoch).days
                       for r in rows], dtype=np.int64)  # fmt: skip
    today = (ctx.today() - epoch).days
    days = response.pay_days(owners, dues, today, np.random.default_rng(3), ids)
    drawn = predictions.predict_delays(ctx.store, ids.tolist(), ctx.today(), np.random.default_rng(3))
    predicted = dues + np.asarray([drawn[int(i)][0] for i in ids.tolist()], dtype=np.int64)
    assert (days > today).all()
    ahead = predicted > today
    assert ahead.sum() > len(ids) // 2 and np.array_equal(days[ahead], predicted[ahead])
    result = backtest(ctx.store, [("in force", shipped_strategies())], ctx.today(), 2, seed=1)
    assert result.outcomes[0].response_model == response.kind
    assert f"response model: {response.kind};" in "\n".join(backtest_lines(result))

"""Champion/challenger through the real cycle on SQLite and PostgreSQL: each customer is decided
by its arm (the variant's rules), the arm is in every decision's cause, the contact cap holds
across arms, and `experiment(name)` (engine, CLI and GraphQL) reports per arm customers, cash,
days to pay and messages with the difference to the champion."""

from __future__ import annotations

import json
import shutil
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from cycle_support import STRATEGIES, Portfolio, as_json, clear_cycle_tables, rows, scalar
from graphql_harness import codes, data
from test_graphql_strategies import run_with

from api.cli import main
from engine.commands import AllocationLine, RecordPayment
from engine.cycle.runner import run_cycle
from engine.lab.experiment import experiment_report
from engine.rules.experiment import arm_index
from engine.rules.registry import Registry
from engine.service import Collections
from engine.services.context import Context
from engine.store.database import Store
from states.actors import Actor

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "rules"))
from conftest import TODAY
from test_experiments import EXPERIMENT

BANK = Actor("payment", "bank-feed")
CUSTOMERS = 60
QUERY = """query($name: String!) { experiment(name: $name, since: "2026-03-01", until: "2026-03-02") {
  name strategy arms { name customers invoicesPaid daysToPay messages messagesPerCustomer
  messagesVsChampion { difference low high } daysToPayVsChampion { difference }
  cash { collected { minor currency } customers perCustomerMinor vsChampion { difference low high } } } } }"""


@pytest.fixture(autouse=True)
def _clean(store: Store) -> None:
    clear_cycle_tables(store)


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    folder = tmp_path / "strategies"
    shutil.copytree(STRATEGIES, folder)
    smb = folder / "smb-standard.yaml"
    smb.write_text(smb.read_text() + EXPERIMENT)
    registry = Registry(folder)
    assert registry.reload().ok
    return registry


def test_each_arm_decides_its_customers_records_the_arm_and_keeps_the_contact_cap(
    ctx: Context, service: Collections, store: Store, registry: Registry
) -> None:
    book = Portfolio(service, TODAY)
    for n in range(CUSTOMERS):
        book.customer(f"c{n}", "smb", "low")
        book.invoice(f"c{n}", -3)  # a pre-due reminder (email)
        for _ in range(3):
            book.invoice(f"c{n}", 4)  # three first notices wanted; the cap (2 a week) leaves room for one
    strategies = registry.current
    run_cycle(ctx, strategies, TODAY)
    compiled = strategies.route("smb", "low")
    ids = np.asarray(sorted(book.customers.values()), dtype=np.int64)
    index = arm_index(compiled, ids).tolist()
    arm = {c: compiled.arms[k].strategy.variant for c, k in zip(ids.tolist(), index, strict=True)}
    assert set(arm.values()) == {"holdout", "sms-first", "champion"}
    notices = rows(store, "SELECT customer, channel, template FROM notice")
    # One message per customer, date and channel lists every invoice: the cap (2 messages a week)
    # counts messages, so all four invoices are in them, in every arm.
    assert set(Counter(int(c) for c, _, _ in notices).values()) == {4}
    messages = Counter(int(c) for c in rows(store, "SELECT customer FROM notice_message"))
    for c, n in messages.items():
        assert n == (2 if arm[c] == "sms-first" else 1), (arm[c], n)
    for c, channel, template in notices:
        if template == "smb_dunning_1":
            assert channel == ("sms" if arm[int(c)] == "sms-first" else "email")
    causes = rows(store, "SELECT entity_id, cause FROM transition_history WHERE trigger = 'dun'")
    assert causes
    owner = dict(rows(store, "SELECT id, customer FROM invoice"))
    for invoice_id, cause in causes:
        found = as_json(cause)
        assert (found["experiment"], found["variant"]) == ("smb-sms-first", arm[int(owner[invoice_id])])

    paid: Counter[str] = Counter()
    for n, customer_id in enumerate(ids.tolist()):
        if n % 3 == 0:
            invoice_id = scalar(store, f"SELECT MIN(id) FROM invoice WHERE customer = {customer_id}")
            service.apply_payment(
                RecordPayment(customer_id, f"P{n}", 100_000, "EUR", TODAY, (AllocationLine(100_000, invoice_id),)),
                BANK,
            )
            paid[arm[customer_id]] += 100_000
    report = experiment_report(store, strategies, "smb-sms-first", TODAY, TODAY)
    by_name = {a.name: a for a in report.arms}
    assert [a.name for a in report.arms] == ["holdout", "sms-first", "champion"]
    assert {a.name: a.customers for a in report.arms} == Counter(arm.values())
    assert {a.name: a.cash[0].collected for a in report.arms if a.cash[0].collected} == dict(paid)
    # the pre-due email and the first notice: one message (email) for the champion, two (email, SMS) for the variant
    assert by_name["champion"].messages_per_customer == 1.0 and by_name["sms-first"].messages_per_customer == 2.0
    versus = by_name["sms-first"].messages_vs_champion
    assert versus is not None and (versus.difference, versus.low, versus.high) == (1.0, 1.0, 1.0)
    assert by_name["champion"].messages_vs_champion is None
    assert by_name["sms-first"].days_to_pay == -3.0  # the pre-due invoice was paid 3 days early
    assert {a.name: sum(a.cash_per_day.get("EUR", {}).values()) for a in report.arms if paid[a.name]} == dict(paid)

    graph = data(run_with(ctx, registry, QUERY, {"name": "smb-sms-first"}, role="viewer"))["experiment"]
    assert [(a["name"], a["customers"], a["messagesPerCustomer"]) for a in graph["arms"]] == [
        (a.name, a.customers, a.messages_per_customer) for a in report.arms
    ]
    assert graph["arms"][1]["messagesVsChampion"] == {"difference": 1.0, "low": 1.0, "high": 1.0}
    assert codes(run_with(ctx, registry, QUERY, {"name": "no-such"}, role="viewer")) == ["NOT_FOUND"]


def test_the_experiment_command_prints_each_arm(
    ctx: Context, service: Collections, registry: Registry, database_url: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("O2C_DATABASE_URL", database_url)
    monkeypatch.setenv("O2C_STRATEGIES_DIR", str(registry.directory))
    argv = ["strategies", "experiment", "smb-sms-first", "--since", "2026-01-01", "--until", TODAY.isoformat()]
    assert main([*argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [a["name"] for a in out["arms"]] == ["holdout", "sms-first", "champion"]
    chart = registry.directory / "experiment.png"
    assert main([*argv, "--plot", str(chart)]) == 0
    assert "sms-first: 0 customers" in capsys.readouterr().out
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["strategies", "experiment", "no-such"]) == 2
    assert "NOT_FOUND" in capsys.readouterr().err

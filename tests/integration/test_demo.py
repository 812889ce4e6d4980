"""`o2c demo`: a seeded portfolio with every payment behaviour, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.config import Settings
from engine.demo import load_demo
from engine.service import Collections
from engine.services.context import Context
from engine.store.database import Store
from engine.store.unit_of_work import read_only
from engine.store.upgrades import upgrade

SMALL = {"customers": 200, "invoices": 2000}


def business_data(store: Store) -> dict[str, Any]:
    with read_only(store) as uow:
        return {
            "customers": uow.select(
                "SELECT external_ref, name, segment, currency, credit_limit, payment_terms_days, risk_score, "
                "state FROM customer ORDER BY external_ref"
            ),
            "invoices": uow.select("SELECT number, amount, open_amount, state, version FROM invoice ORDER BY number"),
            "payments": uow.select("SELECT reference, amount, unapplied_amount FROM payment ORDER BY reference"),
            "disputes": uow.select("SELECT invoice, state FROM dispute ORDER BY invoice"),
        }


def load_into_new_sqlite(ctx: Context, folder: Path, seed: int) -> Store:
    store = Store(f"sqlite:///{folder}/again.sqlite")
    upgrade(store)
    other = Context(store=store, clock=ctx.clock, settings=Settings(database_url=store.url))
    load_demo(Collections(other), seed=seed, **SMALL)
    return store


@pytest.fixture
def demo(service: Collections) -> Collections:
    load_demo(service, seed=7, **SMALL)
    return service


def test_the_same_seed_gives_the_same_portfolio_and_another_seed_a_different_one(
    demo: Collections, tmp_path: Path
) -> None:
    first = business_data(demo.ctx.store)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    again = load_into_new_sqlite(demo.ctx, tmp_path / "a", seed=7)
    other = load_into_new_sqlite(demo.ctx, tmp_path / "b", seed=8)
    assert business_data(again) == first
    assert business_data(other)["invoices"] != first["invoices"]
    again.disconnect()
    other.disconnect()


def test_the_portfolio_has_every_segment_behaviour_and_live_situation(demo: Collections) -> None:
    today = demo.ctx.today()
    with read_only(demo.ctx.store) as uow:
        customers = list(uow.Customer.select())
        assert {c.segment for c in customers} == {"enterprise", "mid_market", "smb", "public_sector"}
        behaviours = {t for c in customers for t in c.tags}
        assert behaviours == {
            "behaviour:prompt",
            "behaviour:a_little_late",
            "behaviour:chronically_late",
            "behaviour:disputing",
            "behaviour:promise_breaking",
        }
        assert {c.currency for c in customers} == {"EUR", "USD", "GBP"}
        invoices = list(uow.Invoice.select())
        assert len(invoices) == SMALL["invoices"]
        assert all(today - i.issue_date <= today - today.replace(year=today.year - 1) for i in invoices)
        paid = [i for i in invoices if i.state == "paid"]
        assert any(i.paid_on <= i.due_date for i in paid) and any(i.paid_on > i.due_date for i in paid)
        assert any(i.state == "open" and i.due_date < today for i in invoices)
        assert uow.Dispute.select(lambda d: d.state in ("open", "under_review")).count() > 0
        assert uow.PromiseToPay.select(lambda p: p.status == "active").count() > 0
        assert uow.PromiseToPay.select(lambda p: p.status == "broken").count() > 0
        assert any(c.state == "on_hold" for c in customers)
        assert len({c.risk_class for c in customers}) >= 3


def test_every_invoice_history_starts_with_its_issue_and_paid_ones_end_paid(demo: Collections) -> None:
    with read_only(demo.ctx.store) as uow:
        rows = uow.select(
            "SELECT i.id, i.state, i.version, h.trigger, h.to_state, h.entity_version FROM invoice i "
            "JOIN transition_history h ON h.entity_type = 'invoice' AND h.entity_id = i.id ORDER BY i.id, h.id"
        )
        events = uow.select("SELECT COUNT(*) FROM outbox WHERE entity_type = 'invoice'")[0]
    history: dict[int, list[tuple[Any, ...]]] = {}
    for row in rows:
        history.setdefault(row[0], []).append(row)
    assert len(history) == SMALL["invoices"]
    assert events == len(rows)
    for steps in history.values():
        assert steps[0][3] == "issue"
        assert steps[-1][4] == steps[0][1]  # the last transition leads to the current state
        if steps[0][1] == "paid":
            assert steps[-1][5] == steps[0][2]  # and carries the current version


def test_the_demo_statement_leaves_deductions_for_the_dispute_desk(demo: Collections) -> None:
    with read_only(demo.ctx.store) as uow:
        found = uow.select(
            "SELECT d.amount, i.open_amount, i.state FROM dispute d JOIN invoice i ON i.id = d.invoice "
            "WHERE d.reason_code = 'deduction' AND d.payment IS NOT NULL"
        )
    assert found
    assert all(amount == open_amount and state == "disputed" for amount, open_amount, state in found)


def test_customers_live_in_several_countries_time_zones_and_subdivisions_some_without_a_country(
    demo: Collections,
) -> None:
    with read_only(demo.ctx.store) as uow:
        places = {tuple(r) for r in uow.select("SELECT timezone, country, subdivision FROM customer")}
    countries = {country for _zone, country, _sub in places}
    assert {"DE", "FR", "US", "GB", None} <= countries
    assert ("Europe/Berlin", "DE", "BY") in places and ("America/Chicago", "US", "IL") in places
    assert len({zone for zone, _c, _s in places}) >= 5

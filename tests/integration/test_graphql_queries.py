"""Queries executed in-process against SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from graphql_harness import codes, data, run, seed_portfolio

from engine import commands as c
from engine.service import Collections
from states.actors import person

INVOICE_PAGE = """
query($first: Int!, $after: String, $filter: InvoiceFilter) {
  invoices(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { number amount { amount currency minor } daysPastDue customer { externalRef } } }
  }
}"""


def test_invoice_pages_cover_every_match_once_with_a_total_count(service: Collections) -> None:
    seed_portfolio(service, customers=3, invoices_each=3)
    seen: list[str] = []
    after = None
    while True:
        page = data(run(service.ctx, INVOICE_PAGE, {"first": 4, "after": after}))["invoices"]
        assert page["totalCount"] == 9
        seen += [e["node"]["number"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 9


def test_invoice_filter_combines_segment_and_days_past_due(service: Collections) -> None:
    seed_portfolio(service, customers=2, invoices_each=3)
    flt = {"segment": ["smb"], "minDaysPastDue": 30, "maxDaysPastDue": 60}
    page = data(run(service.ctx, INVOICE_PAGE, {"first": 10, "filter": flt}))["invoices"]
    assert [e["node"]["number"] for e in page["edges"]] == ["INV-0-1"]
    assert page["edges"][0]["node"]["daysPastDue"] == 40


def test_money_is_a_decimal_string_with_its_minor_units(service: Collections) -> None:
    seed_portfolio(service, customers=1, invoices_each=1)
    node = data(run(service.ctx, INVOICE_PAGE, {"first": 1}))["invoices"]["edges"][0]["node"]
    assert node["amount"] == {"amount": "100.00", "currency": "EUR", "minor": 10000}


def test_a_page_larger_than_one_hundred_is_refused(service: Collections) -> None:
    assert codes(run(service.ctx, INVOICE_PAGE, {"first": 101})) == ["VALIDATION_FAILED"]


def test_a_forged_cursor_is_a_validation_error(service: Collections) -> None:
    assert codes(run(service.ctx, INVOICE_PAGE, {"first": 1, "after": "bm9wZQ"})) == ["VALIDATION_FAILED"]


def test_history_shows_each_transition_with_cause_facts_and_explanation(service: Collections) -> None:
    (first, *_rest) = seed_portfolio(service, customers=1, invoices_each=1)
    service.transition_invoice(c.TransitionInvoice(first, "mark_overdue", "customer called"), person("ann"))
    query = """query($id: ID!) { history(entity: INVOICE, id: $id) { totalCount edges { node {
        fromState toState trigger actor cause facts reason explanation } } } }"""
    found = data(run(service.ctx, query, {"id": str(first)}))["history"]
    assert found["totalCount"] == 2
    last = found["edges"][-1]["node"]
    assert (last["fromState"], last["toState"], last["trigger"]) == ("open", "overdue", "mark_overdue")
    assert last["cause"] == {"kind": "user", "name": "ann"}
    assert last["facts"]["days_past_due"] == 10
    assert "customer called" in last["explanation"]


def test_worklist_puts_the_most_money_at_risk_first_and_skips_disputed_invoices(
    service: Collections,
) -> None:
    ids = seed_portfolio(service, customers=1, invoices_each=3)
    service.open_dispute(c.OpenDispute(ids[2], "pricing"), person("ann"))
    query = "{ worklist(first: 10) { totalCount edges { node { reason invoice { number } } } } }"
    found = data(run(service.ctx, query))["worklist"]
    assert [e["node"]["invoice"]["number"] for e in found["edges"]] == ["INV-0-1", "INV-0-0"]
    assert found["totalCount"] == 2
    assert "40 days past due" in found["edges"][0]["node"]["reason"]


def test_aging_report_sorts_open_receivables_into_buckets(service: Collections) -> None:
    seed_portfolio(service, customers=1, invoices_each=3)
    query = '{ agingReport(currency: "EUR") { total { amount } buckets { key amount { amount } count } } }'
    report = data(run(service.ctx, query))["agingReport"]
    by_key = {b["key"]: (b["amount"]["amount"], b["count"]) for b in report["buckets"]}
    assert by_key["d1_30"] == ("100.00", 1)
    assert by_key["d31_60"] == ("200.00", 1)
    assert by_key["d61_90"] == ("300.00", 1)
    assert report["total"]["amount"] == "600.00"


def test_kpis_follow_the_definitions_in_the_design(service: Collections) -> None:
    # issued 2026-01-21 (100.00, due 02-20), 2025-12-22 (200.00, due 01-21), 2025-11-22 (300.00)
    seed_portfolio(service, customers=1, invoices_each=3)
    query = """{ kpis(currency: "EUR", from: "2026-01-01", to: "2026-03-02") { days dso bestPossibleDso
        averageDaysDelinquent collectionEffectivenessIndex creditSales { amount }
        beginningReceivables { amount } endingReceivables { amount } } }"""
    k = data(run(service.ctx, query))["kpis"]
    assert k["creditSales"]["amount"] == "100.00"
    assert k["beginningReceivables"]["amount"] == "500.00"
    assert k["endingReceivables"]["amount"] == "600.00"
    assert k["days"] == 61
    assert k["dso"] == "366.00"  # 600 / 100 × 61
    assert k["bestPossibleDso"] == "0.00"  # nothing is current at the end
    assert k["averageDaysDelinquent"] == "366.00"
    assert k["collectionEffectivenessIndex"] == "0.00"  # nothing collected: (500+100−600)/(600−0)


def test_kpis_count_a_payment_as_collected(service: Collections) -> None:
    ids = seed_portfolio(service, customers=1, invoices_each=3)
    service.apply_payment(
        c.RecordPayment(1, "P1", 30000, "EUR", service.ctx.today(), (c.AllocationLine(30000, ids[2]),)),
        person("ann"),
    )
    query = (
        '{ kpis(currency: "EUR", from: "2026-01-01", to: "2026-03-02") { '
        "endingReceivables { amount } collectionEffectivenessIndex } }"
    )
    k = data(run(service.ctx, query))["kpis"]
    assert k["endingReceivables"]["amount"] == "300.00"
    assert k["collectionEffectivenessIndex"] == "50.00"  # (500+100−300)/(600−0)


def test_state_machine_lists_transitions_and_a_mermaid_diagram(service: Collections) -> None:
    query = "{ stateMachine(kind: ACCOUNT) { initial states transitions { trigger from to } mermaid } }"
    machine = data(run(service.ctx, query))["stateMachine"]
    assert machine["initial"] == "active"
    assert {"trigger": "place_hold", "from": "active", "to": "on_hold"} in machine["transitions"]
    assert machine["mermaid"].startswith("stateDiagram-v2")


def test_customer_shows_exposure_holds_and_latest_invoices(service: Collections) -> None:
    seed_portfolio(service, customers=1, invoices_each=2)
    service.place_hold(c.PlaceHold(1, "manual", "checking"), person("ann"))
    query = """{ customer(id: "1") { state exposure { amount } utilisation holds { reason active }
        invoices(last: 1) { number } history { trigger } } }"""
    found = data(run(service.ctx, query))["customer"]
    assert found["state"] == "ON_HOLD"
    assert found["exposure"]["amount"] == "300.00"
    assert found["utilisation"] == "0.0300"
    assert found["holds"] == [{"reason": "MANUAL", "active": True}]
    assert [i["number"] for i in found["invoices"]] == ["INV-0-0"]
    assert [h["trigger"] for h in found["history"]] == ["place_hold"]


@pytest.mark.parametrize(
    ("query", "field", "lists"),
    [
        ('{ invoices(filter: {segment: ["retail"]}) { totalCount } }', "filter.segment", "smb"),
        ('{ invoices(filter: {risk: ["extreme"]}) { totalCount } }', "filter.risk", "critical"),
        ('{ invoices(filter: {currency: "EUX"}) { totalCount } }', "filter.currency", "EUR"),
        ('{ customers(filter: {segment: ["retail"]}) { totalCount } }', "filter.segment", "public_sector"),
        ("{ invoices(filter: {minDaysPastDue: 1000000000}) { totalCount } }", "filter.minDaysPastDue", "at most"),
        ('{ agingReport(currency: "EUR", segment: "retail") { asOf } }', "segment", "smb"),
        ('{ worklist(currency: "ZZZ") { totalCount } }', "currency", "ISO 4217"),
    ],
)
def test_an_unknown_filter_value_is_a_validation_error_listing_what_is_allowed(
    service: Collections, query: str, field: str, lists: str
) -> None:
    result = run(service.ctx, query)
    assert codes(result) == ["VALIDATION_FAILED"]
    assert result.errors is not None and result.errors[0].extensions is not None
    assert result.errors[0].extensions["field"] == field
    assert lists in result.errors[0].message

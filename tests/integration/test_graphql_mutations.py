"""Mutations executed in-process: typed inputs, changed objects back, typed errors, no half writes."""

from __future__ import annotations

import logging

import pytest
from graphql_harness import codes, data, run, seed_portfolio

from engine import commands as c
from engine.queries import events
from engine.service import Collections
from states.actors import person

PAY = """mutation($input: RecordPaymentInput!) { recordPayment(input: $input) {
  unappliedAmount { amount } allocations { amount { amount } invoice { number state } }
  customer { state unappliedCredit { amount } } } }"""


def _payment(reference: str, amount: str, allocations: list[dict[str, str]]) -> dict[str, object]:
    return {
        "input": {
            "customerId": "1",
            "reference": reference,
            "amount": {"amount": amount, "currency": "EUR"},
            "receivedOn": "2026-03-01",
            "allocations": allocations,
        }
    }


def test_record_payment_pays_invoices_keeps_the_excess_and_releases_the_overdue_hold(
    service: Collections,
) -> None:
    ids = seed_portfolio(service, customers=1, invoices_each=1)
    service.place_hold(c.PlaceHold(1, "overdue"), person("rule"))
    paid = data(run(service.ctx, PAY, _payment("P-1", "150.00", [{"invoiceId": str(ids[0]), "amount": "150.00"}])))[
        "recordPayment"
    ]
    assert paid["allocations"] == [{"amount": {"amount": "100.00"}, "invoice": {"number": "INV-0-0", "state": "PAID"}}]
    assert paid["unappliedAmount"]["amount"] == "50.00"
    assert paid["customer"] == {"state": "ACTIVE", "unappliedCredit": {"amount": "50.00"}}


def test_a_failed_mutation_writes_nothing(service: Collections) -> None:
    seed_portfolio(service, customers=1, invoices_each=2)
    before = events.last_position(service.ctx.store)
    bad = [{"invoiceNumber": "INV-0-0", "amount": "10.00"}, {"invoiceNumber": "NOPE", "amount": "10.00"}]
    assert codes(run(service.ctx, PAY, _payment("P-2", "20.00", bad))) == ["NOT_FOUND"]
    assert events.last_position(service.ctx.store) == before
    invoice = data(run(service.ctx, '{ invoice(id: "1") { openAmount { amount } state } }'))["invoice"]
    assert invoice == {"openAmount": {"amount": "100.00"}, "state": "OPEN"}


@pytest.mark.parametrize(
    ("allocations", "field"),
    [
        ([{"invoiceNumber": "INV-0-0", "amount": "1.00"}, {"invoiceNumber": "INV-0-0", "amount": "1e3"}], "amount"),
        ([{"invoiceNumber": "INV-0-0", "amount": "1.00"}, {"invoiceId": "-4", "amount": "1.00"}], "invoiceId"),
    ],
)
def test_extensions_field_names_the_input_path_as_the_client_wrote_it(
    service: Collections, allocations: list[dict[str, str]], field: str
) -> None:
    seed_portfolio(service, customers=1, invoices_each=1)
    result = run(service.ctx, PAY, _payment("P-3", "20.00", allocations))
    assert codes(result) == ["VALIDATION_FAILED"]
    assert result.errors[0].extensions["field"] == f"input.allocations[1].{field}"  # type: ignore[index]


def test_a_service_field_in_snake_case_reaches_the_client_in_camel_case(service: Collections) -> None:
    seed_portfolio(service, customers=1, invoices_each=1)
    query = 'mutation { updateCustomer(input: {id: "1", paymentTermsDays: 9999}) { id } }'
    result = run(service.ctx, query)
    assert codes(result) == ["VALIDATION_FAILED"]
    assert result.errors[0].extensions["field"] == "input.paymentTermsDays"  # type: ignore[index]


def test_an_impossible_transition_is_reported_as_invalid_transition(service: Collections) -> None:
    seed_portfolio(service, customers=1, invoices_each=1)
    query = 'mutation { transitionInvoice(input: {invoiceId: "1", trigger: RECALL, reason: "test"}) { state } }'
    result = run(service.ctx, query)
    assert codes(result) == ["INVALID_TRANSITION"]
    assert "cannot 'recall'" in result.errors[0].message  # type: ignore[index]


def test_a_manual_transition_needs_a_reason(service: Collections) -> None:
    seed_portfolio(service, customers=1, invoices_each=1)
    query = 'mutation { transitionInvoice(input: {invoiceId: "1", trigger: MARK_OVERDUE, reason: " "}) { state } }'
    assert codes(run(service.ctx, query)) == ["VALIDATION_FAILED"]


def test_releasing_a_credit_hold_needs_a_reason_code(service: Collections) -> None:
    seed_portfolio(service, customers=1, invoices_each=1)
    placed = data(run(service.ctx, 'mutation { placeCreditHold(input: {customerId: "1"}) { state } }'))
    assert placed["placeCreditHold"]["state"] == "ON_HOLD"
    release = (
        'mutation($code: String!) { releaseCreditHold(input: {customerId: "1", reason: '
        "MANUAL, reasonCode: $code}) { state } }"
    )
    assert codes(run(service.ctx, release, {"code": ""})) == ["VALIDATION_FAILED"]
    assert data(run(service.ctx, release, {"code": "paid_up"}))["releaseCreditHold"]["state"] == "ACTIVE"


def test_a_dispute_is_opened_advanced_and_resolved_with_a_partial_credit(service: Collections) -> None:
    seed_portfolio(service, customers=1, invoices_each=1)
    opened = data(
        run(
            service.ctx,
            'mutation { openDispute(input: {invoiceId: "1", reasonCode: PRICING}) { id state invoice { state } } }',
        )
    )["openDispute"]
    assert opened["state"] == "OPEN" and opened["invoice"]["state"] == "DISPUTED"
    advanced = 'mutation { advanceDispute(input: {disputeId: "1", step: REVIEW}) { state } }'
    assert data(run(service.ctx, advanced))["advanceDispute"]["state"] == "UNDER_REVIEW"
    resolve = """mutation { resolveDispute(input: {disputeId: "1", outcome: PARTIAL, creditAmount: "40.00"}) {
        state outcome creditAmount { amount } invoice { openAmount { amount } } } }"""
    resolved = data(run(service.ctx, resolve))["resolveDispute"]
    assert resolved["outcome"] == "PARTIAL" and resolved["creditAmount"]["amount"] == "40.00"
    assert resolved["invoice"]["openAmount"]["amount"] == "60.00"


def test_customers_are_created_and_updated_in_their_own_currency(service: Collections) -> None:
    create = """mutation { createCustomer(input: {externalRef: "X1", name: "Xeno", segment: "smb",
        currency: "JPY", creditLimit: "500000"}) { id creditLimit { amount minor } } }"""
    created = data(run(service.ctx, create))["createCustomer"]
    assert created["creditLimit"] == {"amount": "500000", "minor": 500000}
    update = 'mutation { updateCustomer(input: {id: "1", creditLimit: "1.5"}) { creditLimit { amount } } }'
    assert codes(run(service.ctx, update)) == ["VALIDATION_FAILED"]  # JPY has no decimals


def test_promise_to_pay_pauses_the_invoice(service: Collections) -> None:
    seed_portfolio(service, customers=1, invoices_each=1)
    query = """mutation { recordPromiseToPay(input: {invoiceId: "1", amount: "100.00", promisedDate: "2026-03-10"}) {
        status amount { amount } invoice { state } } }"""
    found = data(run(service.ctx, query))["recordPromiseToPay"]
    assert found == {"status": "ACTIVE", "amount": {"amount": "100.00"}, "invoice": {"state": "PROMISED"}}


def test_an_unexpected_error_is_masked_with_a_correlation_id_that_is_logged(
    service: Collections, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(*_args: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(Collections, "handle", explode)  # every mutation comes through the one door
    query = """mutation { createCustomer(input: {externalRef: "X1", name: "X", segment: "smb",
        currency: "EUR", creditLimit: "1"}) { id } }"""
    with caplog.at_level(logging.ERROR, logger="o2c.api.errors"):
        result = run(service.ctx, query)
    (error,) = result.errors or []
    assert error.extensions is not None and error.extensions["code"] == "INTERNAL"
    assert "database on fire" not in error.message
    assert error.extensions["correlationId"] in caplog.text
    assert "database on fire" in caplog.text

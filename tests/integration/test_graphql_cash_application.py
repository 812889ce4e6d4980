"""The cash-application operations through the real schema: statement in, queue, money moved back."""

from __future__ import annotations

from graphql_harness import codes, data, run, seed_portfolio

from engine import commands as c
from engine.service import Collections
from states.actors import person

IMPORT = """mutation($t: String!) { importStatement(text: $t) {
  format transactions autoApplied suggested unmatched duplicates } }"""
QUEUE = """query($s: [BankTransactionStatus!]) { bankTransactions(filter: {status: $s}) { totalCount
  nodes { id bankRef status confidence amount { amount currency } candidates { customerId confidence reasons
  allocations { invoiceId amount { amount } } } } } }"""
HEADER = "bank_ref,booked_on,amount,currency,payer_name,remittance\n"


def test_a_statement_is_imported_and_the_queue_lists_what_needs_a_person(service: Collections) -> None:
    seed_portfolio(service, customers=1, invoices_each=2)  # INV-0-0 100.00, INV-0-1 200.00 of "Customer 0"
    text = HEADER + "B-1,2026-03-01,100.00,EUR,Customer 0,INV-0-0\nB-2,2026-03-01,55.00,EUR,Someone,hello\n"
    summary = data(run(service.ctx, IMPORT, {"t": text}))["importStatement"]
    assert summary == {
        "format": "csv",
        "transactions": 2,
        "autoApplied": 1,
        "suggested": 0,
        "unmatched": 1,
        "duplicates": 0,
    }
    queue = data(run(service.ctx, QUEUE, {"s": ["UNMATCHED", "SUGGESTED"]}))["bankTransactions"]
    assert queue["totalCount"] == 1
    assert queue["nodes"][0]["bankRef"] == "B-2" and queue["nodes"][0]["status"] == "UNMATCHED"
    invoice = data(run(service.ctx, '{ invoice(id: "1") { state payments { reference amount { amount } } } }'))
    assert invoice["invoice"] == {"state": "PAID", "payments": [{"reference": "B-1", "amount": {"amount": "100.00"}}]}


def test_a_person_applies_a_queued_transaction_and_can_take_it_back(service: Collections) -> None:
    seed_portfolio(service, customers=1, invoices_each=2)
    data(run(service.ctx, IMPORT, {"t": HEADER + "B-9,2026-03-01,200.00,EUR,Stranger,see mail\n"}))
    (txn,) = data(run(service.ctx, QUEUE, {"s": ["UNMATCHED"]}))["bankTransactions"]["nodes"]
    apply = """mutation($id: ID!) { applyBankTransaction(id: $id, customerId: "1",
      allocations: [{invoiceNumber: "INV-0-1", amount: "200.00"}]) { status paymentId } }"""
    applied = data(run(service.ctx, apply, {"id": txn["id"]}))["applyBankTransaction"]
    assert applied["status"] == "APPLIED"
    again = run(service.ctx, apply, {"id": txn["id"]})
    assert codes(again) == ["VALIDATION_FAILED"]
    unapply = 'mutation($id: ID!) { unapplyPayment(id: $id, reason: "wrong invoice") { reference } }'
    data(run(service.ctx, unapply, {"id": applied["paymentId"]}))
    customer = data(run(service.ctx, '{ customer(id: "1") { unappliedCredits { amount currency } } }'))["customer"]
    assert customer == {"unappliedCredits": [{"amount": "200.00", "currency": "EUR"}]}
    credit = 'mutation { applyCredit(customerId: "1", currency: "EUR") { allocations { amount { amount } } } }'
    spread = data(run(service.ctx, credit))["applyCredit"]
    assert [a["amount"]["amount"] for p in spread for a in p["allocations"]] == ["200.00"]  # oldest due first
    reverse = 'mutation($id: ID!) { reversePayment(id: $id, reason: "recalled") { reversed } }'
    assert data(run(service.ctx, reverse, {"id": applied["paymentId"]}))["reversePayment"] == {"reversed": True}


def test_exclude_and_return_need_a_reason_and_a_known_transaction(service: Collections) -> None:
    seed_portfolio(service, customers=1, invoices_each=1)
    data(run(service.ctx, IMPORT, {"t": HEADER + "B-1,2026-03-01,1.00,EUR,X,\n"}))
    (txn,) = data(run(service.ctx, QUEUE, {"s": None}))["bankTransactions"]["nodes"]
    exclude = "mutation($id: ID!, $r: String!) { excludeBankTransaction(id: $id, reason: $r) { status note } }"
    assert codes(run(service.ctx, exclude, {"id": txn["id"], "r": " "})) == ["VALIDATION_FAILED"]
    assert codes(run(service.ctx, exclude, {"id": "999", "r": "x"})) == ["NOT_FOUND"]
    done = data(run(service.ctx, exclude, {"id": txn["id"], "r": "internal transfer"}))["excludeBankTransaction"]
    assert done == {"status": "EXCLUDED", "note": "internal transfer"}


def test_a_bad_statement_is_a_validation_error_naming_the_line(service: Collections) -> None:
    result = run(service.ctx, IMPORT, {"t": HEADER + "B-1,2026-03-01,1e3,EUR,X,\n"})
    assert codes(result) == ["VALIDATION_FAILED"]
    assert "line 2" in result.errors[0].message  # type: ignore[index]


def test_a_viewer_may_read_the_queue_but_not_import(service: Collections) -> None:
    assert codes(run(service.ctx, IMPORT, {"t": HEADER}, role="viewer")) == ["FORBIDDEN"]
    assert data(run(service.ctx, QUEUE, {"s": None}, role="viewer"))["bankTransactions"]["totalCount"] == 0


def test_a_registered_iban_identifies_the_payer_of_the_next_statement(service: Collections) -> None:
    seed_portfolio(service, customers=1, invoices_each=2)
    add = 'mutation($v: String!) { addPayerAlias(customerId: "1", kind: IBAN, value: $v) { kind value } }'
    assert codes(run(service.ctx, add, {"v": "DE00 1234"})) == ["VALIDATION_FAILED"]
    alias = data(run(service.ctx, add, {"v": "DE44 5001 0517 5407 3249 31"}))["addPayerAlias"]
    assert alias == {"kind": "iban", "value": "DE44500105175407324931"}
    csv = (
        "bank_ref,booked_on,amount,currency,payer_iban,remittance\nB-1,2026-03-01,200.00,EUR,DE44500105175407324931,x\n"
    )
    assert data(run(service.ctx, IMPORT, {"t": csv}))["importStatement"]["autoApplied"] == 1
    customer = data(run(service.ctx, '{ customer(id: "1") { payerAliases { kind value } } }'))["customer"]
    assert customer["payerAliases"] == [{"kind": "iban", "value": "DE44500105175407324931"}]


def test_an_invoice_shows_the_credit_notes_that_lowered_it(service: Collections) -> None:
    ids = seed_portfolio(service, customers=1, invoices_each=1)
    dispute = service.open_dispute(c.OpenDispute(ids[0], "pricing"), person("collector"))
    service.resolve_dispute(c.ResolveDispute(dispute.id, "partial", credit_amount=2_500), person("collector"))
    found = data(run(service.ctx, '{ invoice(id: "1") { creditNotes { amount { amount } disputeId } } }'))
    assert found["invoice"]["creditNotes"] == [{"amount": {"amount": "25.00"}, "disputeId": str(dispute.id)}]


DEDUCTIONS = """{ disputes(filter: {reason: [DEDUCTION]}) { totalCount nodes { id reasonCode state owner
  amount { amount currency } payment { reference amount { amount } }
  invoice { number state openAmount { amount } } } } }"""


def test_a_short_payment_shows_as_a_deduction_dispute_that_a_person_resolves(service: Collections) -> None:
    seed_portfolio(service, customers=1, invoices_each=2)  # INV-0-1: 200.00, customer 0 is smb
    data(run(service.ctx, IMPORT, {"t": HEADER + "B-1,2026-03-01,150.00,EUR,Customer 0,INV-0-1 less 50 rebate\n"}))
    found = data(run(service.ctx, DEDUCTIONS))["disputes"]
    assert found["totalCount"] == 1
    (node,) = found["nodes"]
    assert {k: v for k, v in node.items() if k != "id"} == {
        "reasonCode": "DEDUCTION",
        "state": "OPEN",
        "owner": "deductions",
        "amount": {"amount": "50.00", "currency": "EUR"},
        "payment": {"reference": "B-1", "amount": {"amount": "150.00"}},
        "invoice": {"number": "INV-0-1", "state": "DISPUTED", "openAmount": {"amount": "50.00"}},
    }
    resolve = """mutation($id: ID!) { resolveDispute(input: {disputeId: $id, outcome: ACCEPTED, note: "rebate agreed"})
      { state outcome creditAmount { amount } creditNotes { number amount { amount } } invoice { state } } }"""
    resolved = data(run(service.ctx, resolve, {"id": node["id"]}))["resolveDispute"]
    assert resolved == {
        "state": "RESOLVED",
        "outcome": "ACCEPTED",
        "creditAmount": {"amount": "50.00"},
        "creditNotes": [{"number": "CN-2026-000001", "amount": {"amount": "50.00"}}],
        "invoice": {"state": "PAID"},
    }


def test_a_statement_holding_a_nul_or_a_control_character_is_refused_naming_where_and_imports_nothing(
    service: Collections,
) -> None:
    seed_portfolio(service, customers=1, invoices_each=1)
    good = "B-1,2026-03-01,100.00,EUR,Customer 0,INV-0-0\n"
    with_nul = run(service.ctx, IMPORT, {"t": HEADER + good + "B-2,2026-03-01,5.00,EUR,Cust\x00omer,x\n"})
    bell = run(service.ctx, IMPORT, {"t": HEADER + good + "B-2,2026-03-01,5.00,EUR,Customer,INV\x07\n"})

    assert [(e.extensions or {}).get("field") for e in with_nul.errors or ()] == ["text"]  # before anything runs
    assert (with_nul.errors or [])[0].message == "text must not contain a NUL (U+0000) character (line 3, column 29)"
    assert codes(bell) == ["VALIDATION_FAILED"]
    assert (bell.errors or [])[0].message == "line 3: remittance must not contain the control character U+0007"
    assert (bell.errors or [])[0].extensions == {"code": "VALIDATION_FAILED", "field": "text"}
    queue = data(run(service.ctx, QUEUE, {"s": None}))["bankTransactions"]
    assert queue["totalCount"] == 0
    invoice = data(run(service.ctx, '{ invoice(id: "1") { state } }'))["invoice"]
    assert invoice == {"state": "OPEN"}

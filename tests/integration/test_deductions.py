"""Deductions: a short payment that cash application applies opens a `deduction` dispute for the
difference, as policy/disputes.yaml says — on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
import textwrap
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cycle_support import as_json, clear_cycle_tables, daily_ladder, notices, rows

from engine.commands import AllocationLine, CreateCustomer, IssueInvoice, OpenDispute, ResolveDispute
from engine.config import Settings
from engine.cycle.disputed import collectible
from engine.cycle.runner import run_cycle
from engine.policy.disputes import read_dispute_policy
from engine.rules.errors import StrategyError
from engine.service import Collections
from engine.services.context import Context
from engine.store.database import Store
from engine.store.unit_of_work import read_only
from states.actors import Actor, person
from states.cash import DeductionRule

BANK = Actor("import", "statement")
ALICE = person("alice")
HEADER = "bank_ref,booked_on,amount,currency,payer_name,payer_iban,remittance\n"
ROOT = Path(__file__).resolve().parents[2]
SHORT = HEADER + "B-1,2026-03-01,420.00,EUR,ACME Industries,,INV-2026-000101 less damaged goods\n"


def customer(service: Collections, ref: str, name: str, segment: str = "smb") -> int:
    return service.create_customer(CreateCustomer(ref, name, segment, "EUR", 10_000_000)).id


def invoice(service: Collections, cust: int, number: str, amount: int, due: date = date(2026, 2, 1)) -> int:
    return service.issue_invoice(IssueInvoice(cust, number, amount, "EUR", date(2026, 1, 1), due), ALICE).id


def state(store: Store, inv: int) -> tuple[str, int]:
    with read_only(store) as uow:
        i = uow.Invoice[inv]
        return i.state, i.open_amount


def disputes(store: Store) -> list[dict[str, Any]]:
    with read_only(store) as uow:
        return [
            {
                "invoice": d.invoice.id,
                "reason": d.reason_code,
                "amount": d.amount,
                "state": d.state,
                "owner": d.owner,
                "payment": d.payment.reference if d.payment else None,
                "sla": d.due_at - d.opened_at,
            }
            for d in uow.Dispute.select().order_by(lambda d: d.id)
        ]


def with_policy(ctx: Context, tmp_path: Path, deductions: str) -> Collections:
    """A service whose policy folder is the shipped one with another `deductions` section."""
    folder = tmp_path / "policy"
    shutil.copytree(ROOT / "policy", folder)
    text = (folder / "disputes.yaml").read_text()
    head = text[: text.index("\ndeductions:") + 1]
    (folder / "disputes.yaml").write_text(head + textwrap.dedent(deductions))
    settings = Settings(database_url=ctx.settings.database_url, policy_dir=folder)
    return Collections(Context(store=ctx.store, clock=ctx.clock, settings=settings))


@pytest.fixture
def book(service: Collections) -> dict[str, int]:
    acme = customer(service, "C-1", "ACME Industries GmbH")
    return {
        "acme": acme,
        "a1": invoice(service, acme, "INV-2026-000101", 50_000),
        "a2": invoice(service, acme, "INV-2026-000102", 12_345),
    }


def test_a_short_payment_beyond_the_tolerance_opens_a_deduction_dispute_for_the_difference(
    store: Store, service: Collections, book: dict[str, int]
) -> None:
    summary = service.import_statement(SHORT, None, BANK)
    assert summary.auto_applied == 1
    assert state(store, book["a1"]) == ("disputed", 8_000)  # 500.00 open - 420.00 applied
    assert disputes(store) == [
        {
            "invoice": book["a1"],
            "reason": "deduction",
            "amount": 8_000,
            "state": "open",
            "owner": "deductions",
            "payment": "B-1",
            "sla": timedelta(days=10),  # sla_days default deduction
        }
    ]
    with read_only(store) as uow:
        d = uow.Dispute.select().first()
        txn = uow.BankTransaction.get(bank_ref="B-1")
        dispute_id, payment_id, txn_id = d.id, txn.payment.id, txn.id
        assert "420.00 EUR applied of 500.00 EUR open" in d.description
    (opened,) = rows(
        store,
        "SELECT trigger, actor, cause FROM transition_history WHERE entity_type = 'dispute' AND entity_id = $d",
        {"d": dispute_id},
    )
    assert opened[0] == "open" and opened[1] == "import:statement"
    assert as_json(opened[2]) == {
        "kind": "short_payment",
        "payment_id": payment_id,
        "reference": "B-1",
        "bank_transaction_id": txn_id,
    }
    (event,) = rows(store, "SELECT data FROM outbox WHERE type = 'o2c.dispute.state_changed'")
    snapshot = as_json(event)["snapshot"]
    assert (snapshot["reasonCode"], snapshot["amount"], snapshot["paymentId"]) == ("deduction", "80.00", payment_id)
    triggers = rows(
        store,
        "SELECT trigger FROM transition_history WHERE entity_type = 'invoice' AND entity_id = $i ORDER BY id",
        {"i": book["a1"]},
    )
    assert triggers[-1] == "dispute"
    types = rows(store, "SELECT type FROM outbox WHERE entity_type = 'invoice' AND entity_id = $i", {"i": book["a1"]})
    assert "o2c.invoice.amount_changed" not in types  # the `dispute` transition carries the new open amount


def test_dunning_pauses_on_the_disputed_difference_and_goes_on_for_the_rest_of_the_customer(
    ctx: Context, store: Store, service: Collections, book: dict[str, int], tmp_path: Path
) -> None:
    clear_cycle_tables(store)
    service.import_statement(SHORT, None, BANK)
    ids = np.array([book["a1"], book["a2"]], dtype=np.int64)
    opens = np.array([8_000, 12_345], dtype=np.int64)
    assert collectible(store, "1 = 1", ids, opens).tolist() == [0, 12_345]  # the `collectible_amount` fact
    run_cycle(ctx, daily_ladder(tmp_path / "strategies"), ctx.today())
    assert notices(store, book["a1"]) == []
    assert [n[0] for n in notices(store, book["a2"])] == ["dun"]


def test_with_deductions_off_a_short_payment_stays_a_partial_payment(
    ctx: Context, store: Store, book: dict[str, int], tmp_path: Path
) -> None:
    off = with_policy(
        ctx,
        tmp_path,
        """\
        deductions:
          default: {open: false, min_amount: {}, max_percent: 100}
        """,
    )
    off.import_statement(SHORT, None, BANK)
    assert state(store, book["a1"]) == ("open", 8_000)  # the cycle marks it overdue
    assert disputes(store) == []


def test_without_a_deductions_section_nothing_is_disputed(
    ctx: Context, store: Store, book: dict[str, int], tmp_path: Path
) -> None:
    with_policy(ctx, tmp_path, "").import_statement(SHORT, None, BANK)
    assert state(store, book["a1"]) == ("open", 8_000)  # the cycle marks it overdue
    assert disputes(store) == []


def test_a_difference_below_the_minimum_or_above_the_largest_share_is_not_disputed(
    store: Store, service: Collections, book: dict[str, int]
) -> None:
    text = HEADER + (
        "B-1,2026-03-01,480.00,EUR,ACME Industries,,INV-2026-000101\n"  # short 20.00: beyond the tolerance, < 25.00
        "B-2,2026-03-01,40.00,EUR,ACME Industries,,INV-2026-000102\n"  # short 83.45 of 123.45: over 25 %
    )
    assert service.import_statement(text, None, BANK).auto_applied == 2
    assert state(store, book["a1"]) == ("open", 2_000)
    assert state(store, book["a2"]) == ("open", 8_345)
    assert disputes(store) == []


def test_a_short_payment_within_the_tolerance_still_settles_without_a_dispute(
    store: Store, service: Collections, book: dict[str, int]
) -> None:
    service.import_statement(HEADER + "B-1,2026-03-01,490.00,EUR,ACME Industries,,INV-2026-000101\n", None, BANK)
    assert state(store, book["a1"]) == ("paid", 0)
    assert disputes(store) == []


def test_a_segment_overrides_the_minimum(store: Store, service: Collections) -> None:
    big = customer(service, "E-1", "Enterprise Holding AG", "enterprise")
    inv = invoice(service, big, "INV-2026-000301", 500_000)
    text = HEADER + "B-1,2026-03-01,4920.00,EUR,Enterprise Holding,,INV-2026-000301\n"  # short 80.00 < 100.00
    service.import_statement(text, None, BANK)
    assert state(store, inv) == ("open", 8_000)
    text = HEADER + "B-2,2026-03-01,70.00,EUR,Enterprise Holding,,INV-2026-000301\n"  # 10.00 left: under min
    service.import_statement(text, None, BANK)
    assert disputes(store) == []


def test_importing_the_same_statement_again_opens_no_second_dispute(
    store: Store, service: Collections, book: dict[str, int]
) -> None:
    service.import_statement(SHORT, None, BANK)
    again = service.import_statement(SHORT, None, BANK)
    assert (again.duplicates, again.auto_applied) == (1, 0)
    assert len(disputes(store)) == 1
    assert state(store, book["a1"]) == ("disputed", 8_000)


def test_an_invoice_already_under_dispute_gets_no_second_one(
    store: Store, service: Collections, book: dict[str, int]
) -> None:
    service.open_dispute(OpenDispute(book["a1"], "pricing", 8_000, "price list of 2025"), ALICE)
    service.import_statement(SHORT, None, BANK)
    assert [(d["reason"], d["amount"]) for d in disputes(store)] == [("pricing", 8_000)]
    assert state(store, book["a1"]) == ("open", 8_000)


def _deduction_id(store: Store) -> int:
    with read_only(store) as uow:
        return int(uow.Dispute.select().first().id)


def test_accepting_a_deduction_credits_the_difference_and_closes_the_invoice(
    store: Store, service: Collections, book: dict[str, int]
) -> None:
    service.import_statement(SHORT, None, BANK)
    dispute_id = _deduction_id(store)
    service.advance_dispute(dispute_id, "review", ALICE)
    resolved = service.resolve_dispute(ResolveDispute(dispute_id, "accepted", note="damage confirmed"), ALICE)
    assert (resolved.state, resolved.outcome, resolved.credit_amount) == ("resolved", "accepted", 8_000)
    assert service.dispute_credit_notes(dispute_id) == [(f"CN-2026-{1:06d}", 8_000)]
    assert state(store, book["a1"]) == ("paid", 0)


def test_rejecting_a_deduction_puts_the_difference_back_on_the_ladder(
    ctx: Context, store: Store, service: Collections, book: dict[str, int]
) -> None:
    service.import_statement(SHORT, None, BANK)
    dispute_id = _deduction_id(store)
    service.resolve_dispute(ResolveDispute(dispute_id, "rejected", note="no damage reported"), ALICE)
    assert state(store, book["a1"]) == ("overdue", 8_000)
    ids, opens = np.array([book["a1"]], dtype=np.int64), np.array([8_000], dtype=np.int64)
    assert collectible(store, "1 = 1", ids, opens).tolist() == [8_000]
    assert service.dispute_credit_notes(dispute_id) == []


def test_paying_the_difference_later_settles_the_invoice_and_withdraws_the_deduction(
    store: Store, service: Collections, book: dict[str, int]
) -> None:
    service.import_statement(SHORT, None, BANK)
    text = HEADER + "B-2,2026-03-05,80.00,EUR,ACME Industries,,INV-2026-000101 remainder\n"
    assert service.import_statement(text, None, BANK).auto_applied == 1
    assert state(store, book["a1"]) == ("paid", 0)
    assert [d["state"] for d in disputes(store)] == ["withdrawn"]


def test_taking_the_payment_back_withdraws_its_deduction(
    store: Store, service: Collections, book: dict[str, int]
) -> None:
    service.import_statement(SHORT, None, BANK)
    with read_only(store) as uow:
        payment_id = uow.BankTransaction.get(bank_ref="B-1").payment.id
    service.unapply_payment(payment_id, "wrong customer", ALICE)
    assert [d["state"] for d in disputes(store)] == ["withdrawn"]
    assert state(store, book["a1"]) == ("overdue", 50_000)
    # A person applies it again, all of it to the same invoice: the difference is disputed anew.
    with read_only(store) as uow:
        txn_id = uow.BankTransaction.get(bank_ref="B-1").id
    service.apply_bank_transaction(txn_id, book["acme"], (AllocationLine(42_000, invoice_id=book["a1"]),), ALICE)
    assert [(d["state"], d["amount"]) for d in disputes(store)] == [("withdrawn", 8_000), ("open", 8_000)]
    assert state(store, book["a1"]) == ("disputed", 8_000)


def test_a_reversed_payment_withdraws_its_deduction_and_the_whole_amount_is_owed_again(
    store: Store, service: Collections, book: dict[str, int]
) -> None:
    service.import_statement(SHORT, None, BANK)
    with read_only(store) as uow:
        payment_id = uow.BankTransaction.get(bank_ref="B-1").payment.id
    service.reverse_payment(payment_id, "returned by the bank", ALICE)
    assert [d["state"] for d in disputes(store)] == ["withdrawn"]
    assert state(store, book["a1"]) == ("overdue", 50_000)


def test_a_persons_match_disputes_the_difference_only_when_it_applies_all_the_money(
    store: Store, service: Collections, book: dict[str, int]
) -> None:
    text = HEADER + "B-1,2026-03-01,420.00,EUR,Mr J Smith,,see mail\nB-2,2026-03-01,420.00,EUR,Mrs K Smith,,x\n"
    service.import_statement(text, None, BANK)
    with read_only(store) as uow:
        one, two = (uow.BankTransaction.get(bank_ref=r).id for r in ("B-1", "B-2"))
    service.apply_bank_transaction(one, book["acme"], (AllocationLine(10_000, invoice_id=book["a2"]),), ALICE)
    assert state(store, book["a2"]) == ("open", 2_345)  # 320.00 kept on account: a person's choice
    whole = (AllocationLine(42_000, invoice_number="INV-2026-000101"),)
    service.apply_bank_transaction(two, book["acme"], whole, ALICE)
    assert [(d["invoice"], d["amount"], d["payment"]) for d in disputes(store)] == [(book["a1"], 8_000, "B-2")]


def test_the_shipped_policy_opens_deductions_per_segment() -> None:
    policy = read_dispute_policy((ROOT / "policy" / "disputes.yaml").read_text(), "disputes.yaml")
    assert policy.deduction_rule("smb", "EUR") == DeductionRule(2_500, 2_500)
    assert policy.deduction_rule("enterprise", "EUR") == DeductionRule(10_000, 2_500)
    assert policy.deduction_rule("enterprise", "CHF") == DeductionRule(2_500, 2_500)  # not overridden
    assert policy.deduction_rule("smb", "JPY") == DeductionRule(0, 2_500)  # no minimum listed
    assert policy.deduction_rule("public_sector", "EUR") is None
    assert policy.deduction_owner("smb") == "deductions"


def test_mistakes_in_the_deductions_section_are_named_with_their_line() -> None:
    text = textwrap.dedent(
        """\
        sla_days:
          default: {pricing: 1, quantity: 1, quality: 1, not_received: 1, duplicate: 1, terms: 1,
                    deduction: 1, other: 1}
        deductions:
          default:
            open: maybe
            min_amount: {EUR: 1.001, XXX: 5}
          retail: {open: true}
          smb: {max_percent: 120, owner: [a, b]}
        """
    )
    with pytest.raises(StrategyError) as bad:
        read_dispute_policy(text, "disputes.yaml")
    messages = [str(p) for p in bad.value.problems]
    assert any(m.startswith("disputes.yaml:6:") and "missing 'max_percent'" in m for m in messages), messages
    assert any(m.startswith("disputes.yaml:6:") and "open must be true or false" in m for m in messages)
    assert any(m.startswith("disputes.yaml:7:") and "more than 2 decimals" in m for m in messages)
    assert any(m.startswith("disputes.yaml:7:") and "unknown key 'XXX'" in m for m in messages)
    assert any(m.startswith("disputes.yaml:8:3:") and "unknown key 'retail'" in m for m in messages)
    assert any(m.startswith("disputes.yaml:9:") and "max_percent must be between 1 and 100" in m for m in messages)
    assert any(m.startswith("disputes.yaml:9:") and "owner must be a single value" in m for m in messages)

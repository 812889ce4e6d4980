"""The cycle sees unapplied cash: an invoice it covers (in its currency) gets no notice."""

from __future__ import annotations

from datetime import date

from cycle_support import Portfolio, clear_cycle_tables, notices, shipped_strategies

from engine.commands import RecordPayment
from engine.cycle.book import load_book
from engine.cycle.facts import invoice_facts
from engine.cycle.runner import run_cycle
from engine.service import Collections
from engine.services.context import Context
from states.actors import Actor

TODAY = date(2026, 3, 2)
BANK = Actor("payment", "bank-feed")


def unapplied(service: Collections, customer: int, amount: int, currency: str, ref: str) -> None:
    service.apply_payment(RecordPayment(customer, ref, amount, currency, TODAY), BANK)


def test_an_invoice_covered_by_unapplied_cash_in_its_currency_is_not_dunned(ctx: Context, service: Collections) -> None:
    clear_cycle_tables(ctx.store)
    book = Portfolio(service, TODAY)
    covered = book.customer("covered", "smb", "low")
    short = book.customer("short", "smb", "low")
    other = book.customer("other-currency", "smb", "low")
    inv_covered = book.invoice("covered", 5, amount=50_000)
    inv_short = book.invoice("short", 5, amount=50_000)
    inv_other = book.invoice("other-currency", 5, amount=50_000)
    unapplied(service, covered, 50_000, "EUR", "P-1")
    unapplied(service, short, 10_000, "EUR", "P-2")
    unapplied(service, other, 90_000, "USD", "P-3")  # another currency never covers a EUR invoice

    g = load_book(ctx.store, TODAY)
    facts = invoice_facts(g.portfolio, g.accounts, g.portfolio.customer_id * 0)
    by_invoice = dict(zip(g.portfolio.invoice_id.tolist(), facts["covered_by_credit"].tolist(), strict=True))
    cash = dict(zip(g.portfolio.invoice_id.tolist(), facts["account.unapplied_cash"].tolist(), strict=True))
    assert by_invoice == {inv_covered: True, inv_short: False, inv_other: False}
    assert cash == {inv_covered: 50_000, inv_short: 10_000, inv_other: 0}

    run_cycle(ctx, shipped_strategies(), TODAY)
    assert notices(ctx.store, inv_covered) == []
    assert len(notices(ctx.store, inv_short)) == 1
    assert len(notices(ctx.store, inv_other)) == 1

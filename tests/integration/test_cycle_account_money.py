"""Account facts add money in the customer's own currency only: an invoice in another currency
counts toward days past due, never into `account.exposure` or `account.overdue_amount`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cycle_support import ERP, Portfolio, clear_cycle_tables

from engine.commands import IssueInvoice
from engine.cycle.book import load_book
from engine.service import Collections
from engine.services.context import Context


@pytest.mark.parametrize("accounts_only", [False, True])
def test_an_invoice_in_another_currency_adds_days_but_no_money_to_the_account(
    ctx: Context, accounts_only: bool
) -> None:
    clear_cycle_tables(ctx.store)
    book = Portfolio(Collections(ctx), ctx.today())
    customer = book.customer("acme", "smb", "low")  # an EUR customer
    book.invoice("acme", 10, amount=10_000)
    due = ctx.today() - timedelta(days=40)
    Collections(ctx).issue_invoice(
        IssueInvoice(customer, "INV-USD-1", 50_000, "USD", due - timedelta(days=30), due), ERP
    )

    accounts = load_book(ctx.store, ctx.today(), accounts_only=accounts_only).accounts
    (row,) = [k for k, cid in enumerate(accounts.customer_id.tolist()) if cid == customer]
    assert int(accounts.exposure[row]) == 10_000
    assert int(accounts.overdue_amount[row]) == 10_000
    assert int(accounts.max_days_past_due[row]) == 40

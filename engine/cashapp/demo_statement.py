"""A bank statement for the demo portfolio (`o2c demo`): payments that name their invoice, a few
with a typo or bank charges, short payments that open deductions, payers identified by name only,
strangers — so the cash-application queue and the dispute desk have work to show. Written as the
documented CSV and imported through the service."""

from __future__ import annotations

import random
from datetime import timedelta

from engine.service import Collections
from engine.services.bank_transactions import StatementSummary
from engine.store.unit_of_work import read_only
from states.actors import Actor
from states.money import format_minor

IMPORTER = Actor("import", "demo-statement.csv")
HEADER = "bank_ref,booked_on,amount,currency,payer_name,remittance\n"


def demo_statement(service: Collections, seed: int = 42, entries: int = 60) -> StatementSummary:
    ctx = service.ctx
    with read_only(ctx.store) as uow:
        rows = uow.select(
            "SELECT i.number, i.open_amount, i.currency, c.name, c.segment "
            "FROM invoice i JOIN customer c ON c.id = i.customer "
            "WHERE i.state IN ('open', 'overdue', 'dunning') AND i.open_amount > 0 ORDER BY i.id LIMIT 2000"
        )
    rng = random.Random(seed)
    picked = rng.sample(list(rows), min(entries, len(rows)))
    day = (ctx.today() - timedelta(days=1)).isoformat()
    lines = []
    for n, (number, amount, currency, name, segment) in enumerate(picked):
        kind = n % 10
        text, paid, payer = f"Invoice {number}", int(amount), str(name)
        if kind == 1:  # a typo in the number
            text = f"inv {number[:-2]}{number[-1]}{number[-2]}"
        elif kind == 2 and segment != "public_sector":  # bank charges (no tolerance in the public sector)
            paid = max(int(amount) - 250, 1)
        elif kind == 3:  # name only
            text = "thank you"
        elif kind == 4:  # a stranger
            text, payer = "payment", "Unknown Sender"
        elif kind == 5:  # overpaid: the excess stays on account
            paid = int(amount) + 1_000
        elif kind == 6 and segment != "public_sector" and int(amount) // 5 >= 10_000:  # 20 % withheld: a deduction
            paid, text = int(amount) - int(amount) // 5, f"Invoice {number} less 20% damaged goods"
        lines.append(
            f"DEMO-{seed}-{n:04d},{day},{format_minor(paid, currency)},{currency},{payer.replace(',', ' ')},{text}"
        )
    lines.append(f"DEMO-{seed}-FEE,{day},-12.50,EUR,,account fee")
    return service.import_statement(HEADER + "\n".join(lines) + "\n", "csv", IMPORTER)

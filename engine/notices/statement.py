"""A customer statement as PDF: every open item, the aging per currency, unapplied credit.
`o2c statement CUSTOMER_REF` and `Customer.statementPdf` render it; nothing is written."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from engine.notices.locale import day, money
from engine.notices.pdf import statement
from engine.notices.recipients import by_role
from engine.notices.templates import TemplateSet
from engine.queries.reports import BUCKETS, bucket_of
from engine.services.common import find_customer
from engine.services.contacts import contacts_of
from engine.store.database import Store
from engine.store.unit_of_work import read_only
from states import invoice as inv_states


def statement_pdf(
    store: Store, templates: TemplateSet, as_of: date, customer_id: int | None = None, ref: str | None = None
) -> bytes:
    """NOT_FOUND for an unknown customer; amounts and dates in the billing contact's language."""
    with read_only(store) as uow:
        c = find_customer(uow, customer_id, ref)
        contacts = by_role(contacts_of(uow, [int(c.id)])[int(c.id)])
        lang = next((k.language for k in contacts if k.language), templates.settings.default_language)
        address = next((k.postal_address for k in contacts if k.postal_address), None) or c.name
        open_items = sorted(
            (i for i in c.invoices if i.state in inv_states.COLLECTIBLE and i.open_amount > 0),
            key=lambda i: (i.due_date, i.number),
        )
        rows: list[list[str]] = []
        aging: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for i in open_items:
            late = (as_of - i.due_date).days
            aging[i.currency][bucket_of(late)] += i.open_amount
            rows.append(
                [i.number, day(i.issue_date, lang), day(i.due_date, lang), str(max(late, 0)),
                 money(i.open_amount, i.currency, lang)]
            )  # fmt: skip
        aging_rows = [
            [f"{label} ({currency})", money(aging[currency][key], currency, lang)]
            for currency in sorted(aging)
            for key, label, *_ in BUCKETS
        ]
        totals = [f"Total open ({cur}): {money(sum(v.values()), cur, lang)}" for cur, v in sorted(aging.items())]
        if c.unapplied_credit:
            totals.append(f"Unapplied credit: {money(int(c.unapplied_credit), c.currency, lang)}")
        sections = {"items": rows, "aging": aging_rows, "totals": totals}
        title = f"Statement of account {c.external_ref} - {c.name}"
        return statement(templates.settings.letterhead, address, title, day(as_of, lang), sections)

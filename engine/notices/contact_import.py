"""`o2c import contacts FILE.csv`: rows parsed by `engine/importer/columns.py` (with the same
`ContactFields.checked` the API uses), checked against the customers, written in the import's one
transaction or not at all."""

from __future__ import annotations

from datetime import datetime

from engine.clock import stored
from engine.importer.checks import customers_by_ref
from engine.importer.columns import ContactRow
from engine.importer.reader import Problem
from engine.notices.contacts import ContactFields
from engine.store.bulk import Bulk

CONTACT_COLUMNS = ("customer", "role", "name", "email", "phone", "postal_address", "language", "opt_out")


def check_contacts(bulk: Bulk, rows: list[ContactRow]) -> tuple[list[Problem], list[tuple[int, ContactFields]]]:
    known = customers_by_ref(bulk, sorted({r.customer_ref for r in rows}))
    problems = [
        Problem(r.line, f"customer '{r.customer_ref}' does not exist") for r in rows if r.customer_ref not in known
    ]
    return problems, [(known[r.customer_ref].id, r.fields) for r in rows if r.customer_ref in known]


def write_contacts(bulk: Bulk, contacts: list[tuple[int, ContactFields]], now: datetime) -> int:
    at = bulk.moment(stored(now))
    bulk.insert(
        "contact",
        (*CONTACT_COLUMNS, "version", "created_at"),
        [
            (cid, f.role, f.name, f.email, f.phone, f.postal_address, f.language, bulk.json(list(f.opt_out)), 1, at)
            for cid, f in contacts
        ],
    )
    return len(contacts)

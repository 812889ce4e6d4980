"""Receivables as they stood at the end of a business date, rebuilt from the books.

An invoice counts at date d if it was issued by d and not written off or cancelled by d; what it
owed then is its amount less payments received by d (and not reversed by then) and credit notes
issued by d. Aging and the KPIs (DSO, best possible DSO, ADD, CEI) are built on this.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from engine.queries.sql import Params, day_text, end_of_day


def open_at_sql(p: Params, day: date, zone: ZoneInfo, currency: str, segment: str | None = None) -> str:
    """A derived table (id, due_date, open_at) of the receivables at the end of `day`."""
    d, end = p.add(day_text(day)), p.add(end_of_day(day, zone))
    end2, end3 = p.add(end_of_day(day, zone)), p.add(end_of_day(day, zone))
    segment_sql = f" AND c.segment = {p.add(segment)}" if segment else ""
    return (
        "SELECT i.id AS id, i.due_date AS due_date, i.amount"
        " - COALESCE((SELECT SUM(a.amount) FROM allocation a JOIN payment pm ON pm.id = a.payment"
        f" WHERE a.invoice = i.id AND pm.received_on <= {d}"
        f" AND (pm.reversed_at IS NULL OR pm.reversed_at >= {end})), 0)"
        " - COALESCE((SELECT SUM(cn.amount) FROM credit_note cn"
        f" WHERE cn.invoice = i.id AND cn.created_at < {end2}), 0) AS open_at"
        " FROM invoice i JOIN customer c ON c.id = i.customer"
        f" WHERE i.currency = {p.add(currency)} AND i.issue_date <= {p.add(day_text(day))}{segment_sql}"
        " AND NOT EXISTS (SELECT 1 FROM transition_history t WHERE t.entity_type = 'invoice'"
        " AND t.entity_id = i.id AND t.to_state IN ('written_off', 'cancelled')"
        f" AND t.at < {end3})"
    )

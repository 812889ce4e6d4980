"""Which invoices a block covers on a business date, read set-based for the cycle's load."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from engine.cycle.portfolio import fetch_all
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork

IntArray = npt.NDArray[np.int64]


def in_force_sql(store: Store, as_of: date) -> str:
    """SQL condition (on alias b) of a block in force on `as_of`: active, begun, not ended."""
    day = f"DATE '{as_of.isoformat()}'" if store.is_postgres else f"'{as_of.isoformat()}'"
    return f"b.status = 'active' AND b.starts_on <= {day} AND (b.ends_on IS NULL OR b.ends_on >= {day})"


@dataclass(frozen=True)
class Blocks:
    customers: IntArray  # customers blocked as a whole
    invoices: IntArray  # single invoices blocked

    def covers(self, invoice_id: IntArray, customer_id: IntArray) -> npt.NDArray[np.bool_]:
        if not self.customers.size and not self.invoices.size:
            return np.zeros(invoice_id.size, dtype=bool)
        return np.isin(invoice_id, self.invoices) | np.isin(customer_id, self.customers)


def blocks_in_force(store: Store, as_of: date, customers: str = "1 = 1") -> Blocks:
    """The blocks in force on `as_of` for the customers matched by `customers` (a condition on
    the column `b.customer`)."""
    sql = f"SELECT b.customer, b.invoice FROM dunning_block b WHERE {in_force_sql(store, as_of)} AND {customers}"
    with UnitOfWork(store) as uow:
        rows = fetch_all(uow, sql)
    whole = [int(c) for c, i in rows if i is None]
    single = [int(i) for _c, i in rows if i is not None]
    return Blocks(np.asarray(sorted(set(whole)), dtype=np.int64), np.asarray(sorted(set(single)), dtype=np.int64))

"""What active disputes contest, per invoice: the cycle's `collectible_amount` is the open amount
less that (never below 0). A dispute of part of an invoice pauses dunning on that part only."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from engine.cycle.portfolio import fetch_all
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork
from states import dispute as dsp

IntArray = npt.NDArray[np.int64]
ACTIVE = ", ".join(f"'{s}'" for s in sorted(dsp.ACTIVE))


def disputed_amounts(store: Store, customers: str = "1 = 1") -> dict[int, int]:
    """invoice id → amount under active dispute (customers: a condition on `d.customer`)."""
    sql = (
        f"SELECT d.invoice, SUM(d.amount) FROM dispute d WHERE d.state IN ({ACTIVE}) AND {customers} GROUP BY d.invoice"
    )
    with UnitOfWork(store) as uow:
        return {int(i): int(a) for i, a in fetch_all(uow, sql)}


def collectible(store: Store, customers: str, invoice_id: IntArray, open_amount: IntArray) -> IntArray:
    found = disputed_amounts(store, customers)
    if not found:
        return open_amount.copy()
    ids = np.fromiter(found, dtype=np.int64, count=len(found))
    amounts = np.fromiter(found.values(), dtype=np.int64, count=len(found))
    order = np.argsort(ids)
    ids, amounts = ids[order], amounts[order]
    at = np.minimum(np.searchsorted(ids, invoice_id), ids.size - 1)
    contested = np.where(ids[at] == invoice_id, amounts[at], 0)
    return np.maximum(open_amount - contested, 0).astype(np.int64)

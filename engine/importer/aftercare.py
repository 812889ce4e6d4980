"""What a payment sets off besides the ledger, done exactly as the service does it, for the few
rows concerned: a paid invoice keeps its active promises and withdraws its active disputes, and
automatic credit holds whose condition cleared are released. Runs after the bulk writes, in
the same transaction, through the entities (which then read the bulk-written rows)."""

from __future__ import annotations

from datetime import datetime

from engine.services.common import close_side_records
from engine.services.holds import clear_automatic_holds
from engine.store.bulk import Bulk
from engine.store.unit_of_work import UnitOfWork
from states import dispute as dsp
from states import invoice as inv_states
from states.actors import Actor


def settle_side_effects(
    uow: UnitOfWork, bulk: Bulk, paid: dict[int, dict[str, object]], actor: Actor, now: datetime
) -> int:
    """`paid` maps each newly paid invoice to the cause of its payment; returns rows changed."""
    if not paid:
        return 0
    promised = bulk.select_in(
        "SELECT invoice FROM promise_to_pay WHERE status = 'active' AND invoice IN ({})", list(paid)
    )
    active = "', '".join(sorted(dsp.ACTIVE))
    disputed = bulk.select_in(
        f"SELECT invoice FROM dispute WHERE state IN ('{active}') AND invoice IN ({{}})", list(paid)
    )
    changed = 0
    for iid in sorted({int(r[0]) for r in (*promised, *disputed)}):
        changed += close_side_records(uow, uow.Invoice[iid], actor, now, paid[iid], inv_states.PAID)
    return changed


def release_cleared_holds(
    uow: UnitOfWork, bulk: Bulk, customer_ids: list[int], actor: Actor, now: datetime, cause: dict[str, object]
) -> list[str]:
    held = bulk.select_in(
        "SELECT DISTINCT customer FROM credit_hold WHERE released_at IS NULL AND customer IN ({})", customer_ids
    )
    released: list[str] = []
    for (cid,) in held:
        customer = uow.Customer[int(cid)]
        released.extend(clear_automatic_holds(uow, customer, actor, now, cause))
    return released

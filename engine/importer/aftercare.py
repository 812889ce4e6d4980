"""What a payment sets off besides the ledger, done exactly as the service does it, for the few
rows concerned: a paid invoice keeps its active promises and withdraws its active disputes, and
automatic credit holds whose condition cleared are released. Runs after the bulk writes, in
the same transaction, through the entities (which then read the bulk-written rows)."""

from __future__ import annotations

from datetime import datetime

from engine.clock import stored
from engine.services.common import record_dispute_transition
from engine.services.holds import clear_automatic_holds
from engine.store.bulk import Bulk
from engine.store.unit_of_work import UnitOfWork
from states import dispute as dsp
from states.actors import Actor
from states.dispute import DISPUTE


def settle_side_effects(
    uow: UnitOfWork, bulk: Bulk, paid: dict[int, dict[str, object]], actor: Actor, now: datetime
) -> int:
    """`paid` maps each newly paid invoice to the cause of its payment; returns rows changed."""
    if not paid:
        return 0
    changed = 0
    promised = bulk.select_in("SELECT id FROM promise_to_pay WHERE status = 'active' AND invoice IN ({})", list(paid))
    for (pid,) in promised:
        promise = uow.PromiseToPay[int(pid)]
        promise.status = "kept"
        promise.decided_at = stored(now)
        changed += 1
    active = "', '".join(sorted(dsp.ACTIVE))
    disputed = bulk.select_in(f"SELECT id FROM dispute WHERE state IN ('{active}') AND invoice IN ({{}})", list(paid))
    for (did,) in disputed:
        d = uow.Dispute[int(did)]
        before, after = DISPUTE.fire(d, "withdraw", d.id)
        d.version += 1
        d.resolved_at = stored(now)
        cause = paid[d.invoice.id]
        record_dispute_transition(uow, d, before, after, "withdraw", actor, now, cause, "invoice settled")
        changed += 1
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

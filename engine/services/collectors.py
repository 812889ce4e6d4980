"""Collectors and their portfolios: a person (name, email, queues); customers assigned by the
rules of `policy/portfolios.yaml` or by hand (a hand assignment is never overridden by rules)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from engine.clock import loaded, stored
from engine.journal import emit
from engine.policy.portfolios import EMAIL, portfolio_policy
from engine.services.common import get
from engine.services.context import Context
from engine.store.models import Entity
from engine.store.unit_of_work import UnitOfWork, read_only, transact
from states.actors import Actor
from states.errors import ValidationFailed
from states.money import CURRENCY_EXPONENTS

ASSIGNED = "o2c.customer.collector_assigned"
EVENT_TYPES = (ASSIGNED,)
QUEUE = r"[a-z0-9][a-z0-9_\-]*"


@dataclass(frozen=True)
class CollectorView:
    id: int
    name: str
    email: str
    queues: tuple[str, ...]
    active: bool
    created_at: datetime

    @staticmethod
    def of(c: Entity) -> CollectorView:
        return CollectorView(c.id, c.name, c.email, tuple(c.queues or ()), c.active, loaded(c.created_at))


@dataclass(frozen=True)
class PortfolioReport:
    assigned: int  # customers whose collector changed by the rules
    unmatched: int  # customers no rule matched (left as they were)
    unknown_collectors: tuple[str, ...]  # emails the rules name that are no collector


def create_collector(ctx: Context, name: str, email: str, queues: tuple[str, ...]) -> CollectorView:
    who, mail = name.strip(), email.strip().lower()
    if not who:
        raise ValidationFailed("a collector has a name", "name")
    if not re.fullmatch(EMAIL, mail):
        raise ValidationFailed(f"'{email}' is not an email address", "email")
    bad = [q for q in queues if not re.fullmatch(QUEUE, q)]
    if bad:
        raise ValidationFailed(f"queue names are like 'collections-smb', not {', '.join(bad)}", "queues")

    def work(uow: UnitOfWork) -> CollectorView:
        if uow.Collector.get(email=mail) is not None:
            raise ValidationFailed(f"a collector with email {mail} exists", "email")
        c = uow.Collector(name=who, email=mail, queues=list(dict.fromkeys(queues)), created_at=stored(ctx.now()))
        uow.flush()
        return CollectorView.of(c)

    return transact(ctx.store, work)


def list_collectors(ctx: Context) -> list[CollectorView]:
    with read_only(ctx.store) as uow:
        return [CollectorView.of(c) for c in uow.Collector.select().order_by(lambda c: c.id)]


def assign_customer(ctx: Context, customer_id: int, collector_id: int | None, actor: Actor) -> int | None:
    """By hand (None: out of every portfolio); rules leave it alone from then on."""

    def work(uow: UnitOfWork) -> int | None:
        customer = get(uow, "Customer", customer_id)
        collector = get(uow, "Collector", collector_id) if collector_id is not None else None
        before = customer.collector.email if customer.collector else None
        customer.collector, customer.collector_assigned_by = collector, "manual"
        customer.version += 1
        emit(
            uow,
            type=ASSIGNED,
            entity_type="account",
            entity_id=customer.id,
            entity_version=customer.version,
            customer_id=customer.id,
            at=ctx.now(),
            data={"from": before, "to": collector.email if collector else None, "by": "manual", "actor": str(actor)},
        )
        return collector.id if collector else None

    return transact(ctx.store, work)


def assign_portfolios(ctx: Context) -> PortfolioReport:
    """Apply the portfolio rules to every customer not assigned by hand, in one transaction."""
    policy = portfolio_policy(ctx.settings.policy_dir)

    def work(uow: UnitOfWork) -> PortfolioReport:
        by_email = {c.email: c.id for c in uow.Collector.select()}
        unknown = sorted({r.collector for r in policy.rules} - set(by_email))
        rows = uow.select(
            "SELECT id, segment, risk_class, tags, credit_limit, currency, collector FROM customer "
            "WHERE collector_assigned_by IS NULL OR collector_assigned_by <> 'manual'"
        )
        changes: list[tuple[int | None, int]] = []
        unmatched = 0
        for cid, segment, risk, tags, limit, currency, current in rows:
            listed = tags if isinstance(tags, list) else _json_list(tags)
            major = Decimal(int(limit)).scaleb(-CURRENCY_EXPONENTS.get(currency, 2))
            email = policy.collector_for(segment, risk, listed, major)
            target = by_email.get(email) if email else None
            if email is None:
                unmatched += 1
            if target is not None and target != current:
                changes.append((target, int(cid)))
        cur = uow.connection().cursor()
        mark = "%s" if ctx.store.is_postgres else "?"
        if changes:
            cur.executemany(
                f"UPDATE customer SET collector = {mark}, collector_assigned_by = 'rule' WHERE id = {mark}", changes
            )
        return PortfolioReport(len(changes), unmatched, tuple(unknown))

    return transact(ctx.store, work)


def _json_list(raw: object) -> list[str]:
    try:
        value = json.loads(str(raw or "[]"))
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []

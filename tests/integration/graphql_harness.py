"""Runs the real schema in-process against a real database, as a caller with a given role."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from strawberry.types import ExecutionResult

from engine import commands as c
from engine.keys import Principal
from engine.service import Collections
from engine.services.context import Context as EngineContext
from schema.build import build_schema
from schema.context import make_context
from states.actors import person

SCHEMA = build_schema()
ROLES = ("viewer", "collector", "policy", "integrator", "admin")


def run(
    ctx: EngineContext, query: str, variables: dict[str, Any] | None = None, role: str | None = "admin"
) -> ExecutionResult:
    principal = Principal(1, "testkey", role, f"{role} tester") if role else None
    context = make_context(ctx, principal, auth_error=None if role else "no key")
    return asyncio.run(SCHEMA.execute(query, variable_values=variables, context_value=context))


def data(result: ExecutionResult) -> dict[str, Any]:
    assert result.errors is None, [(e.message, e.extensions) for e in result.errors]
    assert result.data is not None
    return result.data


def codes(result: ExecutionResult) -> list[str]:
    return [str((e.extensions or {}).get("code")) for e in result.errors or []]


def seed_portfolio(service: Collections, customers: int = 2, invoices_each: int = 3) -> list[int]:
    """Customers `C0..`, each with invoices due 10, 40, 70… days before today; returns invoice ids."""
    today = service.ctx.today()
    ids: list[int] = []
    for n in range(customers):
        cust = service.create_customer(
            c.CreateCustomer(f"C{n}", f"Customer {n}", "smb" if n % 2 == 0 else "enterprise", "EUR", 1_000_000)
        )
        for k in range(invoices_each):
            due = today - timedelta(days=10 + 30 * k)
            inv = service.issue_invoice(
                c.IssueInvoice(cust.id, f"INV-{n}-{k}", 10_000 * (k + 1), "EUR", due - timedelta(days=30), due),
                person("seed"),
            )
            ids.append(inv.id)
    return ids


__all__ = ["ROLES", "date"]

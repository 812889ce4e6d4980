"""Bank statements in: every credit becomes a bank transaction that the matcher applies, suggests
or leaves unmatched; debits are recorded excluded; an entry already imported (same bank
reference) is skipped and counted. The exception queue's commands: apply (which teaches the
payer's name and IBAN as aliases), exclude, return. One transaction per statement or command."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from engine.cashapp.formats import StatementEntry, parse_statement
from engine.cashapp.matching import Candidate, MatchIndex, OpenItem, Party, Payment
from engine.cashapp.names import compact_iban, normalise_name
from engine.cashapp.policy import CashPolicy, load_policy
from engine.clock import stored
from engine.commands import AllocationLine
from engine.policy.disputes import DisputePolicy, dispute_policy
from engine.services.bank_history import fire_bank_transaction
from engine.services.common import find_invoice, get, require_reason
from engine.services.context import Context
from engine.services.deductions import deduction_terms
from engine.services.payments import Line, apply_from, money_landed, post_payment, spread_credit
from engine.store.models import Entity
from engine.store.unit_of_work import UnitOfWork, transact
from states import bank_transaction as bt
from states import invoice as inv_states
from states.actors import Actor
from states.errors import ValidationFailed

PAID_LOOKBACK_DAYS = 365  # paid invoices stay in the index so a payment naming one is caught


@dataclass
class StatementSummary:
    format: str
    transactions: int = 0
    auto_applied: int = 0
    suggested: int = 0
    unmatched: int = 0
    excluded: int = 0
    duplicates: int = 0
    invoice_ids: list[int] = field(default_factory=list)
    landed: set[int] = field(default_factory=set)  # customers whose cash this statement posted
    bank_transaction_ids: list[int] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "transactions": self.transactions,
            "auto_applied": self.auto_applied,
            "suggested": self.suggested,
            "unmatched": self.unmatched,
            "excluded": self.excluded,
            "duplicates": self.duplicates,
        }


def load_index(uow: UnitOfWork, policy: CashPolicy, today: date) -> MatchIndex:
    """The matcher's index from plain rows: collectible invoices and those paid in the last year."""
    since = today - timedelta(days=PAID_LOOKBACK_DAYS)
    states = "', '".join(sorted(inv_states.COLLECTIBLE))
    rows = uow.select(
        "SELECT id, customer, number, currency, open_amount, state, due_date FROM invoice "
        f"WHERE state IN ('{states}') OR (state = 'paid' AND paid_on >= $since)",
        {"since": since},
    )
    items = [OpenItem(int(r[0]), int(r[1]), r[2], r[3], int(r[4]), r[5], str(r[6])[:10]) for r in rows]
    parties = [Party(int(r[0]), r[1], r[2]) for r in uow.select("SELECT id, name, segment FROM customer")]
    aliases = [(int(r[0]), r[1], r[2]) for r in uow.select("SELECT customer, kind, value FROM payer_alias")]
    return MatchIndex(items, parties, aliases, policy)


def import_statement(
    ctx: Context, text: str, fmt: str | None, actor: Actor, policy: CashPolicy | None = None
) -> StatementSummary:
    """Parse the whole statement first (a bad file writes nothing), then import it in one transaction."""
    chosen, entries = parse_statement(text, fmt)
    rules = policy or load_policy(ctx.settings.cash_policy)
    disputes = dispute_policy(ctx.settings.policy_dir)

    def work(uow: UnitOfWork) -> StatementSummary:
        summary = StatementSummary(chosen)
        known = _known_refs(uow, [e.bank_ref for e in entries])
        now, today = ctx.now(), ctx.today()
        index = load_index(uow, rules, today) if any(e.direction == "credit" for e in entries) else None
        for e in entries:
            if e.bank_ref in known:
                summary.duplicates += 1
                continue
            known.add(e.bank_ref)
            txn = _record(uow, e, chosen, now)
            summary.bank_transaction_ids.append(txn.id)
            if e.direction != "credit":
                fire_bank_transaction(uow, txn, "exclude", actor, now, reason="a debit: nothing to apply")
                summary.excluded += 1
                continue
            summary.transactions += 1
            assert index is not None
            _match_one(uow, index, rules, disputes, txn, e, actor, now, today, summary)
        if rules.apply_credit == "oldest_due_first":
            _spread_left_over(uow, summary, actor, now, today)
        cause = {"kind": "bank_statement", "format": chosen}
        for customer_id in sorted(summary.landed):  # holds and risk once per customer whose cash landed
            money_landed(uow, uow.Customer[customer_id], actor, now, today, cause)
        return summary

    return transact(ctx.store, work)


def _known_refs(uow: UnitOfWork, refs: list[str]) -> set[str]:
    known: set[str] = set()
    for start in range(0, len(refs), 500):
        chunk = refs[start : start + 500]
        known.update(b.bank_ref for b in uow.BankTransaction.select(lambda b: b.bank_ref in chunk))  # noqa: B023
    return known


def _spread_left_over(uow: UnitOfWork, summary: StatementSummary, actor: Actor, now: datetime, today: date) -> None:
    """The policy's automatic credit application: what this statement left on account pays the
    customer's open invoices in that currency, oldest due first."""
    left: set[tuple[int, str]] = set()
    for txn_id in summary.bank_transaction_ids:
        txn = uow.BankTransaction[txn_id]
        if txn.payment is not None and txn.payment.unapplied_amount > 0:
            left.add((txn.customer.id, txn.currency))
    for customer_id, currency in sorted(left):
        states = "', '".join(sorted(inv_states.COLLECTIBLE))
        uow.flush()
        (open_invoices,) = uow.select(
            f"SELECT COUNT(*) FROM invoice WHERE customer = $c AND currency = $cur AND state IN ('{states}') "
            "AND open_amount > 0",
            {"c": customer_id, "cur": currency},
        )
        if open_invoices:
            customer = uow.Customer[customer_id]
            for payment in spread_credit(uow, customer, currency, (), actor, now, today):
                summary.invoice_ids.extend(a.invoice.id for a in payment.allocations)


def _record(uow: UnitOfWork, e: StatementEntry, fmt: str, now: datetime) -> Entity:
    txn = uow.BankTransaction(
        bank_ref=e.bank_ref,
        statement=e.statement,
        source_format=fmt,
        direction=e.direction,
        booked_on=e.booked_on,
        currency=e.currency,
        amount=e.amount,
        payer_name=e.payer_name,
        payer_iban=e.payer_iban,
        remittance=e.remittance or None,
        state=bt.IMPORTED,
        created_at=stored(now),
        updated_at=stored(now),
    )
    uow.flush()
    return txn


def _match_one(
    uow: UnitOfWork,
    index: MatchIndex,
    policy: CashPolicy,
    disputes: DisputePolicy,
    txn: Entity,
    e: StatementEntry,
    actor: Actor,
    now: datetime,
    today: date,
    summary: StatementSummary,
) -> None:
    decision = index.match(Payment(e.amount, e.currency, e.payer_name, e.payer_iban, e.remittance))
    txn.candidates = [c.as_json() for c in decision.candidates]
    best = decision.best
    txn.confidence = best.confidence if best else 0
    if best is not None:
        txn.customer = uow.Customer[best.customer_id]
    if decision.automatic and best is not None:
        lines = _lines(uow, best, policy, disputes, txn.amount)
        payment = _post(uow, txn, lines, actor, now, today, landed=False)
        summary.landed.add(txn.customer.id)
        for inv_id, amount in best.allocations:
            short = next((s for i, s in best.short_paid if i == inv_id), 0)
            index.applied(inv_id, amount, short)
        summary.invoice_ids.extend(a.invoice.id for a in payment.allocations)
        fire_bank_transaction(
            uow, txn, "auto_apply", actor, now, reason="; ".join(best.reasons), confidence=best.confidence
        )
        summary.auto_applied += 1
    elif best is not None:
        fire_bank_transaction(
            uow, txn, "suggest", actor, now, reason="; ".join(best.reasons), confidence=best.confidence
        )
        summary.suggested += 1
    else:
        fire_bank_transaction(uow, txn, "no_match", actor, now, reason="no customer or invoice identified")
        summary.unmatched += 1


def _lines(uow: UnitOfWork, c: Candidate, policy: CashPolicy, disputes: DisputePolicy, available: int) -> list[Line]:
    pairs = [(uow.Invoice[inv_id], amount) for inv_id, amount in c.allocations]
    return short_lines(uow.Customer[c.customer_id], pairs, available, policy, disputes)


def short_lines(
    customer: Entity, pairs: list[tuple[Entity, int]], available: int, policy: CashPolicy, disputes: DisputePolicy
) -> list[Line]:
    """The lines of a bank transaction's money (`available`: what is left of it to apply). When the
    lines take all of it, each may be a short payment: within the tolerance it settles its invoice,
    beyond it the deduction terms may dispute the difference. When money stays on account, the lines
    are what they say (a person's choice, not a customer's short payment)."""
    if sum(amount for _inv, amount in pairs) != available:
        return [Line(inv, amount) for inv, amount in pairs]
    return [
        Line(
            inv,
            amount,
            policy.tolerance(customer.segment, inv.currency),
            deduction_terms(disputes, customer.segment, inv.currency),
        )
        for inv, amount in pairs
    ]


def _post(
    uow: UnitOfWork, txn: Entity, lines: list[Line], actor: Actor, now: datetime, today: date, landed: bool = True
) -> Entity:
    payment = post_payment(
        uow,
        txn.customer,
        reference=txn.bank_ref[:64],
        received_on=txn.booked_on,
        currency=txn.currency,
        amount=txn.amount,
        lines=lines,
        actor=actor,
        now=now,
        today=today,
        cause={"bank_transaction_id": txn.id},
        landed=landed,
    )
    txn.payment = payment
    return payment


def apply_bank_transaction(
    ctx: Context, txn_id: int, customer_id: int, allocations: tuple[AllocationLine, ...], actor: Actor
) -> tuple[int, list[int]]:
    """A person's match: the money goes to the invoices named (the rest on account); the payer's
    name and IBAN are remembered as the customer's aliases. When the allocations take all of its money,
    each is a short payment as in automatic matching (tolerance, deduction). Returns (transaction id,
    invoices)."""
    rules, disputes = load_policy(ctx.settings.cash_policy), dispute_policy(ctx.settings.policy_dir)

    def work(uow: UnitOfWork) -> tuple[int, list[int]]:
        txn = get(uow, "BankTransaction", txn_id)
        if txn.state not in bt.OPEN:
            raise ValidationFailed(f"bank transaction {txn.id} is {txn.state}, not waiting in the queue", "id")
        customer = get(uow, "Customer", customer_id)
        if any(a.amount <= 0 for a in allocations):
            raise ValidationFailed("every allocation must be positive", "allocations")
        if sum(a.amount for a in allocations) > txn.amount:
            raise ValidationFailed("allocations exceed the bank transaction's amount", "allocations")
        now, today = ctx.now(), ctx.today()
        pairs = [(find_invoice(uow, customer, a.invoice_id, a.invoice_number), a.amount) for a in allocations]
        available = txn.amount if txn.payment is None else txn.payment.unapplied_amount
        lines = short_lines(customer, pairs, available, rules, disputes)
        if txn.payment is None:
            txn.customer = customer
            payment = _post(uow, txn, lines, actor, now, today)
        else:  # its payment was unapplied back to the queue: the money is that customer's credit
            payment = txn.payment
            if payment.customer.id != customer.id:
                raise ValidationFailed(
                    f"the money of bank transaction {txn.id} is credit of customer {payment.customer.external_ref}; "
                    "reverse that payment first to give it to another customer",
                    "customerId",
                )
            apply_from(uow, payment, lines, actor, now, today)
        _teach(uow, txn, customer, now)
        trigger = "apply" if lines else "put_on_account"
        fire_bank_transaction(uow, txn, trigger, actor, now, reason="matched by a person")
        return txn.id, [a.invoice.id for a in payment.allocations]

    return transact(ctx.store, work)


def _teach(uow: UnitOfWork, txn: Entity, customer: Entity, now: datetime) -> None:
    """Remember how this payer appears on statements, for the matcher next time."""
    taught = [("name", normalise_name(txn.payer_name or "")), ("iban", compact_iban(txn.payer_iban) or "")]
    for kind, value in taught:
        if not value:
            continue
        alias = uow.PayerAlias.get(kind=kind, value=value[:200])
        if alias is None:
            uow.PayerAlias(customer=customer, kind=kind, value=value[:200], created_at=stored(now))
        elif alias.customer.id != customer.id:
            alias.customer = customer  # the latest person's match wins


def settle_bank_transaction(ctx: Context, txn_id: int, trigger: str, reason: str, actor: Actor) -> int:
    """`exclude` (not a customer payment) or `return_funds` (sent back to the payer), with a reason."""
    why = require_reason(reason)

    def work(uow: UnitOfWork) -> int:
        txn = get(uow, "BankTransaction", txn_id)
        txn.note = why
        fire_bank_transaction(uow, txn, trigger, actor, ctx.now(), reason=why)
        if txn.customer is not None:
            money_landed(uow, txn.customer, actor, ctx.now(), ctx.today(), {"kind": "bank_transaction", "id": txn.id})
        return int(txn.id)

    return transact(ctx.store, work)


def add_payer_alias(ctx: Context, customer_id: int, kind: str, value: str, actor: Actor) -> tuple[str, str]:
    """Register how a customer appears on statements: an IBAN (validated) or a payer name."""

    def work(uow: UnitOfWork) -> tuple[str, str]:
        customer = get(uow, "Customer", customer_id)
        if kind == "iban":
            normal = compact_iban(value)
            if normal is None:
                raise ValidationFailed(f"'{value[:40]}' is not a valid IBAN", "value")
        elif kind == "name":
            normal = normalise_name(value[:200])
            if not normal:
                raise ValidationFailed("the payer name has no letters or digits besides legal forms", "value")
        else:
            raise ValidationFailed("kind must be iban or name", "kind")
        alias = uow.PayerAlias.get(kind=kind, value=normal)
        if alias is not None and alias.customer.id != customer.id:
            raise ValidationFailed(f"this {kind} is already known as customer {alias.customer.external_ref}'s", "value")
        if alias is None:
            uow.PayerAlias(customer=customer, kind=kind, value=normal, created_at=stored(ctx.now()))
        return kind, normal

    return transact(ctx.store, work)

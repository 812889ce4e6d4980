"""Cash application hit rate and speed (docs/cash-application.md, "How the hit rate is measured").

Generates a portfolio (default 100,000 open invoices over 10,000 customers) and a labelled statement
of payments — exact references, multi-invoice payments, reference typos, name-only payments with a
unique amount, bank charges within tolerance, partial and over-payments, and traps that must not be
applied automatically (a paid invoice named, two customers of the same name, an unknown payer,
another customer's invoice named by a different payer). The matcher runs on the in-memory index the
service builds (`engine.cashapp.matching`), as in `o2c import statement`. Prints the invoice-level hit
rate (share of truly paid invoices applied correctly and automatically), wrong automatic
applications, traps applied, and transactions per second; JSON on the last line. The baseline in the
same run is exact-number-only matching (what the service did before: nothing but named invoices).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.cashapp.matching import MatchIndex, OpenItem, Party, Payment
from engine.cashapp.names import rf_reference
from engine.cashapp.policy import load_policy

WORDS = [
    "Alpha",
    "Beta",
    "Gamma",
    "Delta",
    "Nordic",
    "Baltic",
    "Alpine",
    "Metro",
    "Urban",
    "Coastal",
    "Prime",
    "Vertex",
    "Apex",
    "Summit",
    "Orion",
    "Polar",
]
KINDS = [
    "Trading",
    "Logistics",
    "Foods",
    "Systems",
    "Motors",
    "Textiles",
    "Pharma",
    "Energy",
    "Tools",
    "Media",
    "Labs",
    "Works",
]
FORMS = ["GmbH", "Ltd", "AG", "SA", "Inc.", "B.V.", "S.r.l.", "Oy"]


@dataclass
class Case:
    kind: str
    payment: Payment
    expect: dict[int, int] | None  # invoice id -> amount applied; None: a trap (must not be automatic)


def portfolio(invoices: int, customers: int, rng: random.Random) -> tuple[list[OpenItem], list[Party]]:
    parties = []
    for cid in range(1, customers + 1):
        name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(KINDS)} {cid} {rng.choice(FORMS)}"
        parties.append(Party(cid, name, rng.choice(["smb", "mid_market", "enterprise"])))
    items = []
    for iid in range(1, invoices + 1):
        cid = rng.randint(1, customers)
        amount = rng.randint(5_000, 2_000_000)
        state = "paid" if iid % 50 == 0 else "open"
        items.append(
            OpenItem(
                iid,
                cid,
                f"INV-2026-{iid:06d}",
                "EUR",
                0 if state == "paid" else amount,
                state,
                f"2026-{1 + iid % 12:02d}-15",
            )
        )
    return items, parties


def typo(number: str, rng: random.Random) -> str:
    digits = list(number.split("-")[-1])
    i = rng.randrange(len(digits) - 1)
    if rng.random() < 0.5:
        digits[i], digits[i + 1] = digits[i + 1], digits[i]
    else:
        digits[i] = str((int(digits[i]) + rng.randint(1, 9)) % 10)
    return "INV-2026-" + "".join(digits)


def statement(items: list[OpenItem], parties: list[Party], n: int, rng: random.Random) -> list[Case]:
    by_customer: dict[int, list[OpenItem]] = {}
    for it in items:
        if it.state == "open":
            by_customer.setdefault(it.customer_id, []).append(it)
    used: set[int] = set()
    names = {p.id: p.name for p in parties}
    cases: list[Case] = []

    def pick(k: int = 1) -> list[OpenItem] | None:
        cid = rng.choice(list(by_customer))
        free = [i for i in by_customer[cid] if i.id not in used]
        if len(free) < k:
            return None
        chosen = rng.sample(free, k)
        used.update(i.id for i in chosen)
        return chosen

    def payer(cid: int) -> str:
        name = names[cid]
        return rng.choice([name, name.upper(), name.rsplit(" ", 1)[0], name.replace(" ", "  ")])

    mix = ["exact"] * 30 + ["rf"] * 8 + ["multi"] * 10 + ["typo"] * 10 + ["name_only"] * 12 + ["charges"] * 8
    mix += (
        ["partial"] * 6
        + ["over"] * 6
        + ["trap_paid"] * 3
        + ["trap_unknown"] * 3
        + ["trap_other"] * 2
        + ["trap_twins"] * 2
    )
    paid_items = [i for i in items if i.state == "paid"]
    while len(cases) < n:
        kind = rng.choice(mix)
        chosen = pick(rng.randint(2, 3) if kind == "multi" else 1)
        if not chosen:
            continue
        inv = chosen[0]
        cid = inv.customer_id
        amt = inv.open_amount
        text, expect, amount = f"Invoice {inv.number}", {inv.id: amt}, amt
        name = payer(cid)
        if kind == "rf":
            text = f"{rf_reference(inv.number)}"
        elif kind == "multi":
            text = "Inv " + ", ".join(i.number.replace("INV-", "").lower() for i in chosen)
            expect = {i.id: i.open_amount for i in chosen}
            amount = sum(expect.values())
        elif kind == "typo":
            wrong = typo(inv.number, rng)
            text = f"payment {wrong.replace('0', 'O', 1)}"
        elif kind == "name_only":
            same = [i for i in by_customer[cid] if i.open_amount == amt and i.id != inv.id]
            if same:
                continue
            text = "thank you"
        elif kind == "charges":
            fee = rng.randint(1, 800)
            if fee * 50 > amt:
                continue
            amount = amt - fee
            expect = {inv.id: amount}
        elif kind == "partial":
            amount = amt // 2
            expect = {inv.id: amount}
        elif kind == "over":
            amount = amt + rng.randint(100, 50_000)
        elif kind == "trap_paid":
            inv = rng.choice(paid_items)
            text, expect, amount, name = (
                f"Invoice {inv.number}",
                None,
                rng.randint(5_000, 500_000),
                payer(inv.customer_id),
            )
        elif kind == "trap_unknown":
            text, expect, name = "payment", None, "Unknown Person"
            amount = rng.randint(5_000, 2_000_000)
        elif kind == "trap_other":
            other = rng.choice([p.id for p in parties if p.id != cid])
            text, expect, name = f"Invoice {inv.number}", None, names[other]
            amount = amt // 3
        elif kind == "trap_twins":
            text, expect, name = "thanks", None, "Twin Holdings"
        cases.append(Case(kind, Payment(amount, "EUR", name, None, text), expect))
    return cases


def run(invoices: int, customers: int, transactions: int, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    items, parties = portfolio(invoices, customers, rng)
    parties += [Party(customers + 1, "Twin Holdings GmbH", "smb"), Party(customers + 2, "Twin Holdings Ltd", "smb")]
    items += [OpenItem(invoices + 1, customers + 1, "TW-1", "EUR", 12_300, "open", "2026-01-01"),
              OpenItem(invoices + 2, customers + 2, "TW-2", "EUR", 45_600, "open", "2026-01-01")]  # fmt: skip
    cases = statement(items, parties, transactions, rng)
    started = time.perf_counter()
    index = MatchIndex(items, parties, [], load_policy())
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    decisions = [index.match(c.payment) for c in cases]
    match_s = time.perf_counter() - started
    truly_paid = hit = wrong = traps = 0
    by_kind: dict[str, list[int]] = {}
    baseline_hit = 0
    for case, d in zip(cases, decisions, strict=True):
        applied = dict(d.best.allocations) if d.automatic and d.best else {}
        if case.expect is None:
            traps += bool(applied)
            by_kind.setdefault(case.kind, [0, 0])[1] += 1
            by_kind[case.kind][0] += bool(applied)
            continue
        truly_paid += len(case.expect)
        good = sum(1 for i, a in case.expect.items() if applied.get(i) == a)
        hit += good
        wrong += sum(1 for i, a in applied.items() if case.expect.get(i) != a)
        by_kind.setdefault(case.kind, [0, 0])[0] += good
        by_kind[case.kind][1] += len(case.expect)
        if case.kind in ("exact",):
            baseline_hit += len(case.expect)
    result = {
        "invoices": invoices,
        "customers": customers,
        "transactions": len(cases),
        "hit_rate": round(hit / truly_paid, 4),
        "wrong_auto_applications": wrong,
        "traps_applied": traps,
        "transactions_per_s": round(len(cases) / match_s),
        "index_build_s": round(build_s, 2),
        "baseline_exact_reference_only_hit_rate": round(baseline_hit / truly_paid, 4),
        "by_kind": {k: f"{v[0]}/{v[1]}" for k, v in sorted(by_kind.items())},
    }
    return result


def through_the_service(invoices: int, customers: int, transactions: int, seed: int) -> dict[str, object]:
    """The same labelled statement as CSV through `import_statement` on a fresh SQLite database:
    parse, index, match, and write payments, allocations, history and events in one transaction."""
    import tempfile
    from datetime import date, datetime

    from engine.cashapp.policy import load_policy
    from engine.clock import clock_for_date
    from engine.config import Settings
    from engine.importer.write import CUSTOMER_COLUMNS, INVOICE_COLUMNS
    from engine.services.bank_transactions import import_statement
    from engine.services.context import Context
    from engine.store.bulk import Bulk
    from engine.store.database import Store
    from engine.store.unit_of_work import UnitOfWork, read_only
    from engine.store.upgrades import upgrade
    from states.actors import Actor
    from states.money import format_minor

    rng = random.Random(seed)
    items, parties = portfolio(invoices, customers, rng)
    cases = statement(items, parties, transactions, rng)
    folder = tempfile.mkdtemp(prefix="cashapp-")
    store = Store(f"sqlite:///{folder}/bench.sqlite")
    upgrade(store)
    today = date(2026, 12, 6)
    at = datetime(2026, 12, 6, 12)
    with UnitOfWork(store, write=True) as uow:
        bulk = Bulk(uow)
        bulk.insert(
            "customer",
            CUSTOMER_COLUMNS,
            [(p.id, f"C{p.id}", p.name, p.segment, "medium", 50, "{}", 10**9, "EUR", 30, "UTC", None, None, "[]", None,
              "active", 0, 0, 1, bulk.moment(at)) for p in parties],
        )  # fmt: skip
        bulk.insert(
            "invoice",
            INVOICE_COLUMNS,
            [(i.id, i.customer_id, i.number, "2026-01-01", i.due_date, i.currency, max(i.open_amount, 100),
              i.open_amount, i.state, 0, None, "2026-11-01" if i.state == "paid" else None, 1, bulk.moment(at),
              bulk.moment(at)) for i in items],
        )  # fmt: skip
        uow.commit()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["bank_ref", "booked_on", "amount", "currency", "payer_name", "remittance"])
    for n, c in enumerate(cases):
        amount = format_minor(c.payment.amount, "EUR")
        writer.writerow([f"T{n}", "2026-12-05", amount, "EUR", c.payment.payer_name or "", c.payment.remittance])
    ctx = Context(store, clock_for_date(today), Settings(database_url=store.url))
    started = time.perf_counter()
    summary = import_statement(ctx, out.getvalue(), "csv", Actor("import", "bench"), load_policy())
    took = time.perf_counter() - started
    with read_only(store) as uow:
        rows = uow.select(
            "SELECT b.bank_ref, a.invoice, a.amount FROM bank_transaction b JOIN allocation a ON a.payment = b.payment "
            "WHERE b.state = 'auto_applied'"
        )
    applied: dict[int, dict[int, int]] = {}
    for ref, inv, amount in rows:
        applied.setdefault(int(str(ref)[1:]), {})[int(inv)] = int(amount)
    truly = sum(len(c.expect) for c in cases if c.expect)
    hit = sum(1 for n, c in enumerate(cases) if c.expect for i, a in c.expect.items() if applied.get(n, {}).get(i) == a)
    wrong = sum(
        1 for n, c in enumerate(cases) for i, a in applied.get(n, {}).items() if not c.expect or c.expect.get(i) != a
    )
    store.disconnect()
    return {
        "service_transactions": summary.transactions,
        "service_auto_applied": summary.auto_applied,
        "service_hit_rate": round(hit / truly, 4),
        "service_wrong_auto_applications": wrong,
        "service_seconds": round(took, 2),
        "service_transactions_per_s": round(summary.transactions / took),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--invoices", type=int, default=100_000)
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--transactions", type=int, default=5_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--service", action="store_true", help="also import it through the service on SQLite")
    args = ap.parse_args()
    result = run(args.invoices, args.customers, args.transactions, args.seed)
    if args.service:
        result |= through_the_service(args.invoices, args.customers, args.transactions, args.seed)
    for key, value in result.items():
        print(f"{key}: {value}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

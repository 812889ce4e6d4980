"""A business date's work is one exactly-once unit, whatever kills it where.

What holds: `o2c cycle` — or the worker (`o2c worker --once`, one scheduler tick as the leader) —
killed with SIGKILL at any step boundary of a business date's work (`engine.crash.BOUNDARIES`:
after the run opens, a partition is claimed, each chunk, the accounts, a partition done, each
promise judged, each dispute escalated, snoozed tasks woken, blocks expired, messages rendered
(and, before a date opens, the earlier dates' messages rendered),
and for the worker predictions, the KPI snapshot and sending), then run again — the same date, or straight
the next date — ends identical to an uninterrupted run over the same three consecutive business
dates: invoices, promises, disputes, holds, tasks, blocks, notices and messages (with their
recipient, subject, text and cancel reason), every history row
with its facts, every outbox event with its data (times and row ids aside).

How: D1 runs whole; the work of D2 is killed; then D2 and D3 run (or D3 alone, which catches D2
up), and the end is compared with D1, D2, D3 run whole (the snapshot keys rows by business
identifiers; times and row ids differ). Repeated steps are killed at their first and a later
occurrence. The kills are real: the process gets `O2C_CRASH_AT=<boundary>:<n>` and SIGKILLs itself
the n-th time it reaches the boundary (a test that never reaches it fails). On SQLite the killed
process is forked from the test process and runs `api.cli.main` (the CLI's imports are paid once),
the reruns run in the test process; on PostgreSQL the killed one is the installed `o2c` executable.
The list of boundaries comes from the code, so a new boundary is killed at without touching this
file."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import traceback
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from cycle_support import STRATEGIES, Portfolio

from api.cli import main
from engine.bootstrap import build_context
from engine.clock import clock_for_date
from engine.commands import AllocationLine, CreateCustomer, OpenDispute, RecordPayment, RecordPromise
from engine.config import Settings
from engine.crash import BOUNDARIES
from engine.service import Collections
from states.actors import person

pytestmark = pytest.mark.slow  # it starts processes (and kills them)

D1 = date(2026, 3, 2)  # a Monday
D2, D3 = D1 + timedelta(days=1), D1 + timedelta(days=2)
DATES = (D1, D2, D3)
O2C = str(Path(sys.executable).parent / "o2c")
SEGMENTS = (
    ("smb", "low"),
    ("smb", "high"),
    ("mid_market", "medium"),
    ("enterprise", "low"),
    ("enterprise", "critical"),
)
ANN = person("ann")
MAIL = Path(tempfile.gettempdir()) / "o2c-kill-steps-mail"

PROCESSES = ("cycle", "worker")  # `o2c cycle --as-of D`, `o2c worker --once` with O2C_TODAY=D

# Steps that repeat within one date's work are killed at the first and at a later occurrence (a
# kill between two chunks differs from one before the first). `o2c cycle` works one partition, the
# worker four (O2C_CYCLE_PARTITIONS).
REPEATED = {
    "cycle": {"cycle.chunk_written": 3, "timers.promise_judged": 2},
    "worker": {"cycle.chunk_written": 2, "timers.promise_judged": 2, "cycle.claimed": 3, "cycle.partition_done": 3},
}


def kill_points(process: str) -> list[tuple[str, int]]:
    """Every boundary `process` passes (from `engine.crash.BOUNDARIES`), at its first occurrence
    and, for those that repeat, a later one."""
    points = []
    for name, boundary in BOUNDARIES.items():
        if process in boundary.processes:
            points.append((name, 1))
            if name in REPEATED[process]:
                points.append((name, REPEATED[process][name]))
    return points


def seed(url: str) -> None:
    """Ten customers in five strategies, four invoices each from 5 days ahead to 40 days past due
    (contact caps that bite), one more whose reminder falls on D3;
    promises due on D1 and on D2 (kept and broken), disputes whose deadline passes on D1 and D2,
    a task snoozed until D2, a dunning block that ends on D1."""
    clock = clock_for_date(D1 - timedelta(days=8))
    ctx = build_context(Settings(database_url=url), clock=clock)
    service = Collections(ctx)
    book = Portfolio(service, D1)
    invoices: list[int] = []
    for c in range(10):
        segment, risk = SEGMENTS[c % len(SEGMENTS)]
        book.customer(f"C{c:02d}", segment, risk)
        invoices += [book.invoice(f"C{c:02d}", (c * 5 + k * 11) % 46 - 5) for k in range(4)]
    book.customer("C10", "smb", "low")
    book.invoice("C10", -5)  # its pre-due reminder falls on D3
    # No contact at all (enterprise-low-risk: a cap of 2 messages in 14 days): the portal reminder
    # of D1 is rendered; the email notice of D2 is cancelled when rendered (nobody to send it to),
    # so the notice of D3 is within the cap — if D2's messages are rendered before D3's cycle.
    quiet = CreateCustomer("C11", "C11", "enterprise", "EUR", 10_000_000, risk_class="low")
    book.customers["C11"] = int(service.create_customer(quiet).id)
    for days_past_due in (0, 6, 5):  # due on D1; first notice on D2; first notice on D3
        book.invoice("C11", days_past_due)
    promised = invoices[1:8:2]
    for k, invoice in enumerate(promised):
        # promised for D − 3: with the tolerance of 2 days the timer is due on D1 or D2
        service.record_promise(RecordPromise(invoice, 5_000, (D1 if k % 2 else D2) - timedelta(days=3)), ANN)
    for day, invoice in ((D1, invoices[10]), (D2, invoices[14]), (D2, invoices[22])):
        # a duplicate's deadline is 5 days: opened 5 days before `day`, at 06:00, it passes that morning
        clock.set(datetime(day.year, day.month, day.day, 6, tzinfo=UTC) - timedelta(days=5))
        service.open_dispute(OpenDispute(invoice, "duplicate"), ANN)
    clock.set(datetime(D1.year, D1.month, D1.day, 6, tzinfo=UTC) - timedelta(days=2))
    for invoice in promised[:2]:  # these two are kept
        owner = book.customers[f"C{invoices.index(invoice) // 4:02d}"]
        lines = (AllocationLine(5_000, invoice),)
        service.apply_payment(RecordPayment(owner, f"PAY-{invoice}", 5_000, "EUR", D1 - timedelta(days=2), lines), ANN)
    task = service.create_task(book.customers["C03"], None, "collections-smb", "call back", ANN)
    service.snooze_task(task.id, D2, ANN)
    service.place_block(book.customers["C06"], None, "negotiation", D1, "talks", ANN)
    ctx.store.disconnect()


# -- reading a database back, by business keys (row ids and times differ between runs) --


def _query(url: str, sql: str) -> list[tuple[Any, ...]]:
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url[len("sqlite:///") :]) as conn:
            return [tuple(r) for r in conn.execute(sql).fetchall()]
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return [tuple(r) for r in cur.fetchall()]
    finally:
        conn.close()


def _day(value: Any) -> str | None:
    return None if value is None else str(value)[:10]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


VOLATILE = {"at", "occurredAt", "decidedAt", "createdAt", "updatedAt", "renderedAt", "time", "id", "eventId"}


def _stable(value: Any) -> Any:
    """The data without times and row ids."""
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in sorted(value.items()) if k not in VOLATILE and not k.endswith("_at")}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def snapshot(url: str) -> dict[str, Any]:
    keys: dict[tuple[str, int], Any] = {}
    for iid, number in _query(url, "SELECT id, number FROM invoice"):
        keys["invoice", int(iid)] = number
    for cid, ref in _query(url, "SELECT id, external_ref FROM customer"):
        keys["customer", int(cid)] = keys["account", int(cid)] = ref
    for did, number in _query(url, "SELECT d.id, i.number FROM dispute d JOIN invoice i ON i.id = d.invoice"):
        keys["dispute", int(did)] = number
    for mid, ref, day, channel, group in _query(
        url,
        "SELECT m.id, c.external_ref, m.business_date, m.channel, m.group_key FROM notice_message m "
        "JOIN customer c ON c.id = m.customer",
    ):
        keys["notice", int(mid)] = (ref, _day(day), channel, group)
    for tid, ref, queue, invoice, note in _query(
        url,
        "SELECT t.id, c.external_ref, t.queue, t.invoice, t.note FROM collector_task t "
        "JOIN customer c ON c.id = t.customer",
    ):
        keys["task", int(tid)] = (ref, queue, keys.get(("invoice", int(invoice))) if invoice else None, note)
    for bid, ref, reason in _query(
        url, "SELECT b.id, c.external_ref, b.reason_code FROM dunning_block b JOIN customer c ON c.id = b.customer"
    ):
        keys["block", int(bid)] = (ref, reason)

    def key(kind: str, entity_id: Any) -> Any:
        return keys.get((kind, int(entity_id)), (kind, int(entity_id)))

    return {
        "invoices": sorted(
            (n, s, int(lv), _day(lc), _day(ln), int(v), int(o))
            for n, s, lv, lc, ln, v, o in _query(
                url,
                "SELECT number, state, dunning_level, last_cycle_on, last_notice_on, version, open_amount FROM invoice",
            )
        ),
        "customers": sorted(
            (r, s, int(v), int(b))
            for r, s, v, b in _query(url, "SELECT external_ref, state, version, broken_promises FROM customer")
        ),
        "promises": sorted(
            (key("invoice", i), s) for i, s in _query(url, "SELECT invoice, status FROM promise_to_pay")
        ),
        "disputes": sorted(
            (key("invoice", i), s, int(v)) for i, s, v in _query(url, "SELECT invoice, state, version FROM dispute")
        ),
        "holds": sorted(
            (key("customer", c), r, rel is None)
            for c, r, rel in _query(url, "SELECT customer, reason, released_at FROM credit_hold")
        ),
        "tasks": sorted(
            (key("task", t), s, int(v)) for t, s, v in _query(url, "SELECT id, status, version FROM collector_task")
        ),
        "blocks": sorted((key("block", b), s) for b, s in _query(url, "SELECT id, status FROM dunning_block")),
        "notices": sorted(
            (key("invoice", i), _day(d), int(lv), k, t, key("notice", m) if m else None)
            for i, d, lv, k, t, m in _query(
                url, "SELECT invoice, business_date, level, kind, template, message FROM notice"
            )
        ),
        "messages": sorted(
            (key("notice", m), s, t, str(via), str(r), str(sub), str(body), str(e))
            for m, s, t, via, r, sub, body, e in _query(
                url, "SELECT id, state, template, via, recipient, subject, body_text, error FROM notice_message"
            )
        ),
        "history": sorted(
            (
                et,
                str(key(et, ei)),
                int(v),
                str(f),
                str(t),
                tr,
                json.dumps(_stable(_json(x)), sort_keys=True),
                json.dumps(_stable(_json(c)), sort_keys=True),
            )
            for et, ei, v, f, t, tr, x, c in _query(
                url,
                "SELECT entity_type, entity_id, entity_version, from_state, to_state, trigger, facts, cause "
                "FROM transition_history",
            )
        ),
        "outbox": sorted(
            (ty, et, str(key(et, ei)), int(v), json.dumps(_stable(_json(d)), sort_keys=True))
            for ty, et, ei, v, d in _query(url, "SELECT type, entity_type, entity_id, entity_version, data FROM outbox")
        ),
        "runs": sorted((_day(d), s) for d, s in _query(url, "SELECT business_date, status FROM cycle_run")),
    }


# -- running the processes --


def _argv(process: str, day: date) -> list[str]:
    if process == "cycle":
        return ["cycle", "--as-of", day.isoformat(), "--chunk-size", "2", "--json"]
    return ["worker", "--once", "--no-dispatch"]


def _environment(url: str, day: date, crash_at: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("O2C_")}
    env |= {"O2C_DATABASE_URL": url, "O2C_STRATEGIES_DIR": str(STRATEGIES), "O2C_TODAY": day.isoformat()}
    env["O2C_SMTP_URL"] = f"file:{MAIL}"  # the worker sends its emails (to files) on each tick

    if crash_at is not None:
        env["O2C_CRASH_AT"] = crash_at
    return env


def run(process: str, url: str, day: date, crash_at: str | None = None) -> tuple[int, str]:
    """`o2c cycle` / `o2c worker --once` for `day` in a child process: forked from this one (the
    CLI's imports, ~7 s under load, are paid once) and running `api.cli.main` as `o2c` would. Its
    exit code (negative: the signal that killed it) and its output."""
    env = _environment(url, day, crash_at)
    out = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)  # noqa: SIM115 (the child writes it)
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            sys.stdout = sys.stderr = out
            os.environ.clear()
            os.environ.update(env)
            code = main(_argv(process, day))
        except BaseException:
            traceback.print_exc()
        finally:
            out.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    out.seek(0)
    text = out.read()
    out.close()
    os.unlink(out.name)
    return os.waitstatus_to_exitcode(status), text


def run_exec(process: str, url: str, day: date, crash_at: str | None = None) -> tuple[int, str]:
    """The same as `run`, through the installed `o2c` executable (a process of its own from the start)."""
    env = _environment(url, day, crash_at)
    done = subprocess.run([O2C, *_argv(process, day)], env=env, capture_output=True, text=True, timeout=180)
    return done.returncode, done.stdout + done.stderr


def run_ok(process: str, url: str, day: date) -> None:
    """An uninterrupted run or a rerun, in this process (as a new process would: nothing of the
    CLI's state outlives `main`); only the killed run needs a process of its own."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(_environment(url, day, None))
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(_argv(process, day)) == 0
    finally:
        os.environ.clear()
        os.environ.update(saved)


def copy_sqlite(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kill-steps") / "seeded.sqlite"
    seed(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="module")
def uninterrupted(seeded: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Per process: the database after D1 (where each kill starts) and the snapshot after D3."""
    out: dict[str, dict[str, Any]] = {}
    for process in PROCESSES:
        folder = tmp_path_factory.mktemp(f"whole-{process}")
        path = folder / "o2c.sqlite"
        copy_sqlite(seeded, path)
        url = f"sqlite:///{path}"
        run_ok(process, url, D1)
        copy_sqlite(path, folder / "after-d1.sqlite")
        for day in (D2, D3):
            run_ok(process, url, day)
        out[process] = {"after_d1": folder / "after-d1.sqlite", "end": snapshot(url)}
    return out


def test_the_scenario_exercises_every_kind_of_step(uninterrupted: dict[str, dict[str, Any]]) -> None:
    """Guards the kill tests' premise: the three dates write notices, judge promises both ways,
    escalate disputes, wake the task, expire the block, place holds; the worker sends."""
    for process in PROCESSES:
        end = uninterrupted[process]["end"]
        assert {s for _, s in end["promises"]} == {"kept", "broken"}
        assert sum(1 for _, s, _ in end["disputes"] if s == "escalated") == 3
        assert any(s == "open" for (_, q, _, _), s, _ in end["tasks"] if q == "collections-smb")
        assert [s for _, s in end["blocks"]] == ["expired"]
        assert {d for _, d, *_ in end["notices"]} == {d.isoformat() for d in DATES}
        assert end["holds"]
        assert end["runs"] == [(d.isoformat(), "done") for d in DATES]
        # C11: D2's message cancelled at its render, so D3's notice was within the contact cap
        quiet = {d: s for (ref, d, *_), s, *_ in end["messages"] if ref == "C11"}
        assert quiet[D1.isoformat()] != "cancelled" and quiet[D2.isoformat()] == quiet[D3.isoformat()] == "cancelled"
    assert {s for _, s, *_ in uninterrupted["worker"]["end"]["messages"]} >= {"sent"}


def differences(got: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """Per table, the rows only one side has (empty when the two ends are identical)."""
    out = {}
    for name, rows in expected.items():
        extra = [r for r in got[name] if r not in rows]
        missing = [r for r in rows if r not in got[name]]
        if extra or missing or sorted(got[name]) != sorted(rows):
            out[name] = {"only after the kill": extra, "only uninterrupted": missing}
    return out


def _kill_then_rerun(process: str, url: str, boundary: str, n: int, then: str, start: Any = None) -> None:
    code, output = (start or run)(process, url, D2, crash_at=f"{boundary}:{n}")
    assert code == -signal.SIGKILL, f"{boundary}:{n} was never reached\n{output[-3000:]}"
    if then == "same date":
        run_ok(process, url, D2)
    run_ok(process, url, D3)


@pytest.mark.parametrize("then", ["same date", "next date"])
@pytest.mark.parametrize(
    ("process", "boundary", "n"),
    [(p, b, n) for p in PROCESSES for b, n in kill_points(p)],
    ids=lambda v: str(v),
)
def test_a_kill_at_any_step_then_a_rerun_ends_like_an_uninterrupted_run(
    process: str,
    boundary: str,
    n: int,
    then: str,
    uninterrupted: dict[str, dict[str, Any]],
    tmp_path: Path,
) -> None:
    path = tmp_path / "o2c.sqlite"
    copy_sqlite(uninterrupted[process]["after_d1"], path)
    url = f"sqlite:///{path}"

    _kill_then_rerun(process, url, boundary, n, then)

    expected, got = uninterrupted[process]["end"], snapshot(url)
    found = differences(got, expected)
    assert not found, json.dumps(found, indent=1, default=str)


# A representative subset on PostgreSQL (the kill through the real `o2c` executable): inside the
# cycle, between a cycle and its timers, inside the timers, across partitions of the worker.
PG_POINTS = [
    ("cycle", "cycle.chunk_written", 2, "same date"),
    ("cycle", "cycle.partition_done", 1, "next date"),
    ("cycle", "timers.promise_judged", 1, "same date"),
    ("worker", "cycle.claimed", 3, "same date"),
    ("worker", "timers.dispute_escalated", 1, "next date"),
]


@pytest.mark.postgres
@pytest.mark.parametrize(("process", "boundary", "n", "then"), PG_POINTS, ids=lambda v: str(v))
def test_on_postgresql_a_kill_at_a_step_then_a_rerun_ends_like_an_uninterrupted_run(
    process: str, boundary: str, n: int, then: str, pg_url: str, uninterrupted: dict[str, dict[str, Any]]
) -> None:
    seed(pg_url)
    run_ok(process, pg_url, D1)

    _kill_then_rerun(process, pg_url, boundary, n, then, start=run_exec)

    # the same portfolio on PostgreSQL, killed and resumed, ends as the uninterrupted SQLite run
    expected, got = uninterrupted[process]["end"], snapshot(pg_url)
    found = differences(got, expected)
    assert not found, json.dumps(found, indent=1, default=str)

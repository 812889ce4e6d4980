"""A partition holder that pauses (its lease lapses and another worker takes the partition over)
and then goes on: whatever it still writes changes nothing, it neither marks the partition nor
the run done, and the date ends exactly as one uninterrupted run — on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import textwrap
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from cycle_support import Portfolio, clear_cycle_tables, counts, rows

from engine.cycle import partitions, scope
from engine.cycle.book import EVERYONE, load_book
from engine.cycle.partitions import claim, finish, open_partitions, work_partitions
from engine.cycle.runner import run_cycle
from engine.cycle.writer import write_chunk
from engine.rules.registry import StrategySet
from engine.service import Collections
from engine.services.context import Context
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork
from engine.strategies_in_force import load_registry

DAY = date(2026, 3, 2)

# A notice ladder and, on its own track, a collector task for old debts: the task alone moves no
# invoice version once the invoice has reached the top of the ladder.
LADDER_AND_TASKS = """\
strategy: ladder-and-tasks
version: 1
applies_to:
  segment: [enterprise, mid_market, smb, public_sector]
  risk: [low, medium, high, critical]
settings:
  grace_days: 1
  min_amount: {EUR: 10.00}
  max_dunning_level: 1
rules:
  - id: notice
    when: dunning_level == 0
    then:
      - dun: {channel: email, template: only_notice}
  - id: call-them
    track: follow-up
    when: days_past_due >= 10
    then:
      - create_task: {queue: collections}
"""


@pytest.fixture
def strategies(tmp_path: Path) -> StrategySet:
    folder = tmp_path / "strategies"
    folder.mkdir()
    (folder / "ladder-and-tasks.yaml").write_text(textwrap.dedent(LADDER_AND_TASKS))
    return load_registry(folder).current


def _tasks_per_invoice(store: Store) -> Counter[int]:
    return Counter(int(i) for i in rows(store, "SELECT invoice FROM collector_task"))


def test_a_task_only_plan_written_by_a_second_writer_after_the_first_adds_no_second_task(
    ctx: Context, service: Collections, strategies: StrategySet
) -> None:
    clear_cycle_tables(ctx.store)
    book = Portfolio(service, DAY)
    book.customer("a", "smb", "low")
    invoice = book.invoice("a", 20)
    run_cycle(ctx, strategies, DAY - timedelta(days=1))  # the notice and a first task: the ladder's top
    assert _tasks_per_invoice(ctx.store) == {invoice: 1}
    # two holders of one partition both loaded and planned the date before either wrote
    first = scope._plan(ctx, strategies, DAY, load_book(ctx.store, DAY, EVERYONE), EVERYONE)
    second = scope._plan(ctx, strategies, DAY, load_book(ctx.store, DAY, EVERYONE), EVERYONE)
    assert [(len(p.changes), p.notice, len(p.tasks)) for p in first.invoices] == [(0, None, 1)]
    before = counts(ctx.store)

    wrote = write_chunk(ctx.store, first.invoices, DAY, ctx.now(), "rule:cycle")
    late = write_chunk(ctx.store, second.invoices, DAY, ctx.now(), "rule:cycle")

    assert [p.invoice_id for p in wrote.written] == [invoice]
    assert (late.written, late.conflicts, late.handled) == ([], [], [invoice])  # handled, not a conflict
    assert _tasks_per_invoice(ctx.store) == {invoice: 1}  # yesterday's task is still open: none added
    assert counts(ctx.store) == before


def _portfolio(service: Collections) -> None:
    book = Portfolio(service, DAY)
    for c in range(4):
        book.customer(f"C{c}", "smb", "low")
        for days in (3, 12, 25):
            book.invoice(f"C{c}", days)


def _run_stats(store: Store) -> tuple[str, dict[str, Any]]:
    ((status, raw),) = rows(store, "SELECT status, stats FROM cycle_run")
    return str(status), json.loads(raw) if isinstance(raw, str) else dict(raw)


def _lapse(store: Store) -> None:
    """The holder's lease runs out (it paused longer than its lease)."""
    with UnitOfWork(store, write=True) as uow:
        uow.execute("UPDATE cycle_partition SET lease_until = '2000-01-01 00:00:00' WHERE status = 'running'")
        uow.commit()


def test_a_paused_holder_that_writes_on_after_a_takeover_ends_like_one_uninterrupted_run(
    ctx: Context, service: Collections, strategies: StrategySet, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clear_cycle_tables(ctx.store)
    _portfolio(service)
    expected = run_cycle(ctx, strategies, DAY, dry_run=True)
    assert expected.notices == 12 and expected.tasks == 8
    real_write, calls = scope.write_chunk, []
    took_over: list[Any] = []

    def takeover() -> None:  # another worker, with its own connection, in its own thread
        store = Store(database_url)
        try:
            other = Context(store=store, clock=ctx.clock, settings=ctx.settings)
            took_over.append(work_partitions(other, strategies, DAY, "other-host:1:b", lease_seconds=60))
        finally:
            store.disconnect()

    def paused_write(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is threading.main_thread():
            calls.append(len(args[1]))
            if len(calls) == 2:  # the first holder passed its lease check, then paused before writing
                _lapse(ctx.store)
                worker = threading.Thread(target=takeover)
                worker.start()
                worker.join()
        return real_write(*args, **kwargs)

    monkeypatch.setattr(scope, "write_chunk", paused_write)
    open_partitions(ctx, DAY, 1)

    mine = work_partitions(ctx, strategies, DAY, "this-host:1:a", lease_seconds=60, chunk_size=4)

    (theirs,) = took_over
    assert calls == [4, 4]  # it wrote one chunk, then one more after the takeover, then stopped
    assert (mine.partitions_worked, theirs.partitions_worked) == (0, 1)
    assert mine.notices + theirs.notices == expected.notices  # each invoice written by one of them
    assert rows(ctx.store, "SELECT holder, status FROM cycle_partition") == [("other-host:1:b", "done")]
    status, stats = _run_stats(ctx.store)
    assert status == "done"
    for key in ("applied", "notices", "tasks", "by_rule"):
        assert stats[key] == getattr(expected, key), key  # every invoice counted once
    assert (mine.tasks + theirs.tasks, max(_tasks_per_invoice(ctx.store).values())) == (expected.tasks, 1)
    notices_per_invoice = Counter(int(i) for i in rows(ctx.store, "SELECT invoice FROM notice"))
    assert sum(notices_per_invoice.values()) == expected.notices and max(notices_per_invoice.values()) == 1
    transitions = rows(
        ctx.store,
        "SELECT entity_id, trigger FROM transition_history WHERE actor = 'rule:cycle' AND entity_type = 'invoice'",
    )
    assert len(transitions) == expected.applied and max(Counter(transitions).values()) == 1


def test_a_holder_that_lost_its_lease_marks_neither_the_partition_nor_the_run_done(ctx: Context) -> None:
    clear_cycle_tables(ctx.store)
    open_partitions(ctx, DAY, 1)
    paused = claim(ctx, DAY, "this-host:1:a", 60)
    assert paused is not None
    _lapse(ctx.store)
    taken = claim(ctx, DAY, "other-host:1:b", 60)
    assert taken is not None

    assert finish(ctx, paused, "this-host:1:a", {"invoices_evaluated": 5}) is None

    assert rows(ctx.store, "SELECT holder, status FROM cycle_partition") == [("other-host:1:b", "running")]
    assert _run_stats(ctx.store)[0] == "running"
    assert finish(ctx, taken, "other-host:1:b", {"invoices_evaluated": 3}) == 0
    status, stats = _run_stats(ctx.store)
    assert (status, stats["invoices_evaluated"]) == ("done", 3)


def test_a_standby_with_nothing_to_claim_leaves_the_database_settings_alone(
    ctx: Context, strategies: StrategySet, monkeypatch: pytest.MonkeyPatch
) -> None:
    clear_cycle_tables(ctx.store)
    entered: list[Store] = []

    @contextlib.contextmanager
    def recording(store: Store, dry_run: bool = False) -> Iterator[None]:
        entered.append(store)
        yield

    monkeypatch.setattr(partitions, "bulk_writes", recording)
    open_partitions(ctx, DAY, 1)
    assert claim(ctx, DAY, "elsewhere:1:x", 60) is not None  # a live holder works the only partition

    report = work_partitions(ctx, strategies, DAY, "here:2:y")

    assert (report.partitions_worked, entered) == (0, [])
    _lapse(ctx.store)
    assert work_partitions(ctx, strategies, DAY, "here:2:y").partitions_worked == 1
    assert entered == [ctx.store]  # once, around the claimed work

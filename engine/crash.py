"""The step boundaries of a business date's work, and the crash seam the kill tests use.

`O2C_CRASH_AT=<boundary>[:n]` makes the process SIGKILL itself the n-th time (1 by default) it
reaches `<boundary>` — a real kill, as an operator's `kill -9` or a lost machine, at a point the
test names. Unset (always, in production) `reached` does nothing but read the cached settings.

`BOUNDARIES` is the one list: every `reached(...)` call names one of them (a unit test checks
both ways), and `tests/integration/test_kill_at_every_step.py` kills `o2c cycle` and the worker
at each, reruns, and compares the database with an uninterrupted run. A new boundary is a new
row here and a `reached` call at its place; the kill tests pick it up by themselves."""

from __future__ import annotations

import os
import signal
from collections import Counter
from dataclasses import dataclass

from engine.config import current

CYCLE, WORKER = "cycle", "worker"  # `o2c cycle`, and the worker's scheduler tick


@dataclass(frozen=True)
class Boundary:
    meaning: str  # what is committed when a process gets here
    processes: frozenset[str] = frozenset({CYCLE, WORKER})  # which processes pass it


BOUNDARIES: dict[str, Boundary] = {
    # before a date's cycle opens (engine/cycle/runner.py `finish_earlier_dates`)
    "notices.earlier_rendered": Boundary(
        "the day before's timers ran again and the earlier dates' requested messages are rendered"
    ),
    # the cycle of one business date (engine/cycle/)
    "cycle.opened": Boundary("the date's run row and partitions are committed, nothing claimed yet"),
    "cycle.claimed": Boundary("a partition is claimed (its lease committed), nothing of it written"),
    "cycle.chunk_written": Boundary("one chunk of invoice transitions, notices and tasks is committed"),
    "cycle.accounts_written": Boundary("a partition's holds are placed and released, the partition not yet done"),
    "cycle.partition_done": Boundary("a partition is done (the last one turns the date's run done)"),
    # the date's timers (engine/timers.py), after its cycle
    "timers.promise_judged": Boundary("one due promise is judged kept or broken"),
    "timers.dispute_escalated": Boundary("one dispute past its deadline is escalated"),
    "timers.tasks_woken": Boundary("the snoozed tasks whose date came are open again"),
    "timers.blocks_expired": Boundary("the dunning blocks that ended are expired: the timers are done"),
    # after the cycle and its timers
    "notices.rendered": Boundary("the requested messages are rendered"),
    "notices.sent": Boundary(
        "the rendered messages are sent and recorded (a worker with channels)", frozenset({WORKER})
    ),
    # the worker's day before its cycle (engine/worker.py)
    "worker.predictions_refreshed": Boundary("the payment predictions are refreshed", frozenset({WORKER})),
    "worker.kpi_taken": Boundary("the KPI snapshot of the day before is taken", frozenset({WORKER})),
}

_seen: Counter[str] = Counter()


def parse(spec: str) -> tuple[str, int]:
    """`boundary[:n]` → (boundary, n); a name not in `BOUNDARIES` or an n below 1 is a ValueError."""
    name, _, count = spec.partition(":")
    if name not in BOUNDARIES:
        raise ValueError(f"{name!r} is no crash boundary (one of: {', '.join(BOUNDARIES)})")
    n = int(count) if count else 1
    if n < 1:
        raise ValueError(f"{spec!r}: the occurrence counts from 1")
    return name, n


def reached(boundary: str) -> None:
    """The process has reached `boundary` (everything before it is committed). Dies here when
    `O2C_CRASH_AT` names it and this is the occurrence it names."""
    spec = current().crash_at
    if spec is None:
        return
    name, n = parse(spec)
    if name != boundary:
        return
    _seen[boundary] += 1
    if _seen[boundary] == n:
        os.kill(os.getpid(), signal.SIGKILL)

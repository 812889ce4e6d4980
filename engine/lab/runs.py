"""Backtests started through the API run in the background; their progress is kept here.

In memory, per process: a run is an analysis, not business data, and nothing is lost for the
portfolio when the process restarts (the run is simply gone; start it again). At most
`MAX_RUNNING` run at once: each is a full daily cycle per simulated day."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from engine.lab.simulate import Backtest, Progress
from states.errors import Conflict

log = logging.getLogger("o2c.lab")
MAX_RUNNING = 2
KEEP = 50


@dataclass
class Run:
    id: str
    status: str  # running | done | failed
    done: int = 0
    total: int = 0
    result: Backtest | None = None
    error: str | None = None


class Runs:
    def __init__(self) -> None:
        self._runs: dict[str, Run] = {}
        self._lock = threading.Lock()

    def start(self, work: Callable[[Progress], Backtest], total: int) -> Run:
        with self._lock:
            if sum(r.status == "running" for r in self._runs.values()) >= MAX_RUNNING:
                raise Conflict(f"{MAX_RUNNING} backtests are running already; wait for one to finish")
            run = Run(uuid.uuid4().hex, "running", 0, total)
            self._runs[run.id] = run
            for old in [r.id for r in self._runs.values() if r.status != "running"][:-KEEP]:
                del self._runs[old]

        def progress(done: int, _total: int) -> None:
            run.done = done

        def main() -> None:
            try:
                run.result = work(progress)
                run.status = "done"
            except Exception as exc:  # reported on the run; the process goes on
                log.exception("backtest %s failed", run.id)
                run.error, run.status = f"{type(exc).__name__}: {exc}", "failed"

        threading.Thread(target=main, name=f"backtest-{run.id[:8]}", daemon=True).start()
        return run

    def get(self, run_id: str) -> Run | None:
        with self._lock:
            return self._runs.get(run_id)


RUNS = Runs()

"""Fuzz the real server for N minutes with operations generated from the checked-in SDL.

    .venv/bin/python benchmarks/fuzz.py [--minutes 5] [--database-url URL]

Seeds a small demo portfolio into a fresh SQLite file (or the given database, which must be
empty), spawns `o2c serve` with the demo admin key, and sends valid and invalid queries and
mutations (hypothesis-graphql) until the time is up. Prints the first problems found, then the
tally: requests, HTTP 5xx, INTERNAL errors (JSON as the last line). Exits 1 if any were found.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx
from hypothesis import HealthCheck, given, settings

# This folder holds a `graphql.py` (a benchmark) that would shadow graphql-core: drop it from the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from fuzz_support import Tally, all_operations, seed_demo, send  # noqa: E402
from server_process import running_server  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/fuzz.sqlite"
        seed_demo(url)
        tally = Tally()
        deadline = time.monotonic() + args.minutes * 60
        started = time.perf_counter()
        with running_server(url) as server, httpx.Client() as client:
            # Rounds of 100 examples (each round draws new ones) until the time is up; the property
            # never fails, so hypothesis neither shrinks nor replays: every request is a new one.
            @settings(max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            @given(all_operations())
            def one_operation(query: str) -> None:
                if time.monotonic() < deadline:
                    tally.judge(query, send(client, server.url, server.key, query))

            while time.monotonic() < deadline:
                one_operation()
        seconds = time.perf_counter() - started
    for example in tally.examples:
        print(example, "\n")
    print(f"{tally.requests} requests in {seconds:.0f} s: {tally.server_errors} HTTP 5xx, {tally.internal} INTERNAL")
    print(
        json.dumps(
            {
                "requests": tally.requests,
                "server_errors": tally.server_errors,
                "internal": tally.internal,
                "seconds": round(seconds, 1),
                "requests_per_s": round(tally.requests / seconds, 1),
            }
        )
    )
    return 1 if tally.server_errors or tally.internal else 0


if __name__ == "__main__":
    raise SystemExit(main())

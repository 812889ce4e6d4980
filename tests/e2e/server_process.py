"""Start `o2c serve` in a subprocess on a free port and read the demo admin key it prints."""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import psycopg2


@dataclass(frozen=True)
class Server:
    url: str
    key: str
    database_url: str
    output: list[str] = field(default_factory=list)  # what the server printed after it started

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/graphql"

    def graphql(self, query: str, variables: dict[str, object] | None = None, key: str | None = None) -> dict:
        headers = {"Authorization": f"Bearer {key or self.key}"} if (key or self.key) else {}
        response = httpx.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, headers=headers, timeout=30
        )
        response.raise_for_status()
        return response.json()


def row_counts(database_url: str, tables: tuple[str, ...]) -> dict[str, int]:
    """Rows per table, read beside the server (what a request wrote, or did not)."""
    if database_url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(database_url[len("sqlite:///") :].split("?")[0])) as conn:
            return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
    with contextlib.closing(psycopg2.connect(database_url)) as conn, conn.cursor() as cur:
        counts = {}
        for t in tables:
            cur.execute(f"SELECT COUNT(*) FROM {t}")
            counts[t] = cur.fetchone()[0]
        return counts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(
    database_url: str, today: str = "2026-03-02", extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    port = free_port()
    env = {
        **os.environ,
        "O2C_DATABASE_URL": database_url,
        "O2C_DEMO_KEY": "1",
        "O2C_TODAY": today,
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    cmd = [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        key = ""
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("o2c_"):
                key = line.strip()
            if "serving on" in line:
                break
        # Keep reading, or a server that logs more than a pipe buffer blocks on its next write.
        output: list[str] = []
        threading.Thread(target=lambda: output.extend(proc.stdout or ()), daemon=True).start()
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
            time.sleep(0.1)
        yield Server(url, key, database_url, output)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

"""The contact cap through a cycle resumed after a kill: the messages the killed run of a date
already wrote use up the cap in the rerun (a second message on another channel stays refused) and a
line for one of them joins it free; `recent_notices` shows the messages of the dates before — what
an unbroken run decides and records."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from cycle_support import Portfolio, as_json, history, notices, rows

from engine.cycle.runner import run_cycle
from engine.service import Collections
from engine.services.context import Context
from engine.strategies_in_force import load_registry

TODAY = date(2026, 3, 2)  # the business date of the `clock` fixture

CAPPED = """\
strategy: capped
version: 1
applies_to:
  segment: [enterprise, mid_market, smb, public_sector]
  risk: [low, medium, high, critical]
settings:
  grace_days: 1
  min_amount: {EUR: 10.00}
  max_dunning_level: 3
  contact_cap: {max: 1, per_days: 7}
rules:
  - id: by-email
    when: dunning_level == 0 and days_past_due < 20
    then:
      - dun: {channel: email, template: first}
  - id: by-letter
    when: dunning_level == 0 and days_past_due >= 20
    then:
      - dun: {channel: letter, template: first}
"""


class Killed(Exception):
    """Stands for the process dying right after a chunk committed."""


def _dead_holder() -> str:
    """The partition holder name of a process of this host that is gone (its rerun reaps it)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{socket.gethostname()}:{child.pid}:killed"


def test_a_resumed_cycle_keeps_the_contact_cap_and_the_facts_of_an_unbroken_run(
    service: Collections, ctx: Context, tmp_path: Path
) -> None:
    (tmp_path / "capped.yaml").write_text(CAPPED)
    strategies = load_registry(tmp_path).current
    book = Portfolio(service, TODAY)
    book.customer("X", "smb", "low")
    book.customer("Y", "smb", "low")
    x_email = book.invoice("X", 10)
    y_first = book.invoice("Y", 5)
    x_letter = book.invoice("X", 30)  # X may hear from us once a week: its email is the one
    y_second = book.invoice("Y", 8)  # joins Y's email message, free

    def kill_after_second_chunk(chunk: int) -> None:
        if chunk == 1:
            raise Killed

    with pytest.raises(Killed):
        run_cycle(ctx, strategies, TODAY, chunk_size=1, after_chunk=kill_after_second_chunk, holder=_dead_holder())
    assert [bool(notices(ctx.store, i)) for i in (x_email, y_first, x_letter, y_second)] == [True, True, False, False]

    report = run_cycle(ctx, strategies, TODAY, chunk_size=1)

    assert report.partitions_worked == 1
    messages = rows(
        ctx.store,
        "SELECT c.external_ref, m.channel FROM notice_message m JOIN customer c ON c.id = m.customer ORDER BY 1",
    )
    assert [tuple(m) for m in messages] == [("X", "email"), ("Y", "email")]
    assert notices(ctx.store, x_letter) == []  # the cap, as the unbroken run decided it
    assert len(notices(ctx.store, y_second)) == 1
    dun = next(h for h in history(ctx.store, y_second) if h["trigger"] == "dun")
    assert as_json(dun["facts"])["recent_notices"] == 0  # the killed run's message of the date is not "recent"

"""Sending consolidated emails to a local SMTP server (aiosmtpd in this process).

A demo portfolio (SQLite, temp file) runs its daily cycle and render step (not timed); then the
timed `send_due` pass (at a time inside the customers' send windows) claims, re-checks (invoices
re-read, text rendered again), sends over SMTP (one connection per batch of 100, as the adapter
does) and records every batch. In the same run: the same pass with an adapter that sends nothing
(the engine's own cost, re-check included), the re-check alone (load + render of every message),
and the floor: the same emails sent with plain smtplib over one connection and nothing else. The
last line printed is JSON.

    .venv/bin/python benchmarks/send.py [--customers 12000]   # 32000 customers: about 10,000 emails
"""

from __future__ import annotations

import argparse
import json
import smtplib
import socket
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from engine.bootstrap import build_service
from engine.config import Settings
from engine.cycle.runner import run_cycle
from engine.demo import load_demo
from engine.notices.channels import Outgoing
from engine.notices.mail import SmtpMail, build
from engine.notices.render import load_messages, plan_message, render_pending
from engine.notices.send import send_due
from engine.notices.templates import load
from engine.store.unit_of_work import read_only
from engine.strategies_in_force import load_registry

ROOT = Path(__file__).resolve().parents[1]
DAY = date(2026, 3, 2)
# Monday 15:00 UTC: inside the 08:00-18:00 send window of the demo customers' time zones (Europe/Berlin
# 16:00, America/New_York 10:00, America/Chicago 09:00, ...). Those in Illinois and Texas wait
# (`*_waiting_for_send_window`): 2 March 2026 is Casimir Pulaski Day and Texas Independence Day there.
SEND_AT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


class Sink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        return "250 OK"


class NoSend:
    channel = "email"

    def send(self, message: Outgoing) -> str:
        return "not sent (benchmark)"

    def finish(self) -> None:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=12000)
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    folder = Path(tempfile.mkdtemp())
    result: dict[str, Any] = {}
    try:
        strategies = load_registry(ROOT / "strategies").current
        templates = load(ROOT / "templates")
        runs: dict[str, float] = {}
        for name in ("engine_no_network", "smtp"):
            settings = Settings(database_url=f"sqlite:///{folder / name}.sqlite", today=DAY.isoformat())
            service = build_service(settings)
            ctx = service.ctx
            load_demo(service, customers=args.customers, invoices=args.customers * 10)
            run_cycle(ctx, strategies, DAY)
            render_pending(ctx.store, templates, strategies, ctx.now())
            if name == "smtp":
                with read_only(ctx.store) as uow:
                    ids = [int(i) for i in uow.select("SELECT id FROM notice_message WHERE via = 'email'")]
                start = time.perf_counter()
                loaded = load_messages(ctx.store, ids)
                plans = [plan_message(templates, strategies, *m) for m in loaded]
                runs["recheck_only"] = time.perf_counter() - start
                outgoing = [
                    Outgoing(
                        p.message_id,
                        "email",
                        p.recipient.address,
                        p.rendered.subject,
                        p.rendered.text,
                        p.rendered.html,
                        None,
                        DAY,
                        "C",
                    )
                    for p in plans
                    if p.rendered is not None and p.recipient is not None and p.recipient.address
                ]
                start = time.perf_counter()
                with smtplib.SMTP("127.0.0.1", port) as smtp:
                    for m in outgoing:
                        smtp.send_message(build(m, "credit@northwind.example", None))
                runs["plain_smtplib"] = time.perf_counter() - start
                sink.count = 0
                adapter: Any = SmtpMail(f"smtp://127.0.0.1:{port}", "credit@northwind.example", None)
            else:
                adapter = NoSend()
            start = time.perf_counter()
            outcome = send_due(ctx.store, templates, strategies, {"email": adapter}, SEND_AT)
            runs[name] = time.perf_counter() - start
            result[f"{name}_sent"] = outcome.sent
            result[f"{name}_waiting_for_send_window"] = outcome.waiting
            ctx.store.disconnect()
        sent = result["smtp_sent"]
        result |= {
            "emails": sent,
            "received_by_server": sink.count,
            "send_s": round(runs["smtp"], 2),
            "emails_per_s": int(sent / runs["smtp"]),
            "engine_without_network_per_s": int(result["engine_no_network_sent"] / runs["engine_no_network"]),
            "recheck_only_s": round(runs["recheck_only"], 2),
            "recheck_share_of_send": round(runs["recheck_only"] / runs["smtp"], 3),
            "baseline_plain_smtplib_per_s": int(sent / runs["plain_smtplib"]),
        }
    finally:
        controller.stop()
    for key, value in result.items():
        print(f"{key}: {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()

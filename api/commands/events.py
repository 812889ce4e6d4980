"""`o2c events prune [--days N] [--json]` — remove outbox events older than the retention
(`O2C_EVENT_RETENTION_DAYS`, 30) that no webhook delivery still needs (engine/events/retention.py)."""

from __future__ import annotations

import argparse
import json

from engine.bootstrap import build_context
from engine.events.retention import prune


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("events", help="the event log (outbox)")
    inner = p.add_subparsers(dest="events_command", required=True)
    s = inner.add_parser("prune", help="remove events older than the retention that nothing still needs")
    s.add_argument("--days", type=int, default=None, help="retention in days (O2C_EVENT_RETENTION_DAYS, 30)")
    s.add_argument("--json", action="store_true", help="print the result as JSON")
    s.set_defaults(run=_prune)


def _prune(args: argparse.Namespace) -> int:
    ctx = build_context()
    try:
        days = args.days if args.days is not None else ctx.settings.event_retention_days
        result = prune(ctx.store, ctx.clock.now(), days)
    finally:
        ctx.store.disconnect()
    if args.json:
        print(
            json.dumps(
                {
                    "removed": result.removed,
                    "keptForWebhooks": result.kept_for_webhooks,
                    "watermark": result.watermark,
                    "cutoff": result.cutoff.isoformat(),
                    "days": days,
                }
            )
        )
    else:
        print(
            f"removed {result.removed} events older than {days} days (before {result.cutoff.isoformat()}); "
            f"kept {result.kept_for_webhooks} that webhook deliveries still need"
        )
    return 0

"""`o2c webhooks list` — the registered endpoints: state (and why disabled), failing streak, filters,
and whether the secret is sealed. Registration and changes go through the GraphQL API."""

from __future__ import annotations

import argparse

from engine.bootstrap import build_context
from engine.webhooks.endpoints import list_endpoints


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("webhooks", help="webhook endpoints")
    inner = p.add_subparsers(dest="webhooks_command", required=True)
    listing = inner.add_parser("list", help="every endpoint: state, failing streak, event types, subject filter")
    listing.set_defaults(run=_list)


def _list(_args: argparse.Namespace) -> int:
    ctx = build_context()
    endpoints = list_endpoints(ctx.store)
    if not endpoints:
        print("no webhook endpoints (register one with the registerWebhook mutation)")
    for e in endpoints:
        state = "enabled" if e.enabled else f"disabled: {e.disabled_reason}"
        failing = f"; failing since {e.failing_since:%Y-%m-%d %H:%M} UTC" if e.failing_since else ""
        print(f"{e.id:>4}  {e.url}  [{state}{failing}]")
        types = ", ".join(e.event_types) or "every type"
        sealed = "sealed" if e.sealed else "NOT sealed: run o2c db upgrade"
        print(f"      events: {types}; subjects: {e.subject_filter or 'all'}; secret {sealed}")
    return 0

"""`o2c db upgrade|version` — explicit schema steps."""

from __future__ import annotations

import argparse

from engine.config import load_settings
from engine.store.database import Store
from engine.store.upgrades import LATEST, current_version, upgrade
from engine.webhooks.endpoints import seal_stored_secrets


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="database schema")
    inner = p.add_subparsers(dest="db_command", required=True)
    up = inner.add_parser("upgrade", help="apply every pending schema step")
    up.set_defaults(run=_upgrade)
    ver = inner.add_parser("version", help="print the current and latest schema version")
    ver.set_defaults(run=_version)


def _upgrade(_args: argparse.Namespace) -> int:
    store = Store(load_settings().database_url)
    applied = upgrade(store)
    for step in applied:
        print(f"applied schema step {step.version}: {step.description}")
    sealed = seal_stored_secrets(store)
    if sealed:
        print(f"sealed {sealed} webhook secret(s) stored before encryption at rest")
    print(f"schema at version {current_version(store)} (latest {LATEST})")
    return 0


def _version(_args: argparse.Namespace) -> int:
    store = Store(load_settings().database_url)
    print(f"current {current_version(store)} latest {LATEST}")
    return 0

"""`o2c` — the command line. Each command group lives in `api/commands/<group>.py`."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from api.logs import configure as configure_logging
from engine import tracing
from engine.config import current, warn_unknown
from states.errors import DomainError

GROUPS = (
    "db",
    "states",
    "serve",
    "demo",
    "importer",
    "strategies",
    "cycle",
    "keys",
    "worker",
    "risk",
    "dispatch",
    "events",
    "predict",
    "forecast",
    "ecl",
    "kpis",
    "templates",
    "notices",
    "simulate",
    "webhooks",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="o2c", description="o2c-engine: collections for order-to-cash teams")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at debug level")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        importlib.import_module(f"api.commands.{group}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = current()  # every O2C_* variable checked before the command runs
        configure_logging(args.verbose, settings.log_format)
        tracing.configure(settings.otel_traces)
        warn_unknown()
    except DomainError as exc:
        print(f"o2c: {exc.code}: {exc.message}", file=sys.stderr)
        return 2
    logging.getLogger("transitions").setLevel(logging.WARNING)  # it logs every callback at INFO
    try:
        return int(args.run(args) or 0)
    except DomainError as exc:
        print(f"o2c: {exc.code}: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a database fault outside a unit of work (connecting, upgrading)
        from engine.store.faults import as_unavailable

        down = as_unavailable(exc)
        if down is None:
            raise
        print(f"o2c: {down.code}: {down.message}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())

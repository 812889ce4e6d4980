"""`o2c` — the command line. Each command group lives in `api/commands/<group>.py`."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

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
    "templates",
    "notices",
    "simulate",
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
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("transitions").setLevel(logging.WARNING)  # it logs every callback at INFO
    try:
        return int(args.run(args) or 0)
    except DomainError as exc:
        print(f"o2c: {exc.code}: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

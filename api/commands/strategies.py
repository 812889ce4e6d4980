"""`o2c strategies check|test [DIR]` — validate the strategy files (and that every template they name
exists), run their embedded tests."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.config import load_settings
from engine.notices.templates import load
from engine.rules import commands


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("strategies", help="check and test strategy files")
    inner = p.add_subparsers(dest="strategies_command", required=True)
    for name, helptext in (
        ("check", "validate every file (exit 1 with every error)"),
        ("test", "run the embedded tests with per-rule coverage"),
    ):
        c = inner.add_parser(name, help=helptext)
        c.add_argument("directory", nargs="?", type=Path, default=None)
        if name == "check":
            c.add_argument(
                "--templates",
                type=Path,
                default=None,
                help="templates directory every named template must exist in (default O2C_TEMPLATES_DIR)",
            )
        c.set_defaults(run=_check if name == "check" else _test)


def _dir(args: argparse.Namespace) -> Path:
    return args.directory or load_settings().strategies_dir


def _check(args: argparse.Namespace) -> int:
    templates = load(args.templates or load_settings().templates_dir)
    return commands.check(_dir(args), sys.stdout, templates.has)


def _test(args: argparse.Namespace) -> int:
    return commands.test(_dir(args), sys.stdout)

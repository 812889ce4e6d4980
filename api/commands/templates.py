"""`o2c templates check [DIR]` — every message template parses, renders a sample without an undefined
variable and exists for what the strategies send (`FILE:LINE: message`, exit 1 on any problem)."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.config import load_settings
from engine.notices.content import sample_context
from engine.notices.templates import check, print_problems
from engine.rules.directory import load_directory


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("templates", help="check the customer message templates")
    inner = p.add_subparsers(dest="templates_command", required=True)
    c = inner.add_parser("check", help="validate every template (exit 1 with every error)")
    c.add_argument("directory", nargs="?", type=Path, default=None)
    c.add_argument("--strategies", type=Path, default=None, help="strategies whose templates must exist")
    c.set_defaults(run=_check)


def _check(args: argparse.Namespace) -> int:
    settings = load_settings()
    directory = args.directory or settings.templates_dir
    loaded = load_directory(args.strategies or settings.strategies_dir)
    needed = [
        (a.param("template"), a.param("channel") or "email")
        for c in loaded.strategies
        for rule in c.strategy.rules
        for a in rule.actions
        if a.spec.notice and a.param("template")
    ]
    problems = check(directory, sample_context, needed)
    code = print_problems(problems)
    if not code:
        print(f"ok {len(list(directory.glob('*.j2')))} templates in {directory}")
    return code

"""`o2c states diagram invoice|dispute|account|task` — the mermaid diagram from the machine itself."""

from __future__ import annotations

import argparse

from states.catalog import MACHINES, machine


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("states", help="the state machines")
    inner = p.add_subparsers(dest="states_command", required=True)
    d = inner.add_parser("diagram", help="print a machine as a mermaid stateDiagram")
    d.add_argument("kind", choices=sorted(MACHINES))
    d.set_defaults(run=_diagram)


def _diagram(args: argparse.Namespace) -> int:
    print(machine(args.kind).mermaid(), end="")
    return 0

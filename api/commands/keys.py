"""`o2c keys create --role ROLE [--name NAME]` and `o2c keys revoke PREFIX`."""

from __future__ import annotations

import argparse

from engine.bootstrap import build_context
from engine.keys import ROLES, create_key, revoke_key


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("keys", help="API keys")
    inner = p.add_subparsers(dest="keys_command", required=True)
    create = inner.add_parser("create", help="create a key; it is printed once, on the last line")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--name", default="")
    create.add_argument("--collector", default=None, help="the email of the collector the key acts as")
    create.set_defaults(run=_create)
    revoke = inner.add_parser("revoke", help="revoke a key by its prefix")
    revoke.add_argument("prefix")
    revoke.set_defaults(run=_revoke)


def _create(args: argparse.Namespace) -> int:
    principal, key = create_key(build_context(), args.role, args.name, args.collector)
    print(f"created {principal.role} key '{principal.name}' (prefix {principal.prefix}); store it now:")
    print(key)
    return 0


def _revoke(args: argparse.Namespace) -> int:
    if revoke_key(build_context(), args.prefix):
        print(f"revoked key {args.prefix}")
        return 0
    print(f"no active key with prefix {args.prefix}")
    return 1

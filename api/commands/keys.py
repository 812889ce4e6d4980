"""`o2c keys create --role ROLE [--name NAME]`, `o2c keys list` and `o2c keys revoke PREFIX`."""

from __future__ import annotations

import argparse

from engine.bootstrap import build_context
from engine.keys import ROLES, create_key, list_keys, revoke_key


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("keys", help="API keys")
    inner = p.add_subparsers(dest="keys_command", required=True)
    create = inner.add_parser("create", help="create a key; it is printed once, on the last line")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--name", default="")
    create.add_argument("--collector", default=None, help="the email of the collector the key acts as")
    create.set_defaults(run=_create)
    listing = inner.add_parser("list", help="every key: prefix, role, name, created, revoked (never the secret)")
    listing.set_defaults(run=_list)
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


def _list(_args: argparse.Namespace) -> int:
    ctx = build_context()
    print(f"{'prefix':<10} {'role':<11} {'created':<17} {'revoked':<17} name")
    for key in list_keys(ctx.store):
        revoked = f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "-"
        print(f"{key.prefix:<10} {key.role:<11} {key.created_at:%Y-%m-%d %H:%M} {revoked:<17} {key.name}")
    return 0

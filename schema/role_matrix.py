"""The role matrix of docs/api.md, generated from the permission each top-level field declares:
every query, mutation and subscription with the roles that may run it. `python -m schema.export`
rewrites the table between its markers; `--check` fails when it is stale, and
tests/integration/test_graphql_auth.py reads the table back and tries every mutation with every role."""

from __future__ import annotations

import re
from pathlib import Path

import strawberry

from schema.permissions import ROLE_CAPABILITIES, Capability

DOC = Path(__file__).resolve().parent.parent / "docs" / "api.md"
START = "<!-- role-matrix:start (generated: python -m schema.export) -->"
END = "<!-- role-matrix:end -->"
ROLES = tuple(ROLE_CAPABILITIES)


def operations(schema: strawberry.Schema) -> list[tuple[str, str, Capability]]:
    """(kind, operation name, capability) of every top-level field, in schema order."""
    out: list[tuple[str, str, Capability]] = []
    for kind, root in (("query", schema.query), ("mutation", schema.mutation), ("subscription", schema.subscription)):
        if root is None:
            continue
        for field in root.__strawberry_definition__.fields:  # type: ignore[attr-defined]
            capabilities = [c.capability for c in field.permission_classes if hasattr(c, "capability")]
            if len(capabilities) != 1:
                raise ValueError(f"{kind} {field.python_name} must declare exactly one capability")
            out.append((kind, schema.config.name_converter.get_graphql_name(field), capabilities[0]))
    return out


def table(schema: strawberry.Schema) -> str:
    lines = [
        "| kind | operation | " + " | ".join(ROLES) + " |",
        "| --- | --- | " + " | ".join(":-:" for _ in ROLES) + " |",
    ]
    for kind, name, capability in operations(schema):
        marks = " | ".join("✓" if capability in ROLE_CAPABILITIES[r] else "" for r in ROLES)
        lines.append(f"| {kind} | `{name}` | {marks} |")
    return "\n".join(lines)


def rewrite(text: str, schema: strawberry.Schema) -> str:
    before, _, rest = text.partition(START)
    _, _, after = rest.partition(END)
    return f"{before}{START}\n{table(schema)}\n{END}{after}"


def read_doc(path: Path = DOC) -> dict[str, set[str]]:
    """operation -> the roles the documented table allows it."""
    allowed: dict[str, set[str]] = {}
    block = path.read_text().partition(START)[2].partition(END)[0]
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        m = re.fullmatch(r"`(\w+)`", cells[1]) if len(cells) == 2 + len(ROLES) else None
        if m:
            allowed[m.group(1)] = {r for r, cell in zip(ROLES, cells[2:], strict=True) if cell == "✓"}
    return allowed

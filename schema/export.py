"""`python -m schema.export [PATH]`: write the SDL (default `schema.graphql`) and the role matrix
of docs/api.md; `--check` fails when either checked-in file is stale."""

from __future__ import annotations

import sys
from pathlib import Path

from strawberry.printer import print_schema

from schema import role_matrix
from schema.build import build_schema

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "schema.graphql"


def sdl() -> str:
    return print_schema(build_schema()) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = [a for a in argv if not a.startswith("--")]
    path = Path(paths[0]) if paths else DEFAULT_PATH
    text = sdl()
    doc = role_matrix.DOC.read_text()
    matrix = role_matrix.rewrite(doc, build_schema())
    if check:
        fresh = {path: path.exists() and path.read_text() == text, role_matrix.DOC: doc == matrix}
        stale = [p for p, ok in fresh.items() if not ok]
        for p in stale:
            print(f"{p} is stale: run `python -m schema.export`", file=sys.stderr)
        return 1 if stale else 0
    path.write_text(text)
    role_matrix.DOC.write_text(matrix)
    print(f"wrote {path} and the role matrix of {role_matrix.DOC.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

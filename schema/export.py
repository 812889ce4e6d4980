"""`python -m schema.export [PATH]`: write the SDL (default `schema.graphql`); `--check` fails
when the checked-in file is stale."""

from __future__ import annotations

import sys
from pathlib import Path

from strawberry.printer import print_schema

from schema.build import build_schema

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "schema.graphql"


def sdl() -> str:
    return print_schema(build_schema()) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = [a for a in argv if not a.startswith("--")]
    path = Path(paths[0]) if paths else DEFAULT_PATH
    text = sdl()
    if check:
        if not path.exists() or path.read_text() != text:
            print(f"{path} is stale: run `python -m schema.export`", file=sys.stderr)
            return 1
        return 0
    path.write_text(text)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

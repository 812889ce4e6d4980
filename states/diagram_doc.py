"""Prints docs/state-machines.md from the machines themselves (`make diagrams`)."""

from __future__ import annotations

from states.catalog import MACHINES


def render() -> str:
    parts = [
        "# State machines",
        "",
        "Generated from `states/` by `make diagrams` (`python -m states.diagram_doc`); a test fails when",
        "this file is stale. `o2c states diagram KIND` prints one diagram (KIND: a heading below).",
        "",
    ]
    for kind, wf in MACHINES.items():
        parts += [f"## {kind}", "", f"Final states: {', '.join(sorted(wf.terminal)) or 'none'}.", ""]
        parts += ["```mermaid", wf.mermaid().rstrip(), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")

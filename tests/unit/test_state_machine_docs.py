"""docs/state-machines.md is generated from the machines, and the CLI prints each diagram."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.cli import main
from states import diagram_doc
from states.catalog import MACHINES

DOC = Path(__file__).resolve().parents[2] / "docs" / "state-machines.md"


def test_the_state_machine_document_is_the_one_generated_from_the_code() -> None:
    assert DOC.read_text(encoding="utf-8") == diagram_doc.render(), (
        "docs/state-machines.md is stale: run `make diagrams`"
    )


def test_the_document_shows_every_machine_as_a_mermaid_diagram() -> None:
    text = DOC.read_text(encoding="utf-8")
    for kind, workflow in MACHINES.items():
        assert f"## {kind}" in text
        assert "```mermaid\n" + workflow.mermaid() + "```" in text


def test_the_invoice_diagram_draws_every_transition_of_the_machine() -> None:
    diagram = MACHINES["invoice"].mermaid()
    assert diagram.startswith("stateDiagram-v2\n")
    assert "  [*] --> open\n" in diagram
    assert "  paid --> overdue: reopen [past due, level 0]\n" in diagram
    assert "  dunning --> dunning: dun [next level <= max]\n" in diagram
    edges = {line.split(":")[0].strip() for line in diagram.splitlines() if ":" in line}
    for state in MACHINES["invoice"].states:
        for trigger in MACHINES["invoice"].triggers_from(state):
            for dest in MACHINES["invoice"].destinations(state, trigger):
                assert f"{state} --> {dest}" in edges


@pytest.mark.parametrize("kind", sorted(MACHINES))
def test_o2c_states_diagram_prints_the_mermaid_of_the_named_machine(
    kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["states", "diagram", kind]) == 0
    assert capsys.readouterr().out == MACHINES[kind].mermaid()


def test_o2c_states_diagram_refuses_an_unknown_machine(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["states", "diagram", "order"])
    assert caught.value.code == 2
    assert "invalid choice: 'order'" in capsys.readouterr().err

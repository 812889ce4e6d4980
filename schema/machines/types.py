"""The state machines as data: states, transitions and a mermaid diagram."""

from enum import Enum

import strawberry

from states.workflow import Workflow


@strawberry.enum
class MachineKind(Enum):
    INVOICE = "invoice"
    DISPUTE = "dispute"
    ACCOUNT = "account"
    BANK_TRANSACTION = "bank_transaction"
    NOTICE = "notice"


@strawberry.type
class MachineTransition:
    trigger: str
    source: str = strawberry.field(name="from")
    target: str = strawberry.field(name="to")
    label: str | None


@strawberry.type
class StateMachine:
    kind: MachineKind
    initial: str
    states: list[str]
    terminal: list[str]
    transitions: list[MachineTransition]
    mermaid: str = strawberry.field(description="A mermaid stateDiagram-v2 generated from the rules.")

    @staticmethod
    def of(kind: MachineKind, w: Workflow) -> "StateMachine":
        transitions = [
            MachineTransition(trigger=r.trigger, source=src, target=r.dest or src, label=r.label or None)
            for r in w.rules
            for src in r.sources
        ]
        return StateMachine(
            kind=kind,
            initial=w.initial,
            states=list(w.states),
            terminal=sorted(w.terminal),
            transitions=transitions,
            mermaid=w.mermaid(),
        )

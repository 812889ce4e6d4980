"""A thin wrapper around one shared `transitions.Machine` per workflow.

The machine is never attached to objects (LIBRARIES.md: one machine per object costs ~40 KB and
`add_model` is super-linear). A subject is any object with a `state` attribute; `fire` runs the
trigger on it and raises `InvalidTransition` instead of returning False.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from transitions import EventData, Machine, MachineError

from states.errors import InvalidTransition

Guard = Callable[[EventData], bool]


class Subject(Protocol):
    state: str


@dataclass(frozen=True)
class Rule:
    """One transition: `trigger` moves `sources` to `dest` when every guard holds."""

    trigger: str
    sources: Sequence[str]
    dest: str | None  # None: internal transition (state stays, effects run)
    guards: Sequence[Guard] = ()
    effects: Sequence[Callable[[EventData], None]] = ()
    label: str = ""
    why_refused: str = ""


@dataclass
class Workflow:
    kind: str
    states: Sequence[str]
    initial: str
    terminal: frozenset[str]
    rules: Sequence[Rule]
    machine: Machine = field(init=False)

    def __post_init__(self) -> None:
        self.machine = Machine(
            model=None,
            states=list(self.states),
            initial=self.initial,
            transitions=[self._as_dict(r) for r in self.rules],
            send_event=True,
            auto_transitions=False,
        )

    @staticmethod
    def _as_dict(rule: Rule) -> dict[str, Any]:
        return {
            "trigger": rule.trigger,
            "source": list(rule.sources),
            "dest": rule.dest,
            "conditions": list(rule.guards),
            "after": list(rule.effects),
        }

    @property
    def triggers(self) -> list[str]:
        return sorted({r.trigger for r in self.rules})

    def triggers_from(self, state: str) -> set[str]:
        """Triggers that some transition allows from `state` (guards aside)."""
        return {r.trigger for r in self.rules if state in r.sources}

    def destinations(self, state: str, trigger: str) -> set[str]:
        return {r.dest or state for r in self.rules if r.trigger == trigger and state in r.sources}

    def fire(self, subject: Subject, trigger: str, entity_id: object = "", **context: Any) -> tuple[str, str]:
        """Run `trigger` on `subject`; return (from_state, to_state) or raise InvalidTransition."""
        before = subject.state
        if trigger not in self.machine.events:
            raise InvalidTransition(self.kind, entity_id, before, trigger, "no such trigger")
        if before in self.terminal and trigger not in self.triggers_from(before):
            raise InvalidTransition(self.kind, entity_id, before, trigger, f"'{before}' is final")
        try:
            moved = self.machine.events[trigger].trigger(subject, **context)
        except MachineError as exc:
            raise InvalidTransition(self.kind, entity_id, before, trigger, "not allowed from this state") from exc
        if not moved:
            reasons = [r.why_refused for r in self.rules if r.trigger == trigger and before in r.sources]
            why = "; ".join(sorted({r for r in reasons if r})) or "a guard refused it"
            raise InvalidTransition(self.kind, entity_id, before, trigger, why)
        return before, subject.state

    def mermaid(self) -> str:
        """The machine as a mermaid `stateDiagram-v2`, generated from the same rules."""
        lines = ["stateDiagram-v2", "  direction LR", f"  [*] --> {self.initial}"]
        for rule in self.rules:
            label = rule.trigger + (f" [{rule.label}]" if rule.label else "")
            for src in rule.sources:
                lines.append(f"  {src} --> {rule.dest or src}: {label}")
        for state in sorted(self.terminal):
            lines.append(f"  {state} --> [*]")
        return "\n".join(lines) + "\n"

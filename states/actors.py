"""Who caused a change: a person, a rule, a payment, a timer, an import, the system."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KINDS = ("user", "rule", "payment", "timer", "import", "system")


@dataclass(frozen=True)
class Actor:
    kind: str
    name: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown actor kind {self.kind!r}")

    @property
    def is_person(self) -> bool:
        return self.kind == "user"

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"

    def cause(self) -> dict[str, Any]:
        """The default cause of a change this actor makes (rules supply a richer one)."""
        return {"kind": self.kind, "name": self.name}


SYSTEM = Actor("system", "o2c")


def person(name: str) -> Actor:
    return Actor("user", name)

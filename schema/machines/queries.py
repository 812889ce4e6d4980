"""`stateMachine(kind)`."""

from __future__ import annotations

import strawberry

from schema.machines.types import MachineKind, StateMachine
from schema.permissions import CanRead
from states.catalog import machine


@strawberry.type
class MachineQueries:
    @strawberry.field(permission_classes=[CanRead])
    def state_machine(self, kind: MachineKind) -> StateMachine:
        # No I/O: the machines are module-level data, so a sync resolver blocks nothing.
        return StateMachine.of(kind, machine(kind.value))

"""History: every transition with its cause, the facts evaluated and a readable explanation."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from engine.queries.history import explain
from engine.views import TransitionView
from states.errors import ValidationFailed


@strawberry.enum(description="The kinds of entity whose history is kept.")
class EntityKind(Enum):
    INVOICE = "invoice"
    DISPUTE = "dispute"
    ACCOUNT = "account"
    NOTICE = "notice"
    TASK = "task"
    DUNNING_BLOCK = "dunning_block"
    WRITE_OFF = "write_off"


@strawberry.type(description="One transition of a state machine, as recorded (append-only).")
class Transition:
    id: strawberry.ID
    entity_type: str
    entity_id: strawberry.ID
    entity_version: int
    from_state: str | None
    to_state: str
    trigger: str
    actor: str
    cause: JSON = strawberry.field(description="Who or what caused it: a person, or rule + strategy.")
    facts: JSON = strawberry.field(description="The facts evaluated when it happened.")
    reason: str | None
    at: datetime
    explanation: str = strawberry.field(description="One sentence a person understands.")

    @staticmethod
    def of(t: TransitionView) -> Transition:
        return Transition(
            id=strawberry.ID(str(t.id)),
            entity_type=t.entity_type,
            entity_id=strawberry.ID(str(t.entity_id)),
            entity_version=t.entity_version,
            from_state=t.from_state,
            to_state=t.to_state,
            trigger=t.trigger,
            actor=t.actor,
            cause=JSON(t.cause),
            facts=JSON(t.facts),
            reason=t.reason,
            at=t.at,
            explanation=explain(t),
        )


MAX_HISTORY = 100


def check_last(last: int) -> int:
    if not 1 <= last <= MAX_HISTORY:
        raise ValidationFailed(f"last must be between 1 and {MAX_HISTORY}", "last")
    return last

"""Domain errors. Every entry point maps these to its own surface (GraphQL code, CLI exit)."""

from __future__ import annotations


def camel(name: str) -> str:
    """`external_ref` -> `externalRef`: a field as the API names it."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class DomainError(Exception):
    """Base of every error a user can cause. `code` is the stable, machine-readable kind."""

    code = "DOMAIN_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(DomainError):
    code = "VALIDATION_FAILED"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    def under(self, prefix: str) -> ValidationFailed:
        """The same error with its field inside `prefix` (e.g. `allocations[1]` -> `allocations[1].amount`)."""
        return ValidationFailed(self.message, f"{prefix}.{self.field}" if self.field else prefix)


class NotFound(DomainError):
    code = "NOT_FOUND"


class Conflict(DomainError):
    """A concurrent change won; the caller may retry with fresh data."""

    code = "CONFLICT"


class Unavailable(DomainError):
    """The database (or another dependency) cannot serve the request now; nothing was written."""

    code = "UNAVAILABLE"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class InvalidTransition(DomainError):
    """A trigger that the machine does not allow from the entity's current state."""

    code = "INVALID_TRANSITION"

    def __init__(self, entity: str, entity_id: object, state: str, trigger: str, why: str = "") -> None:
        detail = f": {why}" if why else ""
        super().__init__(f"{entity} {entity_id} in state '{state}' cannot '{trigger}'{detail}")
        self.entity = entity
        self.entity_id = entity_id
        self.state = state
        self.trigger = trigger
        self.why = why

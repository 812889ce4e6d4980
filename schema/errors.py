"""Errors on the GraphQL surface: every domain error carries `extensions.code`; anything
unexpected is masked as INTERNAL with a correlation id that is also in the server log."""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql import FieldNode, GraphQLError
from strawberry.extensions import MaskErrors

from engine.log_context import current_correlation_id
from states.errors import DomainError, ValidationFailed, camel

log = logging.getLogger("o2c.api.errors")

INTERNAL = "INTERNAL"
UNAUTHENTICATED = "UNAUTHENTICATED"
# Errors graphql-core raises before execution (syntax, validation, depth/token/alias limits).
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


class Unauthenticated(DomainError):
    code = UNAUTHENTICATED


def _code_of(error: GraphQLError) -> str | None:
    original = error.original_error
    if isinstance(original, DomainError):
        return original.code
    if error.extensions and "code" in error.extensions:
        return str(error.extensions["code"])
    if original is None:
        return GRAPHQL_VALIDATION_FAILED
    if isinstance(original, GraphQLError):  # e.g. an invalid variable value
        return GRAPHQL_VALIDATION_FAILED
    return None


def is_unexpected(error: GraphQLError) -> bool:
    """The masking predicate: mask only what no code describes."""
    return _code_of(error) is None


class ErrorCodes(MaskErrors):
    """MaskErrors with a predicate; known errors gain `extensions.code` (and `field`)."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message="Internal error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        correlation_id = current_correlation_id()  # the request's: every line it logged carries it
        original = error.original_error
        log.error(
            "unexpected error %s at %s",
            correlation_id,
            ".".join(str(p) for p in error.path or ()),
            exc_info=(type(original), original, original.__traceback__) if original else None,
        )
        return GraphQLError(
            f"Internal error; quote correlation id {correlation_id} when reporting it.",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": INTERNAL, "correlationId": correlation_id},
        )

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [self._with_code(e) for e in super()._process_errors(errors)]

    @staticmethod
    def _with_code(error: GraphQLError) -> GraphQLError:
        code = _code_of(error)
        extensions: dict[str, Any] = dict(error.extensions or {})
        if code is not None and "code" not in extensions:
            extensions["code"] = code
            original = error.original_error
            if isinstance(original, ValidationFailed) and original.field:
                extensions["field"] = client_path(original.field, error)
            error.extensions = extensions
        return error


def client_path(field: str, error: GraphQLError) -> str:
    """The field as the client wrote it: camelCase segments (`payment_terms_days` ->
    `paymentTermsDays`), inside the operation's `input` argument when it has one and the field
    does not already start at one of its arguments (`input.allocations[1].amount`)."""
    path = ".".join(camel(segment) for segment in field.split("."))
    node = error.nodes[0] if error.nodes else None
    arguments = {a.name.value for a in node.arguments or ()} if isinstance(node, FieldNode) else set()
    head = re.split(r"[.\[]", path, maxsplit=1)[0]
    if "input" in arguments and head not in arguments:
        return f"input.{path}"
    return path

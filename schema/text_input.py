"""No text the API takes may hold a NUL character (U+0000). PostgreSQL refuses NUL in text ("A string
literal cannot contain NUL (0x00) characters") and SQLite cuts or keeps it depending on the reader,
so a name, reference, note, search text, filter or strategy file with one is refused before anything
runs: VALIDATION_FAILED naming the argument as the client wrote it (`input.name`,
`filter.segment[1]`), nothing written — the same answer on both databases, whatever the field.

Checked once per operation — query, mutation or subscription, over HTTP or WebSocket — over the
document's arguments and the variables they use, before the document is validated: it costs nothing
per resolved field."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    Visitor,
    visit,
)
from strawberry.extensions import SchemaExtension

from states.errors import ValidationFailed

NUL = "\x00"


@dataclass(frozen=True)
class Nul:
    """Where a NUL sits: the argument as the client wrote it, and the text holding it."""

    path: str
    text: str

    @property
    def message(self) -> str:
        """Names the argument; in a text of several lines (a statement, a strategy file) also the line."""
        where = ""
        if "\n" in self.text:
            at = self.text.index(NUL)
            line, column = self.text.count("\n", 0, at) + 1, at - (self.text.rfind("\n", 0, at) + 1) + 1
            where = f" (line {line}, column {column})"
        return f"{self.path} must not contain a NUL (U+0000) character{where}"


def nul_path(value: object, path: str) -> Nul | None:
    """The first text inside `value` (a variable's JSON value) holding NUL."""
    if isinstance(value, str):
        return Nul(path, value) if NUL in value else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = nul_path(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    elif isinstance(value, list | tuple):
        for n, item in enumerate(value):
            found = nul_path(item, f"{path}[{n}]")
            if found:
                return found
    return None


def nul_argument(document: DocumentNode, variables: Mapping[str, Any] | None) -> Nul | None:
    """The first field argument of `document` whose text (written inline or sent as a variable) holds NUL."""
    given = dict(variables or {})
    for definition in document.definitions:  # a variable not sent takes its default
        if isinstance(definition, OperationDefinitionNode):
            for var in definition.variable_definitions or ():
                if var.variable.name.value not in given and var.default_value is not None:
                    given[var.variable.name.value] = var.default_value
    finder = _FirstNul(given)
    visit(document, finder)
    return finder.found


class _FirstNul(Visitor):
    def __init__(self, variables: Mapping[str, Any]) -> None:
        super().__init__()
        self.variables = variables
        self.found: Nul | None = None

    def enter_field(self, node: FieldNode, *_: Any) -> Any:
        for argument in node.arguments or ():
            if self.found is None:
                self.found = self._in(argument.value, argument.name.value)
        return Visitor.BREAK if self.found else None

    def _in(self, node: ValueNode | Any, path: str) -> Nul | None:
        if isinstance(node, VariableNode):
            value = self.variables.get(node.name.value)
            return self._in(value, path) if isinstance(value, ValueNode) else nul_path(value, path)
        if isinstance(node, StringValueNode):
            return Nul(path, node.value) if NUL in node.value else None
        if isinstance(node, ObjectValueNode):
            return next(filter(None, (self._in(f.value, f"{path}.{f.name.value}") for f in node.fields)), None)
        if isinstance(node, ListValueNode):
            return next(filter(None, (self._in(v, f"{path}[{n}]") for n, v in enumerate(node.values))), None)
        return None


class NoNulInText(SchemaExtension):
    """The check, before the document is validated or any resolver runs, for every operation and
    transport alike: a pre-execution error is what graphql-core answers without executing — over
    HTTP a `{"data": null, "errors": [...]}` body, over graphql-transport-ws an `error` message for
    that operation (the socket stays open). A check at `on_execute` would not hold there: strawberry
    subscribes whatever result an extension set."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        found = nul_argument(document, context.variables) if document is not None else None
        if found:  # set before validation: graphql-core then neither validates nor runs the operation
            refused = ValidationFailed(found.message, found.path)
            extensions = {"code": refused.code, "field": found.path}
            error = GraphQLError(refused.message, original_error=refused, extensions=extensions)
            context.pre_execution_errors = [error]
        yield

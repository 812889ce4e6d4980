"""A document with several operations must say which one to run (`operationName`), as the GraphQL
spec requires; strawberry would otherwise run the first one."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from schema.errors import GRAPHQL_VALIDATION_FAILED


class OneOperationOrName(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        # What the request named (`operation_name` falls back to the first operation's name).
        provided = getattr(context, "_provided_operation_name", None)
        if document is not None and provided is None:
            count = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
            if count > 1:
                context.pre_execution_errors = [
                    GraphQLError(
                        f"The document has {count} operations; name the one to run in `operationName`.",
                        extensions={"code": GRAPHQL_VALIDATION_FAILED},
                    )
                ]
        yield

"""GraphQL over HTTP media types (the GraphQL-over-HTTP spec): a client that accepts
`application/graphql-response+json` gets it, and with it the spec's status codes — 400 and no `data`
entry when the request failed before execution (a document that does not parse or validate, variables
that do not coerce). Other clients keep `application/json` and its always-200 answers."""

from __future__ import annotations

from graphql import GraphQLError

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def negotiate(accept: str | None) -> str:
    """The media type of the answer: `application/graphql-response+json` when the Accept header lists
    it (with a non-zero q) ahead of or equal to `application/json`; otherwise the legacy `application/json`."""
    best: dict[str, float] = {}
    for part in (accept or "").split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        best[media.lower()] = max(quality, best.get(media.lower(), 0.0))
    wanted = best.get(GRAPHQL_RESPONSE, 0.0)
    return GRAPHQL_RESPONSE if wanted > 0 and wanted >= best.get(JSON, 0.0) else JSON


def is_request_error(data: object, errors: list[GraphQLError] | None) -> bool:
    """Execution never started: no data and only errors without a path (parse, validation, variables).
    A field error that nulls the whole result carries its path and is an execution error (200)."""
    return data is None and bool(errors) and all(not error.path for error in errors or ())

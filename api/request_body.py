"""What a GraphQL-over-HTTP body must be before anything reads it: UTF-8 JSON, an object (or a
list, which strawberry refuses as a batch), nested no deeper than a person's variables ever are.
Anything else is HTTP 400 naming the problem — never an internal error."""

from __future__ import annotations

import json
from typing import Any

from cross_web import HTTPException

MAX_NESTING = 64


def decode_body(data: str | bytes) -> Any:
    try:
        value = json.loads(data)
    except UnicodeDecodeError:
        raise HTTPException(400, "The request body is not UTF-8") from None
    except RecursionError:
        raise HTTPException(400, f"The request body is nested deeper than {MAX_NESTING} levels") from None
    except ValueError:
        raise HTTPException(400, "Unable to parse request body as JSON") from None
    if not isinstance(value, dict | list):
        raise HTTPException(400, "The request body must be a JSON object with a `query`")
    if _deeper_than(value, MAX_NESTING):
        raise HTTPException(400, f"The request body is nested deeper than {MAX_NESTING} levels")
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    level: list[Any] = [value]
    for _ in range(limit + 1):
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, dict) else node if isinstance(node, list) else ())
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True

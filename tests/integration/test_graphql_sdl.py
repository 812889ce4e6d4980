"""The checked-in `schema.graphql` is the schema the code builds."""

from __future__ import annotations

from pathlib import Path

from schema.export import DEFAULT_PATH, sdl


def test_checked_in_sdl_matches_the_schema() -> None:
    assert Path(DEFAULT_PATH).read_text() == sdl(), "schema.graphql is stale: run `python -m schema.export`"

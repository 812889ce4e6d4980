"""The API's database thread pool is sized by O2C_THREADS: the connection budget of one process."""

from __future__ import annotations

import asyncio
from pathlib import Path

import anyio.to_thread
import pytest

from api.app import Background, create_app
from engine.config import load_settings
from states.errors import ValidationFailed


def test_starting_the_app_sizes_the_database_thread_pool_from_o2c_threads(tmp_path: Path) -> None:
    settings = load_settings({"O2C_DATABASE_URL": f"sqlite:///{tmp_path}/o2c.sqlite", "O2C_THREADS": "7"})
    app = create_app(settings, background=Background(scheduler=False, hot_reload=False))

    async def tokens_while_running() -> float:
        async with app.router.lifespan_context(app):
            return anyio.to_thread.current_default_thread_limiter().total_tokens

    assert asyncio.run(tokens_while_running()) == 7


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_a_thread_budget_below_one_or_not_a_number_stops_the_process_at_start(value: str) -> None:
    with pytest.raises(ValidationFailed, match="O2C_THREADS"):
        load_settings({"O2C_THREADS": value})

"""Load the strategy set a process runs with, failing closed with every problem listed."""

from __future__ import annotations

from pathlib import Path

from engine.rules.registry import Registry
from states.errors import ValidationFailed


def load_registry(directory: Path) -> Registry:
    registry = Registry(directory)
    result = registry.reload()
    if not result.ok:
        raise ValidationFailed("strategies are invalid:\n" + "\n".join(result.messages))
    return registry

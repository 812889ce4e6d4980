"""Where policy files are, and reading one once per change (its modification time)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from threading import Lock
from typing import TypeVar

from engine.rules.errors import StrategyError
from states.errors import ValidationFailed

T = TypeVar("T")
DEFAULT_DIR = Path("policy")
_CACHE: dict[tuple[str, str], tuple[float, object]] = {}
_LOCK = Lock()


def policy_path(directory: Path, name: str) -> Path:
    """`O2C_POLICY_DIR/name` (`Settings.policy_dir`, default `policy/`)."""
    return directory / name


def cached(path: Path, kind: str, read: Callable[[str, str], T]) -> T:
    """`read(text, file)` of `path`, kept until the file changes."""
    mtime = path.stat().st_mtime
    key = (str(path.resolve()), kind)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit[0] == mtime:
            return hit[1]  # type: ignore[return-value]
    try:
        value = read(path.read_text(encoding="utf-8"), str(path))
    except UnicodeDecodeError as exc:
        raise ValidationFailed(f"{path}:1: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except StrategyError as exc:  # an operator's broken file: a typed error wherever it is read, not INTERNAL
        raise ValidationFailed("; ".join(str(p) for p in exc.problems)) from None
    with _LOCK:
        _CACHE[key] = (mtime, value)
    return value

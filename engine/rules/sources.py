"""The text of each strategy in force, as it was when loaded.

A `Strategy` keeps its file's path and content hash, not its text. The text is read from disk and
kept only when its SHA-256 matches the hash in force, so `source` never shows an edit that is not
(or not yet) in force. Content-addressed: safe to share between registries of one process.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from engine.rules.compiler import CompiledStrategy
from engine.rules.registry import StrategySet

_TEXTS: dict[str, str] = {}
_LOCK = threading.Lock()


def _read_matching(file: str, content_hash: str) -> str | None:
    try:
        raw = Path(file).read_bytes()
    except OSError:
        return None
    if hashlib.sha256(raw).hexdigest() != content_hash:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def remember(strategies: StrategySet) -> None:
    """Keep the texts of a set just loaded (call right after a successful reload). Blocking I/O."""
    found = {c.content_hash: _read_matching(c.strategy.file, c.content_hash) for c in strategies.strategies}
    with _LOCK:
        _TEXTS.clear()  # only the set in force is kept; anything else is re-read on demand
        _TEXTS.update({digest: text for digest, text in found.items() if text is not None})


def cached(compiled: CompiledStrategy) -> str | None:
    """The remembered text, without I/O."""
    with _LOCK:
        return _TEXTS.get(compiled.content_hash)


def source_of(compiled: CompiledStrategy) -> str | None:
    """The text in force, or None when it was not remembered and the file on disk has changed.
    May read the file: call it off the event loop."""
    text = cached(compiled)
    if text is None:
        text = _read_matching(compiled.strategy.file, compiled.content_hash)
        if text is not None:
            with _LOCK:
                _TEXTS[compiled.content_hash] = text
    return text

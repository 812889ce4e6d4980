"""The attachment policy: the largest file and the types accepted."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.policy.files import DEFAULT_DIR, cached, policy_path
from engine.rules.errors import Loc, Problem, StrategyError
from engine.rules.yamlread import Reader
from engine.rules.yamlsrc import compose

FILE = "attachments.yaml"
LARGEST = 100 * 1024 * 1024


@dataclass(frozen=True)
class AttachmentPolicy:
    max_bytes: int
    types: tuple[str, ...]


def read_attachment_policy(text: str, file: str) -> AttachmentPolicy:
    root = compose(text, file)
    if root is None:
        raise StrategyError([Problem(Loc(file, 1, 1), "the file is empty")])
    r = Reader(file, text)
    top = r.mapping(root, "the attachment policy", ("max_bytes", "types"))
    size = r.integer(top["max_bytes"][1], "max_bytes", 1, LARGEST) if top and "max_bytes" in top else None
    types: list[str] = []
    for node in (r.seq(top["types"][1], "types") or []) if top and "types" in top else []:
        value = r.name(node, "a type", r"[a-z]+/[a-z0-9.+\-]+")
        if value is not None:
            types.append(value)
    if r.problems or size is None or not types:
        raise StrategyError(r.problems or [Problem(Loc(file, 1, 1), "max_bytes and types are required")])
    return AttachmentPolicy(size, tuple(types))


def attachment_policy(directory: Path = DEFAULT_DIR) -> AttachmentPolicy:
    return cached(policy_path(directory, FILE), "attachments", read_attachment_policy)

"""Stored files (attachments): the one home of `filetype` (type sniffing) and of the local file
directory (`O2C_FILES_DIR`, default `data/files`). Files are written under their SHA-256, so the
same bytes are stored once and a name a user gives never becomes a path."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import filetype

from engine.policy.attachments import AttachmentPolicy
from states.errors import ValidationFailed

TEXT_TYPES = ("text/plain", "text/csv", "message/rfc822")


@dataclass(frozen=True)
class StoredFile:
    content_type: str
    size: int
    sha256: str
    path: str  # relative to the files directory


def sniff(content: bytes, declared: str) -> str:
    """The type the bytes are. Binary formats by their signature; text (no signature) only when
    it is UTF-8 without NUL bytes, then the declared text type is believed."""
    found = filetype.guess_mime(content)
    if found:
        return str(found)
    if b"\x00" not in content:
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            return "application/octet-stream"
        return declared if declared in TEXT_TYPES else "text/plain"
    return "application/octet-stream"


def check(content: bytes, declared: str, policy: AttachmentPolicy) -> str:
    """The content type to record, or ValidationFailed (too large, empty, a refused type)."""
    if not content:
        raise ValidationFailed("the file is empty", "content")
    if len(content) > policy.max_bytes:
        raise ValidationFailed(f"the file has {len(content)} bytes; at most {policy.max_bytes} are accepted", "content")
    kind = sniff(content, declared)
    if kind not in policy.types:
        raise ValidationFailed(f"files of type {kind} are not accepted; one of {', '.join(policy.types)}", "content")
    return kind


def store_file(root: Path, content: bytes, kind: str) -> StoredFile:
    """Write the bytes (atomically: a temporary name, then a rename) under their digest."""
    digest = hashlib.sha256(content).hexdigest()
    relative = Path(digest[:2]) / digest
    target = root / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(f".{os.getpid()}.part")
        temporary.write_bytes(content)
        temporary.replace(target)
    return StoredFile(kind, len(content), digest, str(relative))


def read_file(root: Path, relative: str) -> bytes:
    return (root / relative).read_bytes()

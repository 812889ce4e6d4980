"""Webhook signing secrets at rest: sealed with Fernet (the `cryptography` package; AES-128-CBC and
HMAC-SHA256) under the service's key, so a copy of the database alone cannot sign as the service.

The key is `O2C_SECRET_KEY` (a Fernet key: `python -c "from cryptography.fernet import Fernet;
print(Fernet.generate_key().decode())"`). Without it, the single box keeps one in the file
`O2C_SECRET_KEY_FILE` (`data/secret.key`), generated on first use — every process that shares a
database must use the same key, so a scaled deployment sets `O2C_SECRET_KEY` in each process."""

from __future__ import annotations

import os
from functools import cache

from cryptography.fernet import Fernet, InvalidToken

from engine.config import current
from states.errors import ValidationFailed

PREFIX = "fernet:"


def _key() -> str:
    settings = current()  # sealing runs deep in services and upgrades, without a context at hand
    if settings.secret_key and settings.secret_key.strip():
        return settings.secret_key.strip()
    path = settings.secret_key_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # exclusive create: two processes starting together keep the first one's key
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
                out.write(Fernet.generate_key().decode() + "\n")
        except FileExistsError:
            pass
    return path.read_text().strip()


@cache
def _fernet(key: str) -> Fernet:
    try:
        return Fernet(key.encode())
    except ValueError:
        raise ValidationFailed("O2C_SECRET_KEY is not a Fernet key (32 url-safe base64-encoded bytes)") from None


def seal(secret: str) -> str:
    return PREFIX + _fernet(_key()).encrypt(secret.encode()).decode()


def unseal(stored: str) -> str:
    """The secret; a value stored before sealing existed is returned as it is (`o2c db upgrade` seals it)."""
    if not stored.startswith(PREFIX):
        return stored
    try:
        return _fernet(_key()).decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise ValidationFailed(
            "a webhook secret cannot be decrypted: this process's O2C_SECRET_KEY is not the key it was sealed with"
        ) from None


def is_sealed(stored: str | None) -> bool:
    return bool(stored) and str(stored).startswith(PREFIX)

"""Settings from environment variables prefixed `O2C_`. Read once, when the process wires itself."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from states.errors import ValidationFailed

DEFAULT_DATABASE_URL = "sqlite:///data/o2c.sqlite"
N = TypeVar("N", int, float)


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    timezone: str = "UTC"
    strategies_dir: Path = Path("strategies")
    cash_policy: Path = Path("policy/cash-application.yaml")  # docs/cash-application.md
    templates_dir: Path = Path("templates")  # customer messages (engine/notices/templates.py)
    host: str = "127.0.0.1"
    port: int = 8000
    # Promise-to-pay tolerance: a promise is judged this many days after its date.
    promise_tolerance_days: int = 2
    max_dunning_level: int = 5
    source: str = "urn:o2c-engine"
    today: str | None = None  # ISO date that pins the business date (simulations, demos)
    threads: int = 40  # worker threads of one API process = its database connections (Pony: one per thread)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _int(env: dict[str, str], key: str, default: int) -> int:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValidationFailed(f"{key}={raw!r} is not an integer") from None


def positive(env: Mapping[str, str], key: str, default: N, kind: type[N] | None = None) -> N:
    """`O2C_*` number above zero (`kind` int or float, the default's type if not given); unset or
    empty gives `default`; anything else stops the process at start, naming the variable."""
    raw = env.get(key, "")
    if raw is None or not str(raw).strip():
        return default
    make = kind or type(default)
    try:
        value = make(str(raw).strip())
    except ValueError:
        value = make(0)
    if value <= 0:
        what = "a whole number, at least 1" if make is int else "a number above 0"
        raise ValidationFailed(f"{key}={raw!r}: {what}")
    return value


OFF = ("0", "false", "no", "off")


def switched_on(env: Mapping[str, str], key: str) -> bool:
    """An on/off `O2C_*` switch, on unless set to 0, false, no or off."""
    return str(env.get(key, "1")).strip().lower() not in OFF


def time_of_day(env: Mapping[str, str], key: str, default: str, flag: str | None = None) -> time:
    """`HH:MM` from a flag or an `O2C_*` variable; anything else stops the process at start."""
    raw = flag or env.get(key, default)
    try:
        return time.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(f"{key}={raw!r} is not a time of day (HH:MM)") from None


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build settings from `O2C_*` variables; unknown values fail loudly, not later."""
    env = dict(os.environ if env is None else env)
    tz = env.get("O2C_TIMEZONE", "UTC")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"O2C_TIMEZONE={tz!r} is not an IANA time zone") from None
    return Settings(
        database_url=env.get("O2C_DATABASE_URL", DEFAULT_DATABASE_URL),
        timezone=tz,
        strategies_dir=Path(env.get("O2C_STRATEGIES_DIR", "strategies")),
        cash_policy=Path(env.get("O2C_CASH_POLICY", "policy/cash-application.yaml")),
        templates_dir=Path(env.get("O2C_TEMPLATES_DIR", "templates")),
        host=env.get("O2C_HOST", "127.0.0.1"),
        port=_int(env, "O2C_PORT", 8000),
        promise_tolerance_days=_int(env, "O2C_PROMISE_TOLERANCE_DAYS", 2),
        max_dunning_level=_int(env, "O2C_MAX_DUNNING_LEVEL", 5),
        source=env.get("O2C_EVENT_SOURCE", "urn:o2c-engine"),
        today=env.get("O2C_TODAY") or None,
        threads=positive(env, "O2C_THREADS", 40),
        extra={k: v for k, v in env.items() if k.startswith("O2C_")},
    )

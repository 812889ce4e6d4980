"""Every `O2C_*` variable, typed, in one model (pydantic-settings): read and checked once, when the
process wires itself (`load_settings`); a bad value stops it naming the variable, an unknown `O2C_*`
name is logged with the closest known one. No other module reads the environment; code without an
engine context at hand (logging, tracing, webhook sealing) asks `current()`. The table in
docs/operations.md lists the same names (tests/unit/test_config.py checks both ways)."""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, ValidationError, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from states.errors import ValidationFailed

log = logging.getLogger(__name__)

PREFIX = "O2C_"
TEST_ONLY = ("O2C_TEST_", "O2C_BENCH_")  # the test suite's and benchmarks' own (O2C_TEST_PG_URL)
DEFAULT_DATABASE_URL = "sqlite:///data/o2c.sqlite"

Origins = Annotated[tuple[str, ...], NoDecode]


class Settings(BaseSettings):
    """One field per `O2C_*` variable (the field name upper-cased, or its alias); defaults as documented.
    `Settings(database_url=...)` builds one from arguments only; `load_settings()` reads the environment."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, frozen=True, extra="forbid", env_ignore_empty=True, populate_by_name=True
    )

    # Store and business calendar
    database_url: str = DEFAULT_DATABASE_URL
    timezone: str = "UTC"
    today: str | None = None  # ISO date that pins the business date (simulations, demos)
    promise_tolerance_days: int = 2  # a promise is judged this many days after its date
    payment_future_days: NonNegativeInt = 0  # a payment may be dated this many days after the business date
    risk_thresholds: Annotated[tuple[int, int, int], NoDecode] = (25, 50, 75)
    # Files
    strategies_dir: Path = Path("strategies")
    strategies_poll_seconds: PositiveFloat = 2.0
    cash_policy: Path = Path("policy/cash-application.yaml")  # docs/cash-application.md
    templates_dir: Path = Path("templates")  # customer messages (engine/notices/templates.py)
    letter_dir: str | None = None  # letters as PDFs per business date (engine/notices/letters.py)
    policy_dir: Path = Path("policy")
    files_dir: Path = Path("data/files")
    # API process
    host: str = "127.0.0.1"
    port: int = 8000
    threads: PositiveInt = 40  # worker threads of one API process = its database connections
    allowed_origins: Origins = ()
    cors_origins: Origins = ()
    graphiql: bool = True
    introspection: bool = True
    demo_key: bool = False
    max_body_bytes: PositiveInt = 1024 * 1024  # larger request bodies get 413; larger WebSocket messages 1009
    # Observability
    log_format: Literal["text", "json"] = "text"
    otel_traces: Literal["console", "otlp"] | None = None
    # Email channel (engine/notices/mail.py)
    smtp_url: str | None = Field(default=None, repr=False)  # may hold credentials
    mail_from: str = "credit@o2c.invalid"
    mail_reply_to: str | None = None
    # SMS channel (engine/notices/sms_http.py): a Twilio-compatible HTTP API
    sms_url: str | None = None
    sms_account: str | None = None
    sms_token: str | None = Field(default=None, repr=False)
    sms_from: str | None = None
    # Delivery reports (api/delivery_hooks.py): key of the body's HMAC-SHA256 signature
    delivery_hook_secret: str | None = Field(default=None, repr=False)
    # Webhooks
    secret_key: str | None = Field(default=None, repr=False)
    secret_key_file: Path = Path("data/secret.key")
    webhook_disable_after_days: PositiveFloat = 5.0
    webhook_allow_private: bool = False  # webhook URLs may resolve to loopback/private addresses
    webhook_retry_scale: PositiveFloat = 1.0  # multiplies every wait of the retry schedule
    dispatch_batch: PositiveInt = 10
    dispatch_timeout: PositiveFloat = 10.0
    dispatch_idle: PositiveFloat = 1.0
    dispatch_lease: PositiveFloat | None = None  # default: batch × (timeout + 1) + 30
    # Background work
    scheduler: bool = True
    serve_dispatch: bool = True
    worker_dispatch: bool = True
    cycle_at: time = time(6, 0)
    tick_seconds: PositiveFloat = 5.0
    lease_seconds: PositiveFloat = 30.0
    cycle_partitions: PositiveInt = 4
    heartbeat_file: Path | None = None
    # Events and subscriptions
    source: str = Field(default="urn:o2c-engine", alias="O2C_EVENT_SOURCE")
    event_retention_days: PositiveInt = 30
    event_poll_seconds: PositiveFloat = 0.1
    event_notify_fallback_seconds: PositiveFloat = 1.0
    subscription_buffer: PositiveInt = 1000
    subscription_stall_seconds: PositiveFloat = 10.0
    max_subscriptions_per_connection: PositiveInt = 10
    # Payment predictions
    predict_retrain_days: PositiveInt = 7
    predict_min_payments: PositiveInt = 200
    predict_threads: PositiveInt = 1
    predict_max_rows: PositiveInt = 300_000
    predict_iterations: PositiveInt = 80
    # Fault injection for tests; never in production
    dispatch_fault: Literal["exit-after-send", "hang-after-send"] | None = None
    crash_at: str | None = None  # `boundary[:n]` of engine/crash.py: SIGKILL there (the kill tests)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @field_validator("timezone")
    @classmethod
    def _iana(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not an IANA time zone") from None
        return value

    @field_validator("smtp_url")
    @classmethod
    def _mail_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("smtp://", "smtps://", "file:")):
            raise ValueError("smtp://, smtps:// or file:DIR")
        return value

    @field_validator("crash_at")
    @classmethod
    def _boundary(cls, value: str | None) -> str | None:
        if value is not None:
            from engine.crash import parse  # engine.crash reads these settings: imported when used

            parse(value)
        return value

    @field_validator("allowed_origins", "cors_origins", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        return tuple(o.strip() for o in value.split(",") if o.strip()) if isinstance(value, str) else value

    @field_validator("risk_thresholds", mode="before")
    @classmethod
    def _three_numbers(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = tuple(int(part) for part in value.split(","))
            except ValueError:
                raise ValueError("write three integers like 25,50,75") from None
        if len(value) != 3 or not 0 < value[0] < value[1] < value[2] <= 100:
            raise ValueError("three increasing integers within 1..100")
        return value

    @field_validator("log_format", "otel_traces", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the mapping `load_settings` was given (nothing when built directly)."""
        return init_settings, _MappingSource(settings_cls)


_ENVIRONMENT: ContextVar[Mapping[str, str] | None] = ContextVar("o2c_settings_env", default=None)


class _MappingSource(EnvSettingsSource):
    """pydantic-settings' environment source over the mapping `load_settings` hands it; values are
    stripped, and an empty one counts as unset (the default)."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        env = _ENVIRONMENT.get() or {}
        return {k.lower(): v.strip() for k, v in env.items() if v.strip()}


def variable(field: str) -> str:
    """The `O2C_*` name of a settings field."""
    alias = Settings.model_fields[field].alias
    return alias or PREFIX + field.upper()


def names() -> dict[str, str]:
    """Every `O2C_*` name → its field."""
    return {variable(field): field for field in Settings.model_fields}


MESSAGES = {
    "int_parsing": "not an integer",
    "int_from_float": "not an integer",
    "float_parsing": "not a number",
    "bool_parsing": "on or off (1/0, true/false, yes/no, on/off)",
    "time_parsing": "not a time of day (HH:MM)",
    "time_type": "not a time of day (HH:MM)",
}


def _message(error: Mapping[str, Any]) -> str:
    kind = str(error["type"])
    if kind == "greater_than":
        return "a whole number, at least 1" if isinstance(error["ctx"]["gt"], int) else "a number above 0"
    if kind == "greater_than_equal":
        return "a whole number, at least 0"
    if kind == "literal_error":
        return f"one of {error['ctx']['expected']}"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    return MESSAGES.get(kind, str(error["msg"]))


_warned: set[str] = set()  # unknown names already logged by this process


def warn_unknown(env: Mapping[str, str] | None = None) -> None:
    """Log each `O2C_*` name of `env` (the process environment by default) that is no setting, once
    per process, with the closest known name."""
    env = os.environ if env is None else env
    known = names()
    for name in sorted(k for k in env if k.startswith(PREFIX) and not k.startswith(TEST_ONLY) and k not in known):
        if name not in _warned:
            _warned.add(name)
            close = difflib.get_close_matches(name, known, n=1)
            log.warning("unknown setting %s%s", name, f" (did you mean {close[0]}?)" if close else "")


def load_settings(env: Mapping[str, str] | None = None, *, warn: bool = True) -> Settings:
    """Settings from the `O2C_*` variables of `env` (the process environment by default). A bad value
    raises ValidationFailed naming the variable (`O2C_PORT='abc': not an integer`); unknown names are
    logged as a warning, with the closest known one."""
    env = dict(os.environ if env is None else env)
    known = names()
    if warn:
        warn_unknown(env)
    token = _ENVIRONMENT.set({k: v for k, v in env.items() if k in known})
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            name = variable(field) if field in Settings.model_fields else field
            problems.append(f"{name}={env.get(name, error.get('input'))!r}: {_message(error)}")
        raise ValidationFailed("; ".join(problems)) from None
    finally:
        _ENVIRONMENT.reset(token)


def current() -> Settings:
    """The process's settings, from its environment (read again only when an `O2C_*` variable changes);
    unknown names are left to `warn_unknown` (the CLI calls it once logging is set up)."""
    return _loaded(tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(PREFIX))))


@lru_cache(maxsize=4)
def _loaded(items: tuple[tuple[str, str], ...]) -> Settings:
    return load_settings(dict(items), warn=False)

"""JSON log lines carry the context of the work in hand; a bad O2C_LOG_FORMAT stops the process."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from api.logs import JsonFormatter, configure
from engine import log_context
from states.errors import ValidationFailed


def _record(message: str, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            exc_info = sys.exc_info()
    args = ("x",) if "%s" in message else ()
    return logging.LogRecord("o2c.test", logging.ERROR, __file__, 1, message, args, exc_info)


def test_a_json_line_has_the_message_and_the_bound_correlation_id_actor_and_operation() -> None:
    with log_context.bound(operation_name="cycle") as correlation_id:
        line = json.loads(JsonFormatter().format(_record("cycle %s failed", exc=True)))
    assert line["message"] == "cycle x failed" and line["level"] == "ERROR" and line["logger"] == "o2c.test"
    assert line["correlationId"] == correlation_id and len(correlation_id) == 16
    assert (line["actor"], line["operation"]) == ("system", "cycle")
    assert "RuntimeError: boom" in line["exception"]
    outside = json.loads(JsonFormatter().format(_record("idle")))
    assert outside["correlationId"] is None and outside["operation"] is None  # the binding ended


def test_an_unknown_log_format_is_refused_naming_the_variable() -> None:
    with pytest.raises(ValidationFailed, match="O2C_LOG_FORMAT='xml'"):
        configure(False, "xml")

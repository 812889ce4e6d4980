"""The one door into the engine: every command has one handler; after-commit work is wired once."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, cast

import pytest

from engine import commands as c
from engine.handlers import HANDLERS, Handler, Handlers
from engine.service import Collections
from engine.services.context import Context
from states.actors import SYSTEM, Actor

PARTS = {c.AllocationLine}  # a line inside a command, not a command itself


def _command_types() -> set[type[Any]]:
    return {
        kind
        for _, kind in inspect.getmembers(c, inspect.isclass)
        if kind.__module__ == c.__name__ and dataclasses.is_dataclass(kind) and kind not in PARTS
    }


def test_every_command_dataclass_has_exactly_one_handler() -> None:
    commands = _command_types()
    assert commands, "engine/commands.py defines commands"
    assert set(HANDLERS) == commands  # a dict key cannot repeat: one handler each, none missing or extra


def test_every_command_names_what_its_handler_returns() -> None:
    for kind in _command_types():
        assert issubclass(kind, c.Command), f"{kind.__name__} is not a Command[...]"


def _service(handlers: Handlers, seen: list[list[int]]) -> Collections:
    return Collections(cast(Context, object()), seen.append, handlers)


def test_the_invoices_a_command_touched_are_handed_to_the_listener_after_it_ran() -> None:
    calls: list[tuple[c.PlaceHold, Actor]] = []

    def run(_ctx: Context, cmd: c.PlaceHold, actor: Actor) -> list[int]:
        calls.append((cmd, actor))
        return [7, 9]

    seen: list[list[int]] = []
    service = _service({c.PlaceHold: Handler(run, lambda ids: ids)}, seen)
    cmd = c.PlaceHold(customer_id=1, reason="manual")
    assert service.handle(cmd, SYSTEM) == [7, 9]  # type: ignore[comparison-overlap]
    assert calls == [(cmd, SYSTEM)]
    assert seen == [[7, 9]]


def test_a_command_that_touched_no_invoice_wakes_no_listener() -> None:
    seen: list[list[int]] = []
    service = _service({c.PlaceHold: Handler(lambda _x, _c, _a: [], lambda ids: ids)}, seen)
    service.handle(c.PlaceHold(customer_id=1, reason="manual"), SYSTEM)
    assert seen == []


def test_a_failing_handler_leaves_the_after_commit_work_undone() -> None:
    def run(_ctx: Context, _cmd: c.PlaceHold, _actor: Actor) -> list[int]:
        raise ValueError("rolled back")

    seen: list[list[int]] = []
    service = _service({c.PlaceHold: Handler(run, lambda ids: ids)}, seen)
    with pytest.raises(ValueError, match="rolled back"):
        service.handle(c.PlaceHold(customer_id=1, reason="manual"), SYSTEM)
    assert seen == []


def test_a_command_without_a_handler_is_a_wiring_error() -> None:
    service = _service({}, [])
    with pytest.raises(LookupError, match="no handler for PlaceHold"):
        service.handle(c.PlaceHold(customer_id=1, reason="manual"), SYSTEM)


def test_payments_are_re_evaluated_and_master_data_and_timers_are_not() -> None:
    touching = {kind.__name__ for kind, handler in HANDLERS.items() if handler.touches is not None}
    assert touching == {
        "RecordPayment",
        "ReversePayment",
        "UnapplyPayment",
        "ApplyCredit",
        "ImportStatement",
        "ApplyBankTransaction",
    }  # timers: an invoice whose promise broke waits for the next date's cycle (exactly once per date)

"""The task machine, on a plain object: every allowed move and the refusals with their reasons."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from states import task as tk
from states.errors import InvalidTransition
from states.task import TASK

TODAY = date(2026, 3, 2)
LATER = date(2026, 3, 9)


def _task(state: str) -> SimpleNamespace:
    return SimpleNamespace(state=state)


@pytest.mark.parametrize(
    ("state", "trigger", "kwargs", "after"),
    [
        ("open", "start", {}, "in_progress"),
        ("snoozed", "start", {}, "in_progress"),
        ("open", "assign", {}, "open"),
        ("in_progress", "assign", {}, "in_progress"),
        ("open", "snooze", {"until": LATER}, "snoozed"),
        ("in_progress", "snooze", {"until": LATER}, "snoozed"),
        ("snoozed", "wake", {}, "open"),
        ("open", "complete", {"outcome": "reached"}, "done"),
        ("in_progress", "complete", {"outcome": "promise"}, "done"),
        ("open", "cancel", {}, "cancelled"),
        ("snoozed", "cancel", {}, "cancelled"),
    ],
)
def test_a_task_moves_as_the_machine_allows(state: str, trigger: str, kwargs: dict[str, object], after: str) -> None:
    subject = _task(state)
    assert TASK.fire(subject, trigger, 1, today=TODAY, **kwargs) == (state, after)
    assert subject.state == after


@pytest.mark.parametrize("final", ["done", "cancelled"])
@pytest.mark.parametrize("trigger", ["start", "assign", "snooze", "complete", "cancel", "wake"])
def test_a_finished_task_takes_no_further_step(final: str, trigger: str) -> None:
    with pytest.raises(InvalidTransition, match="final"):
        TASK.fire(_task(final), trigger, 1, today=TODAY, until=LATER, outcome="reached")


def test_a_task_is_not_snoozed_until_today_or_earlier() -> None:
    with pytest.raises(InvalidTransition, match="after today"):
        TASK.fire(_task("open"), "snooze", 1, today=TODAY, until=TODAY)


def test_a_task_is_completed_only_with_a_known_outcome() -> None:
    subject = _task("in_progress")
    with pytest.raises(InvalidTransition, match="outcome must be one of"):
        TASK.fire(subject, "complete", 1, today=TODAY, outcome="shrug")
    assert subject.state == "in_progress"


def test_an_open_task_is_not_woken() -> None:
    with pytest.raises(InvalidTransition):
        TASK.fire(_task("open"), "wake", 1, today=TODAY)


def test_unfinished_states_are_the_non_final_ones() -> None:
    assert set(tk.UNFINISHED) == set(tk.STATES) - tk.FINAL

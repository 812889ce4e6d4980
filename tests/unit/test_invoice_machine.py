"""The invoice machine: every allowed and every forbidden (state, trigger) pair, and its guards.

The expected matrix below is written out by hand from DESIGN.md and issue 2; the machine must
agree with it. Subjects are plain namespaces: the machine needs `state`, `dunning_level` and
`open_amount`, nothing from the database.
"""

from __future__ import annotations

from itertools import product
from types import SimpleNamespace
from typing import Any

import pytest

from states.errors import DomainError, InvalidTransition
from states.invoice import DEFAULT_MAX_LEVEL, INVOICE

STATES = (
    "open",
    "overdue",
    "dunning",
    "escalated",
    "promised",
    "disputed",
    "paid",
    "cancelled",
    "written_off",
)
TRIGGERS = (
    "mark_overdue",
    "dun",
    "escalate",
    "recall",
    "write_off",
    "promise",
    "keep_promise",
    "break_promise",
    "dispute",
    "resolve_dispute",
    "pay",
    "cancel",
    "reopen",
)
COLLECTIBLE = ("open", "overdue", "dunning", "escalated", "promised", "disputed")


def level_for(state: str) -> int:
    """A dunning level consistent with the state: only dunning-related states carry one."""
    return 0 if state in ("open", "overdue") else 2


def invoice(state: str, *, level: int | None = None, open_amount: int = 10_000) -> SimpleNamespace:
    return SimpleNamespace(
        state=state, dunning_level=level_for(state) if level is None else level, open_amount=open_amount
    )


def snapshot(subject: SimpleNamespace) -> dict[str, Any]:
    return dict(vars(subject))


# (state, trigger, subject attributes, trigger context, expected state, expected level)
# Resuming triggers (recall, keep/break promise, resolve dispute, reopen) return to where
# collection stood: dunning when a level was reached, overdue when past due, open otherwise.
RESUME_CASES = [
    ({"level": 2}, {"past_due": True}, "dunning", 2),
    ({"level": 0}, {"past_due": True}, "overdue", 0),
    ({"level": 0}, {"past_due": False}, "open", 0),
]
ALLOWED: list[tuple[str, str, dict[str, Any], dict[str, Any], str, int]] = [
    ("open", "mark_overdue", {}, {}, "overdue", 0),
    ("overdue", "dun", {"level": 0}, {}, "dunning", 1),
    ("dunning", "dun", {"level": 1}, {}, "dunning", 2),
    ("dunning", "dun", {"level": 4}, {"level": 5}, "dunning", 5),
    ("overdue", "escalate", {"level": 0}, {}, "escalated", 0),
    ("dunning", "escalate", {"level": 3}, {}, "escalated", 3),
    *[("escalated", "recall", attrs, ctx, dest, lvl) for attrs, ctx, dest, lvl in RESUME_CASES],
    ("escalated", "write_off", {}, {}, "written_off", 2),
    *[(s, "promise", {}, {}, "promised", level_for(s)) for s in ("open", "overdue", "dunning", "escalated")],
    *[("promised", "keep_promise", attrs, ctx, dest, lvl) for attrs, ctx, dest, lvl in RESUME_CASES],
    *[("promised", "break_promise", attrs, ctx, dest, lvl) for attrs, ctx, dest, lvl in RESUME_CASES],
    *[
        (s, "dispute", {}, {}, "disputed", level_for(s))
        for s in ("open", "overdue", "dunning", "escalated", "promised")
    ],
    *[("disputed", "resolve_dispute", attrs, ctx, dest, lvl) for attrs, ctx, dest, lvl in RESUME_CASES],
    *[(s, "pay", {"open_amount": 0}, {}, "paid", level_for(s)) for s in COLLECTIBLE],
    *[(s, "cancel", {}, {}, "cancelled", level_for(s)) for s in ("open", "overdue", "dunning", "disputed")],
    *[("paid", "reopen", attrs, ctx, dest, lvl) for attrs, ctx, dest, lvl in RESUME_CASES],
]
ALLOWED_PAIRS = {(state, trigger) for state, trigger, *_ in ALLOWED}
FORBIDDEN = sorted(set(product(STATES, TRIGGERS)) - ALLOWED_PAIRS)


def test_the_matrix_covers_exactly_the_machines_states_and_triggers() -> None:
    assert set(INVOICE.states) == set(STATES)
    assert set(INVOICE.triggers) == set(TRIGGERS)
    assert len(ALLOWED_PAIRS) + len(FORBIDDEN) == len(STATES) * len(TRIGGERS)


def test_the_machine_allows_exactly_the_pairs_of_the_matrix() -> None:
    machine_pairs = {(s, t) for s in STATES for t in INVOICE.triggers_from(s)}
    assert machine_pairs == ALLOWED_PAIRS


@pytest.mark.parametrize(
    ("state", "trigger", "attrs", "context", "dest", "level"),
    ALLOWED,
    ids=[f"{s}-{t}-{d}" for s, t, _, _, d, _ in ALLOWED],
)
def test_an_allowed_trigger_moves_the_invoice_to_its_destination(
    state: str, trigger: str, attrs: dict[str, Any], context: dict[str, Any], dest: str, level: int
) -> None:
    subject = invoice(state, **attrs)
    before, after = INVOICE.fire(subject, trigger, 7, **context)
    assert (before, after) == (state, dest)
    assert subject.state == dest
    assert subject.dunning_level == level


@pytest.mark.parametrize(("state", "trigger"), FORBIDDEN, ids=[f"{s}-{t}" for s, t in FORBIDDEN])
def test_a_forbidden_trigger_names_invoice_state_and_trigger_and_changes_nothing(state: str, trigger: str) -> None:
    # The subject would pass every guard, so only the (state, trigger) pair can refuse it.
    subject = invoice(state, open_amount=0 if trigger == "pay" else 10_000)
    before = snapshot(subject)
    with pytest.raises(InvalidTransition) as caught:
        INVOICE.fire(subject, trigger, 7, past_due=True)
    err = caught.value
    assert (err.entity, err.entity_id, err.state, err.trigger) == ("invoice", 7, state, trigger)
    assert f"invoice 7 in state '{state}' cannot '{trigger}'" in str(err)
    assert err.code == "INVALID_TRANSITION"
    assert snapshot(subject) == before


@pytest.mark.parametrize("state", ["disputed", "promised", "paid", "cancelled"])
def test_a_disputed_promised_paid_or_cancelled_invoice_is_never_dunned(state: str) -> None:
    subject = invoice(state, level=1, open_amount=0 if state == "paid" else 500)
    with pytest.raises(InvalidTransition, match=f"'{state}' cannot 'dun'"):
        INVOICE.fire(subject, "dun", 1, past_due=True)
    assert (subject.state, subject.dunning_level) == (state, 1)


def test_an_open_invoice_that_is_not_yet_overdue_is_not_dunned() -> None:
    subject = invoice("open")
    with pytest.raises(InvalidTransition):
        INVOICE.fire(subject, "dun", 1)
    assert (subject.state, subject.dunning_level) == ("open", 0)


def test_dunning_climbs_one_level_at_a_time_up_to_the_maximum_and_no_further() -> None:
    subject = invoice("overdue")
    for expected in range(1, DEFAULT_MAX_LEVEL + 1):
        INVOICE.fire(subject, "dun", 1)
        assert (subject.state, subject.dunning_level) == ("dunning", expected)
    with pytest.raises(InvalidTransition, match="never past the maximum"):
        INVOICE.fire(subject, "dun", 1)
    assert subject.dunning_level == DEFAULT_MAX_LEVEL


def test_the_maximum_dunning_level_can_be_lowered_by_the_caller() -> None:
    subject = invoice("dunning", level=3)
    with pytest.raises(InvalidTransition, match="one at a time and never past the maximum"):
        INVOICE.fire(subject, "dun", 1, max_level=3)
    assert (subject.state, subject.dunning_level) == ("dunning", 3)


@pytest.mark.parametrize(("current", "target"), [(0, 2), (1, 3), (2, 2), (3, 1), (2, 5)])
def test_a_dunning_level_that_skips_or_repeats_a_step_is_refused(current: int, target: int) -> None:
    subject = invoice("overdue" if current == 0 else "dunning", level=current)
    before = snapshot(subject)
    with pytest.raises(InvalidTransition, match="cannot 'dun': dunning levels advance one at a time"):
        INVOICE.fire(subject, "dun", 1, level=target)
    assert snapshot(subject) == before


@pytest.mark.parametrize("state", COLLECTIBLE)
def test_an_invoice_with_money_still_open_cannot_be_marked_paid(state: str) -> None:
    subject = invoice(state, open_amount=1)
    with pytest.raises(InvalidTransition, match="the open amount is not zero"):
        INVOICE.fire(subject, "pay", 3)
    assert subject.state == state


def test_a_paid_invoice_is_reopened_only_when_money_is_owed_again() -> None:
    subject = invoice("paid", level=0, open_amount=0)
    with pytest.raises(InvalidTransition, match="'paid' cannot 'reopen'"):
        INVOICE.fire(subject, "reopen", 3, past_due=True)
    assert subject.state == "paid"
    subject.open_amount = 2_500
    assert INVOICE.fire(subject, "reopen", 3, past_due=True) == ("paid", "overdue")


@pytest.mark.parametrize(("state", "allowed"), [("paid", {"reopen"}), ("cancelled", set()), ("written_off", set())])
def test_final_states_stay_final_except_a_paid_invoice_reopening(state: str, allowed: set[str]) -> None:
    assert INVOICE.triggers_from(state) == allowed
    for trigger in sorted(set(TRIGGERS) - allowed):
        subject = invoice(state, open_amount=10_000)
        with pytest.raises(InvalidTransition, match=f"'{state}' is final"):
            INVOICE.fire(subject, trigger, 9, past_due=True)
        assert subject.state == state


def test_an_unknown_trigger_is_a_domain_error_naming_the_trigger() -> None:
    subject = invoice("open")
    with pytest.raises(InvalidTransition, match="invoice 4 in state 'open' cannot 'explode': no such trigger"):
        INVOICE.fire(subject, "explode", 4)
    assert subject.state == "open"


def test_an_invalid_transition_is_a_domain_error_every_entry_point_can_map() -> None:
    with pytest.raises(DomainError):
        INVOICE.fire(invoice("cancelled"), "promise", 1)


def test_many_invoices_share_one_machine_without_being_attached_to_it() -> None:
    subjects = [invoice("open") for _ in range(50)]
    for s in subjects[::2]:
        INVOICE.fire(s, "mark_overdue", 1)
    assert [s.state for s in subjects[:4]] == ["overdue", "open", "overdue", "open"]
    assert INVOICE.machine.models == []

"""The customer credit account: active ⇄ on_hold; every pair, and the manual-release guard.

The machine sees a hold reason (`reason`), how many other reasons still hold the account
(`remaining`), the kind of actor and the release reason code.
"""

from __future__ import annotations

from itertools import product
from types import SimpleNamespace
from typing import Any

import pytest

from states.account import ACCOUNT, AUTOMATIC_REASONS, HOLD_REASONS
from states.actors import KINDS
from states.errors import InvalidTransition

STATES = ("active", "on_hold")
TRIGGERS = ("place_hold", "release_hold")
PERSON_WITH_CODE = {"actor_kind": "user", "reason_code": "paid_by_wire"}

# (state, trigger, context, expected state)
ALLOWED: list[tuple[str, str, dict[str, Any], str]] = [
    *[("active", "place_hold", {"reason": r}, "on_hold") for r in HOLD_REASONS],
    *[("on_hold", "place_hold", {"reason": r}, "on_hold") for r in HOLD_REASONS],
    *[
        ("on_hold", "release_hold", {"reason": r, "remaining": 0, "actor_kind": "rule"}, "active")
        for r in AUTOMATIC_REASONS
    ],
    *[
        ("on_hold", "release_hold", {"reason": r, "remaining": 2, "actor_kind": "payment"}, "on_hold")
        for r in AUTOMATIC_REASONS
    ],
    ("on_hold", "release_hold", {"reason": "manual", "remaining": 0, **PERSON_WITH_CODE}, "active"),
    ("on_hold", "release_hold", {"reason": "manual", "remaining": 1, **PERSON_WITH_CODE}, "on_hold"),
]
ALLOWED_PAIRS = {(s, t) for s, t, _, _ in ALLOWED}
FORBIDDEN = sorted(set(product(STATES, TRIGGERS)) - ALLOWED_PAIRS)


def account(state: str) -> SimpleNamespace:
    return SimpleNamespace(state=state, credit_limit=100_000)


def test_the_matrix_covers_exactly_the_machines_states_and_triggers() -> None:
    assert set(ACCOUNT.states) == set(STATES)
    assert set(ACCOUNT.triggers) == set(TRIGGERS)
    assert {(s, t) for s in STATES for t in ACCOUNT.triggers_from(s)} == ALLOWED_PAIRS
    assert FORBIDDEN == [("active", "release_hold")]


@pytest.mark.parametrize(
    ("state", "trigger", "context", "dest"),
    ALLOWED,
    ids=[f"{s}-{t}-{c['reason']}-{d}" for s, t, c, d in ALLOWED],
)
def test_an_allowed_trigger_moves_the_account_to_its_destination(
    state: str, trigger: str, context: dict[str, Any], dest: str
) -> None:
    subject = account(state)
    assert ACCOUNT.fire(subject, trigger, 3, **context) == (state, dest)
    assert subject.state == dest


@pytest.mark.parametrize(("state", "trigger"), FORBIDDEN, ids=[f"{s}-{t}" for s, t in FORBIDDEN])
@pytest.mark.parametrize("reason", HOLD_REASONS)
def test_a_forbidden_trigger_names_account_state_and_trigger_and_changes_nothing(
    state: str, trigger: str, reason: str
) -> None:
    subject = account(state)
    before = dict(vars(subject))
    with pytest.raises(InvalidTransition) as caught:
        ACCOUNT.fire(subject, trigger, 3, reason=reason, remaining=0, **PERSON_WITH_CODE)
    err = caught.value
    assert (err.entity, err.entity_id, err.state, err.trigger) == ("account", 3, state, trigger)
    assert f"account 3 in state '{state}' cannot '{trigger}'" in str(err)
    assert dict(vars(subject)) == before


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "user"])
@pytest.mark.parametrize("remaining", [0, 1])
def test_a_manual_hold_is_not_released_by_anyone_but_a_person(kind: str, remaining: int) -> None:
    subject = account("on_hold")
    with pytest.raises(InvalidTransition, match="a manual hold is released only by a person with a reason code"):
        ACCOUNT.fire(subject, "release_hold", 3, reason="manual", remaining=remaining, actor_kind=kind, reason_code="x")
    assert subject.state == "on_hold"


@pytest.mark.parametrize("code", [None, "", "   "])
@pytest.mark.parametrize("remaining", [0, 1])
def test_a_person_cannot_release_a_manual_hold_without_a_reason_code(code: str | None, remaining: int) -> None:
    subject = account("on_hold")
    with pytest.raises(InvalidTransition, match="cannot 'release_hold': a manual hold is released only by a person"):
        ACCOUNT.fire(
            subject,
            "release_hold",
            3,
            reason="manual",
            remaining=remaining,
            actor_kind="user",
            reason_code=code,
        )
    assert subject.state == "on_hold"


@pytest.mark.parametrize("reason", AUTOMATIC_REASONS)
def test_an_automatic_hold_clears_without_a_person_or_a_reason_code(reason: str) -> None:
    subject = account("on_hold")
    ACCOUNT.fire(subject, "release_hold", 3, reason=reason, remaining=0, actor_kind="system")
    assert subject.state == "active"


def test_the_account_stays_on_hold_while_another_reason_still_holds_it() -> None:
    subject = account("active")
    ACCOUNT.fire(subject, "place_hold", 3, reason="overdue")
    ACCOUNT.fire(subject, "place_hold", 3, reason="manual")
    ACCOUNT.fire(subject, "release_hold", 3, reason="overdue", remaining=1, actor_kind="payment")
    assert subject.state == "on_hold"
    ACCOUNT.fire(subject, "release_hold", 3, reason="manual", remaining=0, **PERSON_WITH_CODE)
    assert subject.state == "active"


def test_an_account_has_no_final_state() -> None:
    assert ACCOUNT.terminal == frozenset()
    assert all(ACCOUNT.triggers_from(s) for s in STATES)

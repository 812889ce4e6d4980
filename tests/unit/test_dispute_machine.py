"""The dispute machine: every allowed and every forbidden (state, trigger) pair, and its guards."""

from __future__ import annotations

from itertools import product
from types import SimpleNamespace

import pytest

from states.dispute import DISPUTE, OUTCOMES
from states.errors import InvalidTransition

STATES = ("open", "under_review", "awaiting_customer", "escalated", "resolved", "withdrawn")
TRIGGERS = ("review", "request_info", "customer_replied", "escalate", "resolve", "withdraw")
ACTIVE = ("open", "under_review", "awaiting_customer", "escalated")

ALLOWED: dict[tuple[str, str], str] = {
    ("open", "review"): "under_review",
    ("under_review", "request_info"): "awaiting_customer",
    ("awaiting_customer", "customer_replied"): "under_review",
    **{(s, "escalate"): "escalated" for s in ("open", "under_review", "awaiting_customer")},
    **{(s, "resolve"): "resolved" for s in ACTIVE},
    **{(s, "withdraw"): "withdrawn" for s in ACTIVE},
}
FORBIDDEN = sorted(set(product(STATES, TRIGGERS)) - set(ALLOWED))
ALLOWED_CASES = sorted((s, t, d) for (s, t), d in ALLOWED.items())


def dispute(state: str) -> SimpleNamespace:
    return SimpleNamespace(state=state, reason_code="pricing", amount=1_000)


def test_the_matrix_covers_exactly_the_machines_states_and_triggers() -> None:
    assert set(DISPUTE.states) == set(STATES)
    assert set(DISPUTE.triggers) == set(TRIGGERS)
    assert {(s, t) for s in STATES for t in DISPUTE.triggers_from(s)} == set(ALLOWED)


@pytest.mark.parametrize(("state", "trigger", "dest"), ALLOWED_CASES, ids=[f"{s}-{t}" for s, t, _ in ALLOWED_CASES])
def test_an_allowed_trigger_moves_the_dispute_to_its_destination(state: str, trigger: str, dest: str) -> None:
    subject = dispute(state)
    assert DISPUTE.fire(subject, trigger, 12, outcome="accepted") == (state, dest)
    assert subject.state == dest


@pytest.mark.parametrize(("state", "trigger"), FORBIDDEN, ids=[f"{s}-{t}" for s, t in FORBIDDEN])
def test_a_forbidden_trigger_names_dispute_state_and_trigger_and_changes_nothing(state: str, trigger: str) -> None:
    subject = dispute(state)
    before = dict(vars(subject))
    with pytest.raises(InvalidTransition) as caught:
        DISPUTE.fire(subject, trigger, 12, outcome="accepted")
    err = caught.value
    assert (err.entity, err.entity_id, err.state, err.trigger) == ("dispute", 12, state, trigger)
    assert f"dispute 12 in state '{state}' cannot '{trigger}'" in str(err)
    assert dict(vars(subject)) == before


@pytest.mark.parametrize(("state", "outcome"), list(product(ACTIVE, OUTCOMES)))
def test_an_active_dispute_resolves_with_any_known_outcome(state: str, outcome: str) -> None:
    subject = dispute(state)
    DISPUTE.fire(subject, "resolve", 1, outcome=outcome)
    assert subject.state == "resolved"


@pytest.mark.parametrize("outcome", [None, "", "maybe", "ACCEPTED"])
def test_a_resolution_without_a_known_outcome_is_refused(outcome: str | None) -> None:
    subject = dispute("under_review")
    with pytest.raises(InvalidTransition, match="outcome must be one of accepted, partial, rejected"):
        DISPUTE.fire(subject, "resolve", 1, outcome=outcome)
    assert subject.state == "under_review"


def test_review_and_awaiting_customer_alternate_as_often_as_needed() -> None:
    subject = dispute("open")
    DISPUTE.fire(subject, "review", 1)
    for _ in range(3):
        DISPUTE.fire(subject, "request_info", 1)
        assert subject.state == "awaiting_customer"
        DISPUTE.fire(subject, "customer_replied", 1)
        assert subject.state == "under_review"


@pytest.mark.parametrize("state", ["resolved", "withdrawn"])
def test_a_resolved_or_withdrawn_dispute_stays_final(state: str) -> None:
    assert DISPUTE.triggers_from(state) == set()
    for trigger in TRIGGERS:
        subject = dispute(state)
        with pytest.raises(InvalidTransition, match=f"'{state}' is final"):
            DISPUTE.fire(subject, trigger, 1, outcome="accepted")
        assert subject.state == state

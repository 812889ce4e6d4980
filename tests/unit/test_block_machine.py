"""The dunning-block machine and the `blocked` fact."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from engine.blocks.active import Blocks
from engine.rules.facts import FACTS, Kind, Scope
from states.block import BLOCK
from states.errors import InvalidTransition


@pytest.mark.parametrize(("trigger", "after"), [("lift", "lifted"), ("expire", "expired")])
def test_an_active_block_is_lifted_or_expires(trigger: str, after: str) -> None:
    block = SimpleNamespace(state="active")
    assert BLOCK.fire(block, trigger, 1) == ("active", after)


@pytest.mark.parametrize("final", ["lifted", "expired"])
def test_an_ended_block_stays_ended(final: str) -> None:
    with pytest.raises(InvalidTransition, match="final"):
        BLOCK.fire(SimpleNamespace(state=final), "lift", 1)


def test_blocked_is_an_invoice_fact_of_the_strategy_language() -> None:
    fact = FACTS["blocked"]
    assert (fact.kind, fact.scope) == (Kind.BOOL, Scope.INVOICE)


def test_a_customer_block_covers_all_its_invoices_and_an_invoice_block_only_that_one() -> None:
    blocks = Blocks(customers=np.asarray([7], dtype=np.int64), invoices=np.asarray([12], dtype=np.int64))
    invoices = np.asarray([10, 11, 12, 13], dtype=np.int64)
    owners = np.asarray([7, 7, 8, 8], dtype=np.int64)
    assert blocks.covers(invoices, owners).tolist() == [True, True, True, False]
    none = Blocks(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    assert none.covers(invoices, owners).tolist() == [False] * 4

"""Where a NUL character sits in a field's arguments, as the client wrote them."""

from __future__ import annotations

from schema.text_input import nul_path


def test_the_path_of_the_first_text_holding_nul_is_named() -> None:
    arguments = {"input": {"name": "Acme", "allocations": [{"note": "ok"}, {"note": "a\x00b"}]}, "first": 5}
    assert nul_path(arguments, "") == "input.allocations[1].note"


def test_text_without_nul_and_values_that_are_not_text_pass() -> None:
    assert nul_path({"input": {"name": "Ünïcode ok", "amount": 5, "tags": ["a", None]}, "flag": True}, "") is None

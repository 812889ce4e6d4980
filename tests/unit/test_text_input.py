"""Where a NUL character sits in a field's arguments, as the client wrote them."""

from __future__ import annotations

from graphql import parse

from schema.text_input import nul_argument, nul_path


def test_the_path_of_the_first_text_holding_nul_is_named() -> None:
    arguments = {"input": {"name": "Acme", "allocations": [{"note": "ok"}, {"note": "a\x00b"}]}, "first": 5}
    assert nul_path(arguments, "") == "input.allocations[1].note"


def test_text_without_nul_and_values_that_are_not_text_pass() -> None:
    assert nul_path({"input": {"name": "Ünïcode ok", "amount": 5, "tags": ["a", None]}, "flag": True}, "") is None


def test_a_nul_written_inline_or_sent_as_a_variable_names_the_argument() -> None:
    document = parse(
        'query($s: String!, $d: String = "x\\u0000") { a(filter: {segment: ["smb", $s]}) { b(note: $d) } }'
    )
    assert nul_argument(document, {"s": "ok\x00"}) == "filter.segment[1]"
    assert nul_argument(document, {"s": "ok"}) == "note"  # the default of a variable not sent
    assert nul_argument(document, {"s": "ok", "d": "fine"}) is None
    assert nul_argument(parse('{ a(input: {name: "A\\u0000"}) { b } }'), None) == "input.name"

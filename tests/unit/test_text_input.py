"""Where a NUL character sits in a field's arguments, as the client wrote them."""

from __future__ import annotations

from graphql import parse

from schema.text_input import Nul, nul_argument, nul_path


def test_the_path_of_the_first_text_holding_nul_is_named() -> None:
    arguments = {"input": {"name": "Acme", "allocations": [{"note": "ok"}, {"note": "a\x00b"}]}, "first": 5}
    found = nul_path(arguments, "")
    assert found is not None and (found.path, found.message) == (
        "input.allocations[1].note",
        "input.allocations[1].note must not contain a NUL (U+0000) character",
    )


def test_text_without_nul_and_values_that_are_not_text_pass() -> None:
    assert nul_path({"input": {"name": "Ünïcode ok", "amount": 5, "tags": ["a", None]}, "flag": True}, "") is None


def test_a_nul_written_inline_or_sent_as_a_variable_names_the_argument() -> None:
    document = parse(
        'query($s: String!, $d: String = "x\\u0000") { a(filter: {segment: ["smb", $s]}) { b(note: $d) } }'
    )
    assert path(nul_argument(document, {"s": "ok\x00"})) == "filter.segment[1]"
    assert path(nul_argument(document, {"s": "ok"})) == "note"  # the default of a variable not sent
    assert nul_argument(document, {"s": "ok", "d": "fine"}) is None
    assert path(nul_argument(parse('{ a(input: {name: "A\\u0000"}) { b } }'), None)) == "input.name"


def test_in_a_text_of_several_lines_the_message_also_names_the_line_and_column() -> None:
    found = nul_argument(parse("mutation($t: String!) { importStatement(text: $t) { transactions } }"),
                         {"t": "bank_ref,booked_on\nB-1,2026-03-01\nB-2,20\x0026-03-01\n"})  # fmt: skip
    assert found is not None
    assert found.message == "text must not contain a NUL (U+0000) character (line 3, column 7)"


def path(found: Nul | None) -> str | None:
    return found.path if found is not None else None

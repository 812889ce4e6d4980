"""The `when` language: parsing, typing, and refusing anything that is not a condition over facts."""

from __future__ import annotations

import pytest
from rules_helpers import FIRST_RULE_LINE, problems

from engine.rules import ir
from engine.rules.lexer import SyntaxProblem
from engine.rules.parser import parse
from engine.rules.typecheck import TypeProblem, check


def lowered(text: str) -> str:
    return ir.show(check(parse(text)))


def test_comparisons_and_boolean_operators_keep_their_precedence() -> None:
    assert lowered("dunning_level == 0 or days_past_due > 3 and not disputed") == (
        "(dunning_level == 0 or (days_past_due > 3 and disputed != true))"
    )


def test_in_and_not_in_accept_bare_enum_values_and_quoted_ones() -> None:
    assert lowered('risk in [high, "critical"]') == '(risk == "high" or risk == "critical")'
    assert lowered("state not in [open]") == 'state != "open"'


def test_a_money_literal_becomes_minor_units_guarded_by_its_currency() -> None:
    assert lowered("open_amount >= 50.00 EUR") == '(currency == "EUR" and open_amount >= 5000)'
    assert lowered("open_amount >= 1000 JPY") == '(currency == "JPY" and open_amount >= 1000)'


def test_not_of_a_money_comparison_is_true_for_other_currencies() -> None:
    assert lowered("not (open_amount >= 50 EUR)") == '(currency != "EUR" or open_amount < 5000)'


def test_zero_needs_no_currency() -> None:
    assert lowered("account.overdue_amount > 0") == "account.overdue_amount > 0"


def test_arithmetic_on_money_and_numbers_is_folded_when_constant() -> None:
    assert lowered("open_amount - 10 EUR > 2 * 20 EUR") == '(currency == "EUR" and (open_amount - 1000) > 4000)'
    assert lowered("days_past_due + 2 * 3 >= 10") == "(days_past_due + 6) >= 10"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("open_amount > 50", "money compared with a plain number"),
        ('days_past_due > "3"', "cannot compare 'days_past_due' (int) with a text value"),
        ("open_amount > 5 EUX", "unknown currency 'EUX' (an ISO 4217 code in capitals); did you mean 'EUR'?"),
        ("open_amount > 50 EUR + 3 USD", "cannot combine EUR and USD"),
        ("open_amount > 5.001 EUR", "more than 2 decimals"),
        ("days_past_du > 3", "unknown fact 'days_past_du'; did you mean 'days_past_due'?"),
        ('state == "disputd"', "'disputd' is not a value of 'state' (enum); did you mean 'disputed'?"),
        ("risk > low", 'to mean the value, write it in quotes: "low"'),
        ("account.exposure * account.credit_limit > 0", "money cannot be multiplied by money"),
        ("dunning_level", "is not a condition"),
        ("risk_score * risk_score * risk_score > 5", "could overflow"),
    ],
)
def test_type_errors_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(TypeProblem) as caught:
        check(parse(text))
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("text", "offset", "message"),
    [
        ('__import__("os")', 0, "names starting with '_' are never facts"),
        ("().__class__", 2, "attribute access is not allowed"),
        ("open_amount.__class__ > 0", 0, "names starting with '_' are never facts"),
        ("len(state) > 0", 3, "function calls are not allowed"),
        ("a = 1", 2, "use '=='"),
        ("days_past_due > 1 > 0", 18, "comparisons cannot be chained"),
        ("days_past_due > 1.5", 16, "needs a currency"),
        ("days_past_due >", 15, "expected a value"),
        ("(days_past_due > 1", 18, "expected ')'"),
        ("lambda: 1", 6, "unexpected character ':'"),
        ("", 0, "empty condition"),
    ],
)
def test_anything_but_an_expression_over_facts_is_a_syntax_error(text: str, offset: int, message: str) -> None:
    with pytest.raises(SyntaxProblem) as caught:
        parse(text)
    assert caught.value.offset == offset
    assert message in caught.value.message


def test_a_file_trying_import_is_refused_with_file_line_and_column() -> None:
    found = problems("""
        - id: sneaky
          when: __import__("os").system("rm -rf /") == 0
          then: [remind: {channel: email, template: t}]
    """)
    assert found == [
        f"s.yaml:{FIRST_RULE_LINE + 1}:11: '__import__' is not allowed: names starting with '_' are never facts"
    ]


def test_a_file_trying_class_introspection_is_refused_with_file_line_and_column() -> None:
    found = problems("""
        - id: sneaky
          when: "().__class__"
          then: [remind: {channel: email, template: t}]
    """)
    assert found == [
        f"s.yaml:{FIRST_RULE_LINE + 1}:14: attribute access is not allowed; only the declared fact names may be used"
    ]


def test_columns_point_into_multi_line_conditions() -> None:
    found = problems("""
        - id: folded
          when: >
            dunning_level == 0
            and days_past_dux > 3
          then: [remind: {channel: email, template: t}]
    """)
    assert found == [f"s.yaml:{FIRST_RULE_LINE + 3}:11: unknown fact 'days_past_dux'; did you mean 'days_past_due'?"]


@pytest.mark.parametrize(
    "text",
    [
        "(" * 3000 + "days_past_due > 1" + ")" * 3000,
        "not " * 3000 + "disputed",
        "days_past_due > " + "- " * 3000 + "1",
        "days_past_due > " + " + ".join(["1"] * 3000),
    ],
    ids=["parentheses", "not", "minus", "a chain of terms"],
)
def test_a_condition_nested_thousands_deep_is_a_syntax_problem_not_a_crash(text: str) -> None:
    with pytest.raises(SyntaxProblem, match="nests deeper than"):
        parse(text)


def test_a_condition_nested_a_few_levels_still_parses() -> None:
    assert parse("not (" * 10 + "days_past_due > 1 + 2 * 3" + ")" * 10) is not None


def test_yaml_nested_thousands_deep_is_a_strategy_problem() -> None:
    from engine.rules.errors import StrategyError
    from engine.rules.yamlsrc import compose

    with pytest.raises(StrategyError, match="nested too deeply"):
        compose("a: " + "[" * 5000 + "]" * 5000, "deep.yaml")

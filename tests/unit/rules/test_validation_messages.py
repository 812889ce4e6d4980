"""Validation fails closed, and every message reads FILE:LINE:COL: message."""

from __future__ import annotations

from pathlib import Path

import pytest
from rules_helpers import FIRST_RULE_LINE, problems, strategy_text

from engine.rules.errors import StrategyError
from engine.rules.loader import load_file, load_text

L = FIRST_RULE_LINE
REMIND = "[remind: {channel: email, template: t}]"
DUN = "[dun: {channel: email, template: t}]"


def test_a_yaml_syntax_error_names_its_position() -> None:
    with pytest.raises(StrategyError) as caught:
        load_text("strategy: x\nversion: 1\nrules: [a, b\n", "bad.yaml")
    assert str(caught.value).startswith("bad.yaml:4:1: YAML syntax error:")


@pytest.mark.parametrize(
    "char, message",
    [("\x00", "a NUL (U+0000) character is not allowed in YAML"),
     ("\x1b", "the control character U+001B is not allowed in YAML")],
)  # fmt: skip
def test_a_nul_or_control_character_names_its_line_and_column_and_never_shows_itself(char: str, message: str) -> None:
    with pytest.raises(StrategyError) as caught:
        load_text(f"strategy: x\nversion: 1\ndescription: ab{char}cd\nrules: []\n", "bad.yaml")
    assert str(caught.value) == f"bad.yaml:3:16: {message}"


def test_an_unknown_top_level_key_gets_a_suggestion() -> None:
    text = strategy_text(f"- {{id: a, when: 'true', then: {REMIND}}}").replace("version:", "versoin: 2\nversion:")
    with pytest.raises(StrategyError) as caught:
        load_text(text, "s.yaml")
    assert "s.yaml:2:1: unknown key 'versoin' in the strategy; did you mean 'version'?" in str(caught.value)


def test_an_unknown_rule_key_and_a_missing_one_are_both_reported() -> None:
    found = problems(f"""
        - id: a
          wen: days_past_due > 3
          then: {REMIND}
    """)
    assert found == [
        f"s.yaml:{L}:5: missing 'when' in a rule",
        f"s.yaml:{L + 1}:5: unknown key 'wen' in a rule; did you mean 'when'?",
    ]


def test_an_unknown_action_gets_a_suggestion() -> None:
    found = problems("""
        - id: a
          when: days_past_due > 3
          then: [dunn: {channel: email, template: t}]
    """)
    assert found == [f"s.yaml:{L + 2}:12: unknown action 'dunn'; did you mean 'dun'?"]


def test_an_unknown_action_parameter_value_gets_a_suggestion() -> None:
    found = problems("""
        - id: a
          when: days_past_due > 3
          then: [dun: {channel: emial, template: t}]
    """)
    assert found == [f"s.yaml:{L + 2}:27: unknown dun channel 'emial'; did you mean 'email'?"]


def test_an_unknown_hold_reason_lists_the_machine_reasons() -> None:
    found = problems("""
        - id: a
          when: account.max_days_past_due > 30
          then: [credit_hold: {reason: overdue_30}]
    """)
    assert found == [f"s.yaml:{L + 2}:34: unknown credit_hold reason 'overdue_30'; did you mean 'overdue'?"]


def test_a_money_type_error_points_at_the_comparison() -> None:
    found = problems(f"""
        - id: a
          when: days_past_due > 3 and open_amount > 50
          then: {DUN}
    """)
    assert found == [
        f"s.yaml:{L + 1}:45: money compared with a plain number; write the amount with a currency, "
        "e.g. 50 EUR (only 0 needs none)"
    ]


def test_duplicate_rule_ids_name_the_first_one() -> None:
    found = problems(f"""
        - {{id: a, when: days_past_due > 3, then: {DUN}}}
        - {{id: a, when: days_past_due > 9, then: {DUN}}}
    """)
    assert found == [f"s.yaml:{L + 1}:10: duplicate rule id 'a' (first at line {L})"]


def test_a_rule_after_one_that_always_matches_can_never_fire() -> None:
    found = problems(f"""
        - {{id: catch-all, when: "true", then: {REMIND}}}
        - {{id: later, when: days_past_due > 3, then: {REMIND}}}
    """)
    assert found == [
        f"s.yaml:{L + 1}:23: rule 'later' can never fire: earlier rule 'catch-all' (line {L}) matches whenever "
        "it does, and the first match wins in track 'dunning'"
    ]


def test_an_identical_or_narrower_interval_condition_is_shadowed() -> None:
    found = problems(f"""
        - {{id: wide, when: days_past_due >= 10, then: {DUN}}}
        - {{id: same, when: days_past_due >= 10, then: {DUN}}}
        - {{id: narrow, when: days_past_due > 20 and dunning_level == 1, then: {DUN}}}
    """)
    assert [m.split(": ", 1)[1].split(":")[0] for m in found] == [
        "rule 'same' can never fire",
        "rule 'narrow' can never fire",
    ]


def test_a_rule_in_another_track_is_not_shadowed() -> None:
    found = problems(f"""
        - {{id: notice, when: "true", then: {DUN}}}
        - {{id: task, track: follow-up, when: days_past_due > 3, then: [create_task: {{queue: q}}]}}
    """)
    assert found == []


def test_a_rule_whose_condition_is_never_true_is_reported() -> None:
    found = problems(f"""
        - {{id: a, when: days_past_due > 5 and days_past_due < 3, then: {DUN}}}
    """)
    assert found == [f"s.yaml:{L}:19: rule 'a' can never fire: its condition is never true"]


def test_a_rule_that_dunning_beyond_the_maximum_level_can_never_fire() -> None:
    found = problems(f"""
        - {{id: a, when: dunning_level >= 3, then: {DUN}}}
    """)
    assert len(found) == 1
    assert found[0].startswith(f"s.yaml:{L}:19: rule 'a' can never fire: its condition is never true together with")
    assert "dunning_level < 3" in found[0]


def test_dunning_a_disputed_invoice_is_an_action_the_machine_can_never_take() -> None:
    found = problems("""
        - id: a
          when: state == "disputed" and days_past_due > 3
          then:
            - dun: {channel: email, template: t}
    """)
    assert found == [
        f"s.yaml:{L + 3}:9: 'dun' can never be taken: rule 'a' only sees invoices in state disputed, "
        "and the invoice machine allows it only from overdue, dunning"
    ]


def test_the_disputed_flag_restricts_the_states_a_rule_sees() -> None:
    found = problems("""
        - id: a
          when: disputed and days_past_due > 3
          then:
            - escalate: {to: agency}
    """)
    assert found[0].startswith(
        f"s.yaml:{L + 3}:9: 'escalate' can never be taken: rule 'a' only sees invoices in state disputed"
    )


def test_releasing_a_hold_on_an_account_that_is_not_held_is_impossible() -> None:
    found = problems("""
        - id: a
          when: not account.on_hold
          then:
            - release_hold: {reason: overdue}
    """)
    assert found == [
        f"s.yaml:{L + 3}:9: 'release_hold' can never be taken: rule 'a' only sees accounts in state active, "
        "and the account machine allows it only from on_hold"
    ]


def test_account_rules_may_only_use_customer_facts() -> None:
    found = problems("""
        - id: a
          when: days_past_due > 30
          then: [credit_hold: {reason: overdue}]
    """)
    assert len(found) == 1
    assert found[0].startswith(f"s.yaml:{L + 1}:11: 'days_past_due' is an invoice fact; account rules")


def test_a_manual_hold_cannot_be_released_by_a_rule() -> None:
    found = problems("""
        - id: a
          when: account.on_hold
          then: [release_hold: {reason: manual}]
    """)
    assert found == [
        f"s.yaml:{L + 2}:35: unknown release_hold reason 'manual'; choose one of overdue, over_limit, risk"
    ]


def test_a_test_naming_an_unknown_rule_gets_a_suggestion() -> None:
    found = problems(
        f"- {{id: first-notice, when: dunning_level == 0, then: {DUN}}}",
        tests="- {given: {days_past_due: 4}, expect: [first-notise]}",
    )
    assert found == [f"s.yaml:{L + 2}:42: unknown rule id 'first-notise'; did you mean 'first-notice'?"]


def test_an_empty_file_is_an_error_not_an_empty_strategy(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("", encoding="utf-8")
    with pytest.raises(StrategyError) as caught:
        load_file(path, "empty.yaml")
    assert str(caught.value).startswith("empty.yaml:1:1: the file is empty")


def test_min_amount_is_read_as_a_decimal_never_a_float() -> None:
    text = strategy_text(f"- {{id: a, when: dunning_level == 0, then: {DUN}}}").replace("EUR: 50.00", "EUR: 50.10")
    assert load_text(text, "s.yaml").settings.min_amount["EUR"] == 5010
    bad = text.replace("EUR: 50.10", "EUR: 50.101")
    with pytest.raises(StrategyError) as caught:
        load_text(bad, "s.yaml")
    assert "s.yaml:6:21: min_amount EUR: 50.101 has more than 2 decimals for EUR" in str(caught.value)

"""The matcher on plain values: what it applies automatically, what it only suggests, and why."""

from __future__ import annotations

import pytest

from engine.cashapp.matching import MatchIndex, OpenItem, Party, Payment, number_key
from engine.cashapp.names import normalise_name, rf_reference
from engine.cashapp.policy import CashPolicy, ToleranceRule, parse_policy
from states.errors import ValidationFailed

POLICY = CashPolicy(90, 90, ToleranceRule({"EUR": 1_500}, 200), {})


@pytest.fixture
def index() -> MatchIndex:
    parties = [
        Party(1, "Acme Industries GmbH", "smb"),
        Party(2, "Beta Trading Ltd", "smb"),
        Party(3, "Beta Trading AG", "smb"),
    ]
    items = [
        OpenItem(11, 1, "INV-2026-004711", "EUR", 50_000, "open", "2026-01-10"),
        OpenItem(12, 1, "INV-2026-004712", "EUR", 12_345, "overdue", "2026-01-20"),
        OpenItem(13, 1, "INV-2026-004713", "EUR", 20_000, "dunning", "2026-02-01"),
        OpenItem(14, 1, "INV-2026-004714", "EUR", 0, "paid", "2026-02-05"),
        OpenItem(21, 2, "INV-2026-009001", "EUR", 30_000, "open", "2026-01-10"),
        OpenItem(31, 3, "INV-2026-009501", "EUR", 40_000, "open", "2026-01-10"),
    ]
    return MatchIndex(items, parties, [(1, "iban", "DE44500105175407324931")], POLICY)


def pay(amount: int, text: str, name: str | None = None, iban: str | None = None) -> Payment:
    return Payment(amount, "EUR", name, iban, text)


def applied(index: MatchIndex, p: Payment) -> tuple[tuple[int, int], ...] | None:
    d = index.match(p)
    return d.best.allocations if d.automatic and d.best else None


def test_numbers_are_read_whatever_the_case_spacing_prefix_or_o_for_zero() -> None:
    assert number_key("inv-2O26/004711") == "INV2026004711"
    assert normalise_name("ACME Industries GmbH & Co. KG") == "acme industries"


@pytest.mark.parametrize(
    "text",
    ["Invoice INV-2026-004711", "inv 2026 004711", "RE 2026-004711", "INV2O26OO4711", rf_reference("INV-2026-004711")],
)
def test_an_invoice_named_in_any_usual_way_is_applied_when_the_amount_matches(index: MatchIndex, text: str) -> None:
    assert applied(index, pay(50_000, text)) == ((11, 50_000),)


def test_a_typo_in_the_number_is_forgiven_when_the_amount_and_payer_agree(index: MatchIndex) -> None:
    assert applied(index, pay(50_000, "INV-2026-004771", "Acme Industries")) == ((11, 50_000),)


def test_several_numbers_with_their_sum_pay_each_invoice(index: MatchIndex) -> None:
    assert applied(index, pay(62_345, "4711 / 2026-004712")) is None  # 4711 is too short to be a number
    assert applied(index, pay(62_345, "2026-004711, 2026-004712")) == ((11, 50_000), (12, 12_345))


def test_a_payer_known_by_iban_with_a_unique_amount_is_applied(index: MatchIndex) -> None:
    assert applied(index, pay(20_000, "thanks", "J Smith", "DE44 5001 0517 5407 3249 31")) == ((13, 20_000),)


def test_a_unique_combination_of_open_invoices_is_found_for_a_known_payer(index: MatchIndex) -> None:
    d = index.match(pay(32_345, "thanks", "ACME INDUSTRIES"))
    assert d.best is not None and sorted(d.best.allocations) == [(12, 12_345), (13, 20_000)]


def test_bank_charges_within_tolerance_settle_with_the_difference(index: MatchIndex) -> None:
    d = index.match(pay(49_200, "INV-2026-004711"))
    assert d.automatic and d.best is not None
    assert (d.best.allocations, d.best.short_paid) == (((11, 49_200),), ((11, 800),))


def test_naming_a_paid_invoice_is_never_applied_automatically(index: MatchIndex) -> None:
    d = index.match(pay(10_000, "INV-2026-004714", "Acme Industries"))
    assert not d.automatic
    assert any("is paid" in r for r in d.best.reasons)  # type: ignore[union-attr]


def test_a_payer_name_shared_by_two_customers_is_never_applied_automatically(index: MatchIndex) -> None:
    assert applied(index, pay(30_000, "thanks", "BETA TRADING")) is None


def test_another_customers_invoice_named_by_a_different_payer_is_only_suggested(index: MatchIndex) -> None:
    d = index.match(pay(30_000, "INV-2026-009001", "Acme Industries GmbH"))
    assert not d.automatic and d.best is not None and d.best.confidence <= 60


def test_an_unknown_payer_without_a_reference_is_unmatched(index: MatchIndex) -> None:
    assert index.match(pay(99_999, "hello", "Somebody Else")).candidates == []


def test_the_policy_file_is_checked() -> None:
    policy = parse_policy(
        {
            "auto_apply_confidence": 95,
            "short_payment_tolerance": {"default": {"amount": {"EUR": "10.00"}, "percent": "1.5"}},
        }
    )
    assert policy.tolerance("smb", "EUR").amount == 1_000 and policy.tolerance("smb", "EUR").basis_points == 150
    with pytest.raises(ValidationFailed, match="auto_apply_confidence"):
        parse_policy({"auto_apply_confidence": 101})
    with pytest.raises(ValidationFailed, match="unknown setting"):
        parse_policy({"auto_aply": 90})


def test_a_remittance_full_of_digit_groups_applies_nothing(index: MatchIndex) -> None:
    noise = " ".join(f"{n:04d}-{n * 7 % 10_000:04d}" for n in range(400))  # ~4,000 characters of digit groups
    d = index.match(pay(50_000, noise))
    assert not d.automatic

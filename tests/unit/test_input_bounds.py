"""Ids, dates and column sizes: values a client can send that the tables cannot hold are a
validation error naming the field, never an internal error."""

from __future__ import annotations

from datetime import date

import pytest

from engine.store.column_errors import as_validation
from schema.ids import MAX_ID, MAX_LOG_ID, parse_id
from states.calendar import FIRST_DATE, LAST_DATE, check_date, check_days
from states.errors import ValidationFailed


@pytest.mark.parametrize("text", ["1", "42", str(MAX_ID)])
def test_an_id_within_the_key_range_is_read_as_its_number(text: str) -> None:
    assert parse_id(text) == int(text)


@pytest.mark.parametrize(
    "text", [str(2**31), str(2**63), "0", "-1", "abc", "1.5", " 7", "１", "9" * 400, "", "0x1F", "+3"]
)
def test_an_id_of_any_other_size_or_shape_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(ValidationFailed, match="is not an id") as caught:
        parse_id(text, "invoiceId")
    assert caught.value.field == "invoiceId"


def test_ids_of_the_append_only_logs_may_use_64_bits() -> None:
    assert parse_id(str(2**40), "deliveryId", MAX_LOG_ID) == 2**40
    with pytest.raises(ValidationFailed):
        parse_id(str(2**63), "deliveryId", MAX_LOG_ID)


@pytest.mark.parametrize("day", [date(1, 1, 1), date(9999, 12, 31), date(1899, 12, 31), date(2200, 1, 1)])
def test_a_date_outside_the_supported_range_is_refused(day: date) -> None:
    with pytest.raises(ValidationFailed, match="outside the supported dates"):
        check_date(day, "asOf")


def test_the_ends_of_the_supported_range_are_accepted() -> None:
    assert check_date(FIRST_DATE) == FIRST_DATE
    assert check_date(LAST_DATE) == LAST_DATE


def test_a_count_of_days_beyond_the_supported_dates_is_refused() -> None:
    assert check_days(30, "minDaysPastDue") == 30
    with pytest.raises(ValidationFailed, match="beyond the supported dates") as caught:
        check_days(1_000_000_000, "filter.minDaysPastDue")
    assert caught.value.field == "filter.minDaysPastDue"


@pytest.mark.parametrize(
    ("message", "field", "says"),
    [
        ("Value for attribute Invoice.number is too long. Max length is 64, value length is 300", "number", "64"),
        ("Attribute Customer[2].name is required", "name", "must not be empty"),
        ("Value 2147483648 of attr Dispute.id is greater than the maximum allowed value 2147483647", "id", "large"),
        ("Attribute Customer.external_ref is required", "externalRef", "must not be empty"),
    ],
)
def test_a_column_check_of_the_orm_reads_as_a_validation_error_on_the_api_field(
    message: str, field: str, says: str
) -> None:
    error = as_validation(ValueError(message))
    assert error is not None
    assert error.field == field
    assert says in error.message


def test_other_errors_are_not_mistaken_for_column_checks() -> None:
    assert as_validation(ValueError("something else")) is None
    assert as_validation(KeyError("name")) is None

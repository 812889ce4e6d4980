"""A customer's country and subdivision (its holiday calendar) through the CSV import and GraphQL,
on SQLite and PostgreSQL: good values are stored and read back, bad ones are reported (FILE:LINE
in a file, a typed error with its field through the API) and nothing is written."""

from __future__ import annotations

from pathlib import Path

from graphql_harness import data, run
from test_import import count, write
from test_import import run as import_run

from engine.service import Collections
from engine.services.context import Context
from engine.store.unit_of_work import read_only


def test_imported_customers_keep_their_country_and_subdivision(ctx: Context, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "customers.csv",
        "external_ref,name,segment,currency,credit_limit,timezone,country,subdivision\n"
        "C1,Munich AG,smb,EUR,100.00,Europe/Berlin,de,by\n"
        "C2,Anywhere Ltd,smb,EUR,100.00,,,\n"
        "C3,Tokyo KK,smb,JPY,100,Asia/Tokyo,JP,\n",
    )
    assert import_run(ctx, "customers", path).ok
    with read_only(ctx.store) as uow:
        found = uow.select("SELECT external_ref, timezone, country, subdivision FROM customer ORDER BY external_ref")
    assert [tuple(r) for r in found] == [
        ("C1", "Europe/Berlin", "DE", "BY"),
        ("C2", "UTC", None, None),
        ("C3", "Asia/Tokyo", "JP", None),
    ]


def test_bad_countries_and_subdivisions_are_reported_with_their_line_and_nothing_is_written(
    ctx: Context, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "customers.csv",
        "external_ref,name,segment,currency,credit_limit,country,subdivision\n"
        "C1,Good,smb,EUR,100.00,DE,BE\n"
        "C2,No Such Country,smb,EUR,100.00,XX,\n"
        "C3,Alpha Three,smb,EUR,100.00,DEU,\n"
        "C4,Wrong State,smb,EUR,100.00,DE,CA\n"
        "C5,State Alone,smb,EUR,100.00,,BY\n",
    )
    result = import_run(ctx, "customers", path)
    report = result.report("customers.csv")
    assert [line.split(":")[1] for line in report] == ["3", "4", "5", "6"]
    assert "country 'XX' is not an ISO 3166-1 alpha-2 code" in report[0]
    assert "country 'DEU'" in report[1]
    assert "'CA' is not a subdivision of DE" in report[2]
    assert "a subdivision needs a country" in report[3]
    assert count(ctx.store, "customer") == 0
    assert count(ctx.store, "outbox") == 0


CREATE = """mutation($c: String, $s: String) { createCustomer(input: {externalRef: "X1", name: "Xeno",
    segment: "smb", currency: "EUR", creditLimit: "500", timezone: "Europe/Berlin", country: $c, subdivision: $s})
    { id country subdivision timezone } }"""


def test_a_bad_country_through_graphql_is_a_validation_error_naming_the_field_and_writes_nothing(
    service: Collections,
) -> None:
    result = run(service.ctx, CREATE, {"c": "ZZ", "s": None})
    assert result.errors is not None
    (error,) = result.errors
    assert error.extensions is not None
    assert (error.extensions["code"], error.extensions["field"]) == ("VALIDATION_FAILED", "input.country")
    bad_subdivision = run(service.ctx, CREATE, {"c": "DE", "s": "TX"})
    assert bad_subdivision.errors is not None and bad_subdivision.errors[0].extensions is not None
    assert bad_subdivision.errors[0].extensions["field"] == "input.subdivision"
    assert count(service.ctx.store, "customer") == 0


def test_country_and_subdivision_are_created_read_changed_and_cleared_through_graphql(service: Collections) -> None:
    created = data(run(service.ctx, CREATE, {"c": "de", "s": "by"}))["createCustomer"]
    assert (created["country"], created["subdivision"], created["timezone"]) == ("DE", "BY", "Europe/Berlin")
    update = """mutation($i: UpdateCustomerInput!) { updateCustomer(input: $i) { country subdivision timezone } }"""
    moved = data(run(service.ctx, update, {"i": {"id": created["id"], "subdivision": "BE"}}))["updateCustomer"]
    assert (moved["country"], moved["subdivision"]) == ("DE", "BE")
    # a new country keeps no subdivision of the old one: naming it is an error, changing nothing
    clash = run(service.ctx, update, {"i": {"id": created["id"], "country": "US"}})
    assert clash.errors is not None and clash.errors[0].extensions is not None
    assert clash.errors[0].extensions["field"] == "input.subdivision"
    us = {"id": created["id"], "country": "US", "subdivision": "CA", "timezone": "America/Los_Angeles"}
    moved = data(run(service.ctx, update, {"i": us}))["updateCustomer"]
    assert moved == {"country": "US", "subdivision": "CA", "timezone": "America/Los_Angeles"}
    cleared = data(run(service.ctx, update, {"i": {"id": created["id"], "country": ""}}))["updateCustomer"]
    assert (cleared["country"], cleared["subdivision"]) == (None, None)

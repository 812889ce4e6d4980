"""The same server on PostgreSQL: a mutation and the read-back through loaders."""

from __future__ import annotations

import pytest
from server_process import running_server

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_the_server_on_postgresql_writes_and_reads_back_through_graphql(pg_database: str) -> None:
    with running_server(pg_database) as server:
        created = server.graphql(
            'mutation { createCustomer(input: {externalRef: "PG-E2E-1", name: "Pg", segment: "smb",'
            ' currency: "EUR", creditLimit: "10.00"}) { id } }'
        )
        customer_id = created["data"]["createCustomer"]["id"]
        issued = server.graphql(
            'mutation($c: ID!) { issueInvoice(input: {customerId: $c, number: "PG-INV",'
            ' amount: {amount: "12.50", currency: "EUR"}, issueDate: "2026-01-01"}) { id } }',
            {"c": customer_id},
        )
        assert "errors" not in issued, issued
        page = server.graphql(
            "query($c: ID!) { invoices(first: 5, filter: {customerId: $c}) { edges { node { number"
            " openAmount { amount } customer { externalRef } history(last: 5) { trigger } } } } }",
            {"c": customer_id},
        )
        (edge,) = page["data"]["invoices"]["edges"]
        assert edge["node"] == {
            "number": "PG-INV",
            "openAmount": {"amount": "12.50"},
            "customer": {"externalRef": "PG-E2E-1"},
            "history": [{"trigger": "issue"}],
        }

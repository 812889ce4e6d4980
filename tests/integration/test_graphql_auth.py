"""Roles: every mutation tried with every role; keys stored hashed; limits on query shape."""

from __future__ import annotations

import hashlib

import pytest
from graphql_harness import ROLES, codes, data, run

from engine.keys import create_key, revoke_key, verify_key
from engine.service import Collections
from engine.services.context import Context
from engine.store.unit_of_work import read_only
from schema.build import build_schema
from schema.role_matrix import operations, read_doc

# Minimal valid calls naming ids that do not exist: allowed roles reach the service (NOT_FOUND
# or success); refused roles never get that far.
MUTATIONS: dict[str, str] = {
    "createCustomer": (
        'createCustomer(input: {externalRef: "R", name: "N", segment: "smb", currency: "EUR", creditLimit: "1"}) { id }'
    ),
    "updateCustomer": 'updateCustomer(input: {id: "999", name: "N"}) { id }',
    "issueInvoice": (
        'issueInvoice(input: {customerId: "999", number: "I", amount: {amount: "1", '
        'currency: "EUR"}, issueDate: "2026-03-01"}) { id }'
    ),
    "transitionInvoice": 'transitionInvoice(input: {invoiceId: "999", trigger: DUN, reason: "r"}) { id }',
    "recordPayment": (
        'recordPayment(input: {customerId: "999", reference: "P", amount: {amount: "1", '
        'currency: "EUR"}, receivedOn: "2026-03-01"}) { id }'
    ),
    "openDispute": 'openDispute(input: {invoiceId: "999", reasonCode: OTHER}) { id }',
    "advanceDispute": 'advanceDispute(input: {disputeId: "999", step: REVIEW}) { id }',
    "resolveDispute": 'resolveDispute(input: {disputeId: "999", outcome: REJECTED}) { id }',
    "recordPromiseToPay": (
        'recordPromiseToPay(input: {invoiceId: "999", amount: "1", promisedDate: "2026-03-05"}) { id }'
    ),
    "placeCreditHold": 'placeCreditHold(input: {customerId: "999"}) { id }',
    "releaseCreditHold": 'releaseCreditHold(input: {customerId: "999", reason: MANUAL, reasonCode: "c"}) { id }',
    "reloadStrategies": "reloadStrategies { ok }",
    "validateStrategy": 'validateStrategy(source: "strategy: x") { ok }',
    "runCycle": "runCycle(dryRun: true) { applied }",
    "importStatement": 'importStatement(text: "bank_ref,booked_on,amount,currency") { transactions }',
    "applyBankTransaction": 'applyBankTransaction(id: "999", customerId: "999") { id }',
    "excludeBankTransaction": 'excludeBankTransaction(id: "999", reason: "r") { id }',
    "returnBankTransaction": 'returnBankTransaction(id: "999", reason: "r") { id }',
    "applyCredit": 'applyCredit(customerId: "999", currency: "EUR") { id }',
    "unapplyPayment": 'unapplyPayment(id: "999", reason: "r") { id }',
    "reversePayment": 'reversePayment(id: "999", reason: "r") { id }',
    "addPayerAlias": 'addPayerAlias(customerId: "999", kind: NAME, value: "x") { kind }',
    "registerWebhook": 'registerWebhook(input: {url: "http://127.0.0.1:9/h"}) { secret }',
    "updateWebhook": 'updateWebhook(input: {id: "999", description: "d"}) { id }',
    "disableWebhook": 'disableWebhook(id: "999") { id }',
    "rotateWebhookSecret": 'rotateWebhookSecret(id: "999") { secret }',
    "redeliverWebhook": 'redeliverWebhook(deliveryId: "999") { id }',
    "startBacktest": "startBacktest(days: 0) { __typename }",
    "cancelNotice": 'cancelNotice(id: "999", reason: "r") { __typename }',
    "addContact": 'addContact(customerId: "999", input: {email: "ap@example.com"}) { __typename }',
    "updateContact": 'updateContact(input: {id: "999"}) { __typename }',
    "removeContact": 'removeContact(id: "999")',
    # the collectors' workspace (docs/collectors.md)
    "createTask": 'createTask(input: {customerId: "999", queue: "q"}) { id }',
    "assignTask": 'assignTask(taskId: "999", assignee: "x") { id }',
    "startTask": 'startTask(taskId: "999") { id }',
    "completeTask": 'completeTask(input: {taskId: "999", outcome: REACHED}) { id }',
    "snoozeTask": 'snoozeTask(taskId: "999", until: "2026-12-31") { id }',
    "cancelTask": 'cancelTask(taskId: "999", reason: "r") { id }',
    "placeDunningBlock": 'placeDunningBlock(input: {customerId: "999", reasonCode: LEGAL}) { id }',
    "liftDunningBlock": 'liftDunningBlock(blockId: "999", reason: "r") { id }',
    "addNote": 'addNote(input: {customerId: "999", text: "t"}) { id }',
    "logCall": 'logCall(input: {customerId: "999", outcome: REACHED}) { id }',
    "addAttachment": 'addAttachment(input: {customerId: "999", filename: "a.txt", contentType: "text/plain", '
    'contentBase64: "aGk="}) { id }',
    "commentOnDispute": 'commentOnDispute(disputeId: "999", text: "t") { id }',
    "assignDispute": 'assignDispute(disputeId: "999", owner: "q") { id }',
    "assignCustomer": 'assignCustomer(customerId: "999", collectorId: null)',
    "writeOffInvoice": 'writeOffInvoice(invoiceId: "999", note: "n") { writtenOff }',
    "approveWriteOff": 'approveWriteOff(requestId: "999") { id }',
    "rejectWriteOff": 'rejectWriteOff(requestId: "999", reason: "r") { id }',
    "createCollector": 'createCollector(input: {name: "N", email: "n@example.com"}) { id }',
    "assignPortfolios": "assignPortfolios { assigned }",
}
QUERIES: dict[str, str] = {
    "webhooks": "webhooks { id }",
    "webhookDeliveries": "webhookDeliveries { id }",
    "invoices": "invoices(first: 1) { totalCount }",
    "customers": "customers(first: 1) { totalCount }",
}
# The role matrix as docs/api.md documents it (generated from the code by `python -m schema.export`).
DOCUMENTED = read_doc()


def test_the_documented_role_matrix_lists_every_operation_of_the_schema() -> None:
    assert set(DOCUMENTED) == {name for _kind, name, _cap in operations(build_schema())}
    assert set(MUTATIONS) == {name for kind, name, _cap in operations(build_schema()) if kind == "mutation"}


def test_every_mutation_is_allowed_or_forbidden_per_the_documented_role_matrix(ctx: Context) -> None:
    for role in ROLES:
        for name, call in MUTATIONS.items():
            got = codes(run(ctx, f"mutation {{ {call} }}", role=role))
            if role in DOCUMENTED[name]:
                assert "FORBIDDEN" not in got, (role, name, got)
            else:
                assert got == ["FORBIDDEN"], (role, name, got)


def test_queries_are_allowed_or_forbidden_per_the_documented_role_matrix(ctx: Context) -> None:
    for role in ROLES:
        for name, call in QUERIES.items():
            got = codes(run(ctx, f"{{ {call} }}", role=role))
            assert ("FORBIDDEN" not in got) is (role in DOCUMENTED[name]), (role, name, got)


def test_a_refused_call_says_in_a_sentence_which_role_may_not_do_what(ctx: Context) -> None:
    result = run(ctx, "mutation { reloadStrategies { ok } }", role="collector")
    assert result.errors is not None
    assert result.errors[0].message == "the collector role may not change strategies (reloadStrategies)"


def test_without_a_key_every_field_is_unauthenticated(ctx: Context) -> None:
    assert codes(run(ctx, '{ invoice(id: "1") { id } }', role=None)) == ["UNAUTHENTICATED"]
    call = MUTATIONS["recordPayment"]
    assert codes(run(ctx, f"mutation {{ {call} }}", role=None)) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_may_read(ctx: Context, role: str) -> None:
    assert data(run(ctx, "{ invoices(first: 1) { totalCount } }", role=role))["invoices"]["totalCount"] == 0


def test_a_key_is_stored_hashed_verifies_and_stops_working_when_revoked(ctx: Context) -> None:
    principal, key = create_key(ctx, "collector", "ann's laptop")
    assert verify_key(ctx.store, key) == principal
    assert verify_key(ctx.store, key[:-1] + ("x" if key[-1] != "x" else "y")) is None
    with read_only(ctx.store) as uow:
        stored = uow.ApiKey.get(prefix=principal.prefix).secret_hash
    assert stored == hashlib.sha256(key.encode()).hexdigest() and key not in stored
    assert revoke_key(ctx, principal.prefix)
    assert verify_key(ctx.store, key) is None


def test_too_deep_queries_are_refused_before_execution(service: Collections) -> None:
    nested = "name"
    for _ in range(6):
        nested = f"customer {{ invoices {{ {nested} }} }}"
    deep = f'{{ invoice(id: "1") {{ {nested} }} }}'
    assert set(codes(run(service.ctx, deep))) == {"GRAPHQL_VALIDATION_FAILED"}


def test_too_many_aliases_are_refused(service: Collections) -> None:
    aliases = " ".join(f'a{n}: invoice(id: "1") {{ id }}' for n in range(16))
    assert codes(run(service.ctx, f"{{ {aliases} }}")) == ["GRAPHQL_VALIDATION_FAILED"]

"""Tasks through GraphQL in-process: a collector's queue, the steps, typed errors."""

from __future__ import annotations

from graphql_harness import codes, data, run, seed_portfolio

from engine.service import Collections
from states.actors import person

TASKS = """query($filter: TaskFilter, $first: Int!, $after: String) {
  tasks(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id queue status assignee outcome invoice { number } customer { externalRef }
      history { trigger toState } } } } }"""
CREATE = """mutation($input: CreateTaskInput!) { createTask(input: $input) { id status queue } }"""
ASSIGN = """mutation($id: ID!, $who: String) { assignTask(taskId: $id, assignee: $who) { assignee status } }"""
START = """mutation($id: ID!) { startTask(taskId: $id) { status version } }"""
COMPLETE = """mutation($input: CompleteTaskInput!) { completeTask(input: $input) { status outcome resultNote } }"""
SNOOZE = """mutation($id: ID!, $until: Date!) { snoozeTask(taskId: $id, until: $until) { status snoozedUntil } }"""
CANCEL = """mutation($id: ID!, $reason: String!) { cancelTask(taskId: $id, reason: $reason) { status } }"""


def test_a_collector_lists_their_tasks_and_works_one_to_done(service: Collections) -> None:
    ids = seed_portfolio(service, customers=2, invoices_each=1)
    ctx = service.ctx
    made = [
        data(run(ctx, CREATE, {"input": {"customerId": str(c), "invoiceId": str(i), "queue": "collections"}}))
        for c, i in ((1, ids[0]), (2, ids[1]))
    ]
    first, second = (m["createTask"]["id"] for m in made)
    assert data(run(ctx, ASSIGN, {"id": first, "who": "bob"}))["assignTask"] == {"assignee": "bob", "status": "OPEN"}
    mine = data(run(ctx, TASKS, {"filter": {"assignee": "bob"}, "first": 10}))["tasks"]
    assert mine["totalCount"] == 1 and mine["edges"][0]["node"]["id"] == first
    queue = data(run(ctx, TASKS, {"filter": {"assignee": "", "queue": ["collections"]}, "first": 10}))["tasks"]
    assert [e["node"]["id"] for e in queue["edges"]] == [second]
    assert data(run(ctx, START, {"id": first}))["startTask"] == {"status": "IN_PROGRESS", "version": 3}
    done = data(run(ctx, COMPLETE, {"input": {"taskId": first, "outcome": "PROMISE", "note": "Friday"}}))
    assert done["completeTask"] == {"status": "DONE", "outcome": "PROMISE", "resultNote": "Friday"}
    node = data(run(ctx, TASKS, {"filter": {"status": ["DONE"]}, "first": 1}))["tasks"]["edges"][0]["node"]
    assert [h["trigger"] for h in node["history"]] == ["open", "assign", "start", "complete"]
    assert node["invoice"]["number"] == "INV-0-0" and node["customer"]["externalRef"] == "C0"
    assert data(run(ctx, SNOOZE, {"id": second, "until": "2026-03-09"}))["snoozeTask"] == {
        "status": "SNOOZED",
        "snoozedUntil": "2026-03-09",
    }


def test_wrong_task_steps_answer_with_a_code_and_change_nothing(service: Collections) -> None:
    seed_portfolio(service, customers=1, invoices_each=1)
    ctx = service.ctx
    task = service.create_task(1, None, "collections", None, person("ann"))
    assert codes(run(ctx, SNOOZE, {"id": str(task.id), "until": "2026-03-02"})) == ["VALIDATION_FAILED"]
    assert codes(run(ctx, CANCEL, {"id": str(task.id), "reason": " "})) == ["VALIDATION_FAILED"]
    assert codes(run(ctx, START, {"id": "999"})) == ["NOT_FOUND"]
    assert codes(run(ctx, CREATE, {"input": {"customerId": "1", "queue": "Bad Queue"}})) == ["VALIDATION_FAILED"]
    data(run(ctx, CANCEL, {"id": str(task.id), "reason": "paid"}))
    assert codes(run(ctx, START, {"id": str(task.id)})) == ["INVALID_TRANSITION"]


PLACE = """mutation($input: PlaceDunningBlockInput!) { placeDunningBlock(input: $input) {
  id status inForce reasonCode endsOn invoiceId } }"""
LIFT = """mutation($id: ID!, $reason: String!) { liftDunningBlock(blockId: $id, reason: $reason) {
  status endReason history { trigger toState } } }"""
BLOCKS = """query($c: ID!, $active: Boolean!) { dunningBlocks(customerId: $c, activeOnly: $active) { id status } }"""


def test_a_collector_blocks_dunning_on_an_invoice_and_lifts_it(service: Collections) -> None:
    ids = seed_portfolio(service, customers=1, invoices_each=1)
    ctx = service.ctx
    placed = data(
        run(ctx, PLACE, {"input": {"customerId": "1", "invoiceId": str(ids[0]), "reasonCode": "NEGOTIATION"}})
    )["placeDunningBlock"]
    assert (placed["status"], placed["inForce"], placed["reasonCode"], placed["invoiceId"]) == (
        "ACTIVE",
        True,
        "NEGOTIATION",
        str(ids[0]),
    )
    assert codes(run(ctx, LIFT, {"id": placed["id"], "reason": ""})) == ["VALIDATION_FAILED"]
    lifted = data(run(ctx, LIFT, {"id": placed["id"], "reason": "agreed"}))["liftDunningBlock"]
    assert lifted["status"] == "LIFTED" and [h["trigger"] for h in lifted["history"]] == ["place", "lift"]
    assert data(run(ctx, BLOCKS, {"c": "1", "active": True}))["dunningBlocks"] == []
    assert len(data(run(ctx, BLOCKS, {"c": "1", "active": False}))["dunningBlocks"]) == 1
    past = {"customerId": "1", "reasonCode": "LEGAL", "endsOn": "2026-01-01"}
    assert codes(run(ctx, PLACE, {"input": past})) == ["VALIDATION_FAILED"]

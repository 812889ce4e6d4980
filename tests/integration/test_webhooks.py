"""Webhooks against a real HTTP receiver on loopback: signatures, retries, faults, leases."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cloudevents.core.formats.json import JSONFormat
from event_contract import became_overdue
from standardwebhooks import Webhook
from webhook_receiver import Answer, Receiver, refused_url, running_receiver

from engine.clock import FixedClock, loaded
from engine.journal import emit
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork, read_only, transact
from engine.webhooks import endpoints
from engine.webhooks.deliveries import get_delivery, list_deliveries, prune
from engine.webhooks.dispatcher import MAX_ATTEMPTS, SCHEDULE, Claimed, Dispatcher, Outcome, redeliver
from engine.webhooks.fanout import FANOUT_CURSOR, fan_out


class Killed(BaseException):
    """Stands for the process dying: not an Exception, so nothing on the way catches it."""


@pytest.fixture
def hooks_store(store: Store) -> Store:
    """The shared fixtures truncate the domain tables; clear the webhook ones here too."""
    with UnitOfWork(store, write=True) as uow:
        for sql in ("DELETE FROM webhook_attempt", "DELETE FROM webhook_delivery", "DELETE FROM webhook_endpoint"):
            uow.execute(sql)
        uow.execute("DELETE FROM lease WHERE name = $name", {"name": FANOUT_CURSOR})
        uow.commit()
    return store


@pytest.fixture
def wall() -> FixedClock:
    """Scheduling runs on this clock (tests move it); signatures always use the wall clock."""
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as r:
        yield r


def publish(store: Store, n: int = 1, type: str = "o2c.invoice.state_changed", first_id: int = 1) -> list[str]:
    """`n` outbox events for invoices (or payments) first_id…; returns their event ids."""
    payment = type == "o2c.payment.applied"

    def data(entity_id: int) -> dict[str, object]:
        if payment:
            return {
                "snapshot": {
                    "id": entity_id,
                    "currency": "EUR",
                    "amount": "1.00",
                    "unapplied": "1.00",
                    "allocations": [],
                }
            }
        return became_overdue(entity_id)

    def work(uow: UnitOfWork) -> list[str]:
        return [
            emit(
                uow,
                type=type,
                entity_type="payment" if payment else "invoice",
                entity_id=first_id + k,
                entity_version=2,
                customer_id=7,
                at=datetime(2026, 3, 2, 12, tzinfo=UTC),
                data=data(first_id + k),
            )
            for k in range(n)
        ]

    return transact(store, work)


def dispatcher(store: Store, clock: FixedClock, **kw: object) -> Dispatcher:
    options: dict[str, object] = {"clock": clock, "timeout": 2.0, "rng": random.Random(6), "allow_private": True}
    options |= kw
    return Dispatcher(store, **options)  # type: ignore[arg-type]


def only_delivery(store: Store) -> int:
    (d,) = list_deliveries(store)
    return d.id


def test_a_delivery_is_signed_per_standard_webhooks_and_carries_the_cloudevent(
    hooks_store: Store, wall: FixedClock, receiver: Receiver
) -> None:
    endpoint, secret = endpoints.register(hooks_store, receiver.url, wall.now(), allow_private=True)
    (event_id,) = publish(hooks_store)
    d = dispatcher(hooks_store, wall)
    assert d.run_once() == 1
    (request,) = receiver.received
    assert secret.startswith("whsec_")
    payload = Webhook(secret).verify(request.body, request.headers)
    assert request.headers["webhook-id"] == event_id == payload["id"]
    assert request.headers["content-type"].startswith("application/cloudevents+json")
    event = JSONFormat().read(None, request.body)
    assert event.get_specversion() == "1.0"
    assert event.get_type() == "o2c.invoice.state_changed"
    assert event.get_subject() == "invoices/1"
    assert event.get_source() == "urn:o2c-engine"
    data = event.get_data()
    assert isinstance(data, dict) and data["entityVersion"] == 2 and data["to"] == "overdue"
    delivery = get_delivery(hooks_store, only_delivery(hooks_store))
    assert delivery is not None and delivery.status == "succeeded" and delivery.attempts == 1
    assert [a.status_code for a in delivery.attempt_log] == [200]
    assert delivery.endpoint_id == endpoint.id


def test_a_signature_made_with_another_secret_does_not_verify(
    hooks_store: Store, wall: FixedClock, receiver: Receiver
) -> None:
    endpoints.register(hooks_store, receiver.url, wall.now(), allow_private=True)
    publish(hooks_store)
    dispatcher(hooks_store, wall).run_once()
    (request,) = receiver.received
    with pytest.raises(Exception, match="signature"):
        Webhook(endpoints.new_secret()).verify(request.body, request.headers)


def test_a_receiver_that_is_down_gets_the_event_once_it_is_back(
    hooks_store: Store, wall: FixedClock, receiver: Receiver
) -> None:
    endpoint, _ = endpoints.register(hooks_store, refused_url(), wall.now(), allow_private=True)
    (event_id,) = publish(hooks_store)
    d = dispatcher(hooks_store, wall)
    d.run_once()
    delivery = get_delivery(hooks_store, only_delivery(hooks_store))
    assert delivery is not None and delivery.status == "pending" and delivery.attempts == 1
    assert delivery.last_status_code is None and "connect" in (delivery.last_error or "")
    wait = (delivery.next_attempt_at - wall.now()).total_seconds()
    assert SCHEDULE[0] * 0.9 <= wait <= SCHEDULE[0] * 1.1
    assert d.run_once() == 0  # not due yet
    endpoints.update(hooks_store, endpoint.id, url=receiver.url, allow_private=True)
    wall.advance(seconds=SCHEDULE[0] * 2)
    assert d.run_once() == 1
    assert receiver.ids() == [event_id]
    delivery = get_delivery(hooks_store, delivery.id)
    assert delivery is not None and delivery.status == "succeeded" and len(delivery.attempt_log) == 2


def test_a_500_is_retried_with_the_same_webhook_id(hooks_store: Store, wall: FixedClock, receiver: Receiver) -> None:
    _, secret = endpoints.register(hooks_store, receiver.url, wall.now(), allow_private=True)
    (event_id,) = publish(hooks_store)
    receiver.answer(Answer(500))
    d = dispatcher(hooks_store, wall)
    d.run_once()
    delivery = get_delivery(hooks_store, only_delivery(hooks_store))
    assert delivery is not None and delivery.status == "pending" and delivery.last_status_code == 500
    wall.advance(seconds=SCHEDULE[0] * 2)
    d.run_once()
    assert receiver.ids() == [event_id, event_id]
    for request in receiver.received:
        Webhook(secret).verify(request.body, request.headers)
    delivery = get_delivery(hooks_store, delivery.id)
    assert delivery is not None and delivery.status == "succeeded"
    assert [a.status_code for a in delivery.attempt_log] == [500, 200]


def test_a_receiver_that_times_out_is_retried(hooks_store: Store, wall: FixedClock, receiver: Receiver) -> None:
    endpoints.register(hooks_store, receiver.url, wall.now(), allow_private=True)
    publish(hooks_store)
    receiver.answer(Answer(hang=True))
    d = dispatcher(hooks_store, wall, timeout=0.2)
    d.run_once()
    receiver.release.set()
    delivery = get_delivery(hooks_store, only_delivery(hooks_store))
    assert delivery is not None and delivery.status == "pending" and "timeout" in (delivery.last_error or "")
    wall.advance(seconds=SCHEDULE[0] * 2)
    d.run_once()
    delivery = get_delivery(hooks_store, delivery.id)
    assert delivery is not None and delivery.status == "succeeded"


def test_a_410_disables_the_endpoint_and_its_deliveries_wait_until_it_is_enabled(
    hooks_store: Store, wall: FixedClock, receiver: Receiver
) -> None:
    endpoint, _ = endpoints.register(hooks_store, receiver.url, wall.now(), allow_private=True)
    first, second = publish(hooks_store, 2)
    receiver.answer(Answer(410))
    d = dispatcher(hooks_store, wall, batch=1)
    d.run_once()
    assert endpoints.get(hooks_store, endpoint.id).enabled is False
    assert "410" in (endpoints.get(hooks_store, endpoint.id).disabled_reason or "")
    wall.advance(days=1)
    assert d.run_once() == 0  # nothing is sent to a disabled endpoint
    assert {x.status for x in list_deliveries(hooks_store)} == {"pending"}
    endpoints.update(hooks_store, endpoint.id, enabled=True, allow_private=True)
    while d.run_once():
        pass
    assert receiver.ids() == [first, first, second]
    assert {x.status for x in list_deliveries(hooks_store)} == {"succeeded"}


def test_after_a_410_the_rest_of_the_claimed_batch_is_not_sent_and_waits_unleased(
    hooks_store: Store, wall: FixedClock, receiver: Receiver
) -> None:
    endpoint, _ = endpoints.register(hooks_store, receiver.url, wall.now(), allow_private=True)
    first, *_ = publish(hooks_store, 3)
    receiver.answer(Answer(410))
    d = dispatcher(hooks_store, wall, batch=10)
    assert d.run_once() == 3  # all three were claimed in one batch
    assert receiver.ids() == [first]  # only the first was sent
    rows = list_deliveries(hooks_store)
    assert {x.status for x in rows} == {"pending"}
    assert sum(x.attempts for x in rows) == 1
    endpoints.update(hooks_store, endpoint.id, enabled=True, allow_private=True)
    while d.run_once():  # given back at once, not after the lease: re-enabling resumes them now
        pass
    assert {x.status for x in list_deliveries(hooks_store)} == {"succeeded"}


def test_a_destination_that_turns_private_is_refused_at_delivery_and_retried(
    hooks_store: Store, wall: FixedClock, receiver: Receiver
) -> None:
    endpoints.register(hooks_store, receiver.url, wall.now(), allow_private=True)
    publish(hooks_store)
    d = dispatcher(hooks_store, wall, allow_private=False)  # the receiver is on 127.0.0.1
    d.run_once()
    assert receiver.ids() == []
    (delivery,) = list_deliveries(hooks_store)
    assert delivery.status == "pending" and delivery.attempts == 1
    assert "refused destination" in (delivery.last_error or "")


def test_the_retry_schedule_scales_with_o2c_webhook_retry_scale(
    hooks_store: Store, wall: FixedClock, receiver: Receiver
) -> None:
    endpoints.register(hooks_store, receiver.url, wall.now(), allow_private=True)
    publish(hooks_store)
    receiver.answer(Answer(503))
    d = dispatcher(hooks_store, wall, retry_scale=0.01)
    d.run_once()
    (delivery,) = list_deliveries(hooks_store)
    wait = (delivery.next_attempt_at - wall.now()).total_seconds()
    assert SCHEDULE[0] * 0.01 * 0.9 <= wait <= SCHEDULE[0] * 0.01 * 1.1


def test_a_429_with_retry_after_is_not_retried_sooner(hooks_store: Store, wall: FixedClock, receiver: Receiver) -> None:
    endpoints.register(hooks_store, receiver.url, wall.now(), allow_private=True)
    publish(hooks_store)
    receiver.answer(Answer(429, {"Retry-After": "3600"}))
    d = dispatcher(hooks_store, wall)
    d.run_once()
    delivery = get_delivery(hooks_store, only_delivery(hooks_store))
    assert delivery is not None and delivery.status == "pending" and delivery.last_status_code == 429
    assert delivery.next_attempt_at >= wall.now() + timedelta(seconds=3600)
    wall.advance(seconds=3599)
    assert d.run_once() == 0
    wall.advance(seconds=1)
    assert d.run_once() == 1


def test_a_408_is_retried_but_other_4xx_answers_are_final(
    hooks_store: Store, wall: FixedClock, receiver: Receiver
) -> None:
    endpoints.register(hooks_store, receiver.url, wall.now(), allow_private=True)
    publish(hooks_store, 2)
    receiver.answer(Answer(408), Answer(400))
    dispatcher(hooks_store, wall).run_once()
    by_code = {x.last_status_code: x.status for x in list_deliveries(hooks_store)}
    assert by_code == {408: "pending", 400: "dead"}


def test_an_exhausted_delivery_is_dead_after_about_three_days_and_can_be_redelivered(
    hooks_store: Store, wall: FixedClock, receiver: Receiver
) -> None:
    endpoints.register(hooks_store, receiver.url, wall.now(), allow_private=True)
    (event_id,) = publish(hooks_store)
    receiver.answer(*[Answer(503) for _ in range(MAX_ATTEMPTS)])
    d = dispatcher(hooks_store, wall)
    started = wall.now()
    d.run_once()
    delivery_id = only_delivery(hooks_store)
    while True:
        delivery = get_delivery(hooks_store, delivery_id)
        assert delivery is not None
        if delivery.status != "pending":
            break
        wall.set(delivery.next_attempt_at)
        d.run_once()
    assert delivery.status == "dead" and delivery.attempts == MAX_ATTEMPTS == 11
    span = wall.now() - started
    assert timedelta(days=2, hours=12) <= span <= timedelta(days=3, hours=6)
    assert redeliver(hooks_store, delivery_id, wall.now()) == "pending"
    d.run_once()
    delivery = get_delivery(hooks_store, delivery_id)
    assert delivery is not None and delivery.status == "succeeded"
    assert len(delivery.attempt_log) == MAX_ATTEMPTS + 1
    assert set(receiver.ids()) == {event_id}


def test_a_dispatcher_killed_between_sending_and_recording_is_redelivered_with_the_same_webhook_id(
    hooks_store: Store, wall: FixedClock, receiver: Receiver
) -> None:
    _, secret = endpoints.register(hooks_store, receiver.url, wall.now(), allow_private=True)
    (event_id,) = publish(hooks_store)

    def die(_c: Claimed, _o: Outcome) -> None:
        raise Killed

    doomed = dispatcher(hooks_store, wall, after_send=die, lease_seconds=60)
    with pytest.raises(Killed):
        doomed.run_once()
    survivor = dispatcher(hooks_store, wall, lease_seconds=60)
    assert survivor.run_once() == 0  # the dead dispatcher's lease still holds
    wall.advance(seconds=61)
    assert survivor.run_once() == 1
    assert receiver.ids() == [event_id, event_id]
    for request in receiver.received:
        assert Webhook(secret).verify(request.body, request.headers)["id"] == event_id
    delivery = get_delivery(hooks_store, only_delivery(hooks_store))
    assert delivery is not None and delivery.status == "succeeded"


def test_endpoint_filters_choose_event_types_and_subjects(
    hooks_store: Store, wall: FixedClock, receiver: Receiver
) -> None:
    by_type, _ = endpoints.register(
        hooks_store, receiver.url, wall.now(), event_types=["o2c.payment.applied"], allow_private=True
    )
    by_subject, _ = endpoints.register(
        hooks_store, receiver.url, wall.now(), subject_filter="invoices/2", allow_private=True
    )
    every, _ = endpoints.register(hooks_store, receiver.url, wall.now(), allow_private=True)
    publish(hooks_store, 2)
    publish(hooks_store, 1, type="o2c.payment.applied", first_id=9)
    fan_out(hooks_store, wall.now())
    counts = Counter(d.endpoint_id for d in list_deliveries(hooks_store))
    assert counts == {by_type.id: 1, by_subject.id: 1, every.id: 3}


def test_an_endpoint_gets_only_events_after_it_was_registered(
    hooks_store: Store, wall: FixedClock, receiver: Receiver
) -> None:
    publish(hooks_store, 3)
    endpoints.register(hooks_store, receiver.url, wall.now(), allow_private=True)
    (later,) = publish(hooks_store, 1, first_id=5)
    dispatcher(hooks_store, wall).run_once()
    assert receiver.ids() == [later]


def test_two_dispatchers_send_every_delivery_exactly_once(
    hooks_store: Store, wall: FixedClock, receiver: Receiver
) -> None:
    endpoints.register(hooks_store, receiver.url, wall.now(), allow_private=True)
    endpoints.register(hooks_store, receiver.url + "/second", wall.now(), allow_private=True)
    ids = publish(hooks_store, 60)
    workers = [dispatcher(hooks_store, wall, batch=5, holder=f"d{n}") for n in range(3)]
    errors: list[BaseException] = []

    def drain(d: Dispatcher) -> None:
        try:
            idle = 0
            while idle < 3:
                idle = 0 if d.run_once() else idle + 1
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=drain, args=(d,)) for d in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    sent = Counter((r.path, r.headers["webhook-id"]) for r in receiver.received)
    assert len(sent) == 120 and set(sent.values()) == {1}
    assert {i for _, i in sent} == set(ids)
    with read_only(hooks_store) as uow:
        senders = {a.dispatcher for a in uow.WebhookAttempt.select()}
    assert {x.status for x in list_deliveries(hooks_store, limit=500)} == {"succeeded"}
    assert senders <= {"d0", "d1", "d2"}


def test_deliveries_can_be_listed_by_endpoint_and_status(
    hooks_store: Store, wall: FixedClock, receiver: Receiver
) -> None:
    one, _ = endpoints.register(hooks_store, receiver.url, wall.now(), allow_private=True)
    two, _ = endpoints.register(hooks_store, refused_url(), wall.now(), allow_private=True)
    publish(hooks_store, 2)
    dispatcher(hooks_store, wall).run_once()
    assert {d.status for d in list_deliveries(hooks_store, endpoint_id=one.id)} == {"succeeded"}
    assert len(list_deliveries(hooks_store, endpoint_id=two.id, status="pending")) == 2
    assert list_deliveries(hooks_store, endpoint_id=two.id, status="succeeded") == []
    assert loaded(datetime(2026, 1, 1)).tzinfo is UTC


def test_finished_deliveries_are_removed_after_fourteen_days_and_pending_ones_are_kept(
    hooks_store: Store, wall: FixedClock, receiver: Receiver
) -> None:
    endpoints.register(hooks_store, receiver.url, wall.now(), allow_private=True)
    publish(hooks_store, 3)
    receiver.answer(Answer(200), Answer(400), Answer(503))
    dispatcher(hooks_store, wall).run_once()
    assert prune(hooks_store, wall.now() + timedelta(days=13)) == 0
    assert prune(hooks_store, wall.now() + timedelta(days=15)) == 2
    assert [d.status for d in list_deliveries(hooks_store)] == ["pending"]

"""Webhook secrets at rest and in rotation, and endpoints that keep failing: secrets are stored sealed
(Fernet under O2C_SECRET_KEY, or a key file the single box makes); for a day after a rotation every
delivery carries signatures by both secrets; an endpoint failing five days in a row is disabled with
the reason. `o2c webhooks list` and `o2c keys list` show what is registered."""

# ruff: noqa: F811  (the webhook fixtures come from test_webhooks)
from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from standardwebhooks import Webhook, WebhookVerificationError
from test_webhooks import dispatcher, hooks_store, publish, receiver, wall  # noqa: F401  (fixtures)
from webhook_receiver import Receiver, refused_url

from api.cli import main
from engine.clock import FixedClock
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork, read_only
from engine.webhooks import endpoints, sealing
from states.errors import ValidationFailed


def _stored_secret(store: Store, endpoint_id: int) -> str:
    with read_only(store) as uow:
        return str(uow.WebhookEndpoint[endpoint_id].secret)


def test_a_secret_is_stored_sealed_and_only_the_same_key_opens_it(
    hooks_store: Store, wall: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("O2C_SECRET_KEY", Fernet.generate_key().decode())
    endpoint, secret = endpoints.register(hooks_store, "http://127.0.0.1:9/hooks", wall.now(), allow_private=True)
    stored = _stored_secret(hooks_store, endpoint.id)
    assert stored.startswith("fernet:") and secret not in stored and endpoint.sealed
    assert sealing.unseal(stored) == secret
    monkeypatch.setenv("O2C_SECRET_KEY", Fernet.generate_key().decode())
    with pytest.raises(ValidationFailed, match="not the key it was sealed with"):
        sealing.unseal(stored)


def test_without_a_configured_key_the_single_box_makes_one_file_and_keeps_using_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("O2C_SECRET_KEY", raising=False)
    monkeypatch.setenv("O2C_SECRET_KEY_FILE", str(tmp_path / "data" / "secret.key"))
    sealed = sealing.seal("whsec_abc")
    key_file = tmp_path / "data" / "secret.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_text()
    assert sealing.unseal(sealing.seal("whsec_def")) == "whsec_def" and key_file.read_text() == key
    assert Fernet(key.strip().encode()).decrypt(sealed.removeprefix("fernet:").encode()) == b"whsec_abc"


def test_secrets_stored_in_plain_text_before_are_sealed_by_the_upgrade(hooks_store: Store, wall: FixedClock) -> None:
    endpoint, secret = endpoints.register(hooks_store, "http://127.0.0.1:9/hooks", wall.now(), allow_private=True)
    with UnitOfWork(hooks_store, write=True) as uow:
        uow.WebhookEndpoint[endpoint.id].secret = secret  # as written before sealing existed
        uow.commit()
    assert not endpoints.get(hooks_store, endpoint.id).sealed
    assert endpoints.seal_stored_secrets(hooks_store) == 1
    assert sealing.unseal(_stored_secret(hooks_store, endpoint.id)) == secret
    assert endpoints.seal_stored_secrets(hooks_store) == 0


def test_for_a_day_after_a_rotation_both_secrets_sign_and_then_only_the_new_one(
    hooks_store: Store, wall: FixedClock, receiver: Receiver
) -> None:
    endpoint, old = endpoints.register(hooks_store, receiver.url, wall.now(), allow_private=True)
    _view, new = endpoints.rotate_secret(hooks_store, endpoint.id, wall.now())
    publish(hooks_store, 1)
    d = dispatcher(hooks_store, wall)
    assert d.run_once() == 1
    first = receiver.received[-1]
    assert len(first.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(first.body, first.headers)  # a receiver still on the old secret verifies
    Webhook(new).verify(first.body, first.headers)  # and one already on the new secret too
    wall.advance(days=1, seconds=60)
    publish(hooks_store, 1, first_id=2)
    assert d.run_once() == 1
    later = receiver.received[-1]
    Webhook(new).verify(later.body, later.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(later.body, later.headers)


def _attempt(store: Store, clock: FixedClock, first_id: int) -> None:
    publish(store, 1, first_id=first_id)
    assert dispatcher(store, clock).run_once() >= 1  # the new event, and any retry that fell due


def test_an_endpoint_failing_five_days_in_a_row_is_disabled_with_the_reason_and_a_success_resets_the_count(
    hooks_store: Store, wall: FixedClock, receiver: Receiver
) -> None:
    down = refused_url()
    endpoint, _secret = endpoints.register(hooks_store, down, wall.now(), allow_private=True)
    _attempt(hooks_store, wall, 1)
    wall.advance(days=3)
    _attempt(hooks_store, wall, 2)
    assert endpoints.get(hooks_store, endpoint.id).failing_since is not None  # 3 days failing: still on
    endpoints.update(hooks_store, endpoint.id, url=receiver.url, allow_private=True)
    wall.advance(days=1)
    _attempt(hooks_store, wall, 3)
    assert receiver.received and endpoints.get(hooks_store, endpoint.id).failing_since is None  # a success
    endpoints.update(hooks_store, endpoint.id, url=down, allow_private=True)
    wall.advance(days=1)
    _attempt(hooks_store, wall, 4)  # a new streak starts here
    wall.advance(days=4, seconds=23 * 3600)
    _attempt(hooks_store, wall, 5)
    assert endpoints.get(hooks_store, endpoint.id).enabled  # 4 days 23 hours
    wall.advance(seconds=3600)
    _attempt(hooks_store, wall, 6)
    view = endpoints.get(hooks_store, endpoint.id)
    assert not view.enabled
    assert view.disabled_reason is not None and "5 days in a row" in view.disabled_reason
    assert "could not connect" in view.disabled_reason


def test_the_cli_lists_webhook_endpoints_and_api_keys(
    hooks_store: Store,
    wall: FixedClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("O2C_DATABASE_URL", database_url)
    endpoints.register(hooks_store, "http://127.0.0.1:9/hooks", wall.now(), ["o2c.invoice.issued"], allow_private=True)
    assert main(["keys", "create", "--role", "viewer", "--name", "dashboard"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["webhooks", "list"]) == 0
    listing = capsys.readouterr().out
    assert "http://127.0.0.1:9/hooks  [enabled]" in listing and "o2c.invoice.issued" in listing
    assert "secret sealed" in listing
    assert main(["keys", "list"]) == 0
    keys = capsys.readouterr().out
    assert key.split("_")[1] in keys and "viewer" in keys and "dashboard" in keys
    assert key not in keys  # the secret is never shown again

"""`o2c keys create --role ROLE` prints the key alone on its last line; it verifies."""

from __future__ import annotations

import argparse

import pytest

from api.commands import keys
from engine.keys import verify_key
from engine.store.database import Store


def test_keys_create_prints_a_working_key_on_the_last_line(
    store: Store, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("O2C_DATABASE_URL", database_url)
    parser = argparse.ArgumentParser()
    keys.register(parser.add_subparsers())
    args = parser.parse_args(["keys", "create", "--role", "integrator", "--name", "erp"])
    assert args.run(args) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    principal = verify_key(store, key)
    assert principal is not None and (principal.role, principal.name) == ("integrator", "erp")

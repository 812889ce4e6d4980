"""Fixtures of the service-layer tests (tests/integration/services/)."""

from __future__ import annotations

import pytest
from services_support import Journal

from engine.commands import CreateCustomer
from engine.service import Collections
from engine.store.database import Store


@pytest.fixture
def journal(store: Store) -> Journal:
    return Journal(store)


@pytest.fixture
def customer(service: Collections) -> int:
    cmd = CreateCustomer(external_ref="C-1", name="Acme", segment="smb", currency="EUR", credit_limit=1_000_000)
    return service.create_customer(cmd).id

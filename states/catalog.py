"""The machines by name, for the CLI, the API and the docs."""

from __future__ import annotations

from states.account import ACCOUNT
from states.bank_transaction import BANK_TRANSACTION
from states.block import BLOCK
from states.dispute import DISPUTE
from states.errors import ValidationFailed
from states.invoice import INVOICE
from states.notice import NOTICE
from states.task import TASK
from states.workflow import Workflow
from states.write_off import WRITE_OFF

MACHINES: dict[str, Workflow] = {
    "invoice": INVOICE,
    "dispute": DISPUTE,
    "account": ACCOUNT,
    "bank_transaction": BANK_TRANSACTION,
    "notice": NOTICE,
    "task": TASK,
    "dunning_block": BLOCK,
    "write_off": WRITE_OFF,
}


def machine(kind: str) -> Workflow:
    try:
        return MACHINES[kind]
    except KeyError:
        raise ValidationFailed(f"unknown machine '{kind}'; choose one of {', '.join(MACHINES)}") from None

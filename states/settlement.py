"""What else closes when an invoice leaves collection, written once: its active promises end
(kept when it was paid, cancelled with it) and its active disputes are withdrawn — by the
service, the CSV importer and bank statements alike."""

from __future__ import annotations

from states import invoice as inv

DISPUTE_TRIGGER = "withdraw"  # an active dispute on an invoice that left collection
_PROMISE_STATUS = {inv.PAID: "kept", inv.CANCELLED: "cancelled"}


def promise_status_on_exit(invoice_state: str) -> str:
    """The status an active promise takes when its invoice reaches `invoice_state`."""
    try:
        return _PROMISE_STATUS[invoice_state]
    except KeyError:
        raise ValueError(f"an invoice leaving collection as {invoice_state!r} closes nothing") from None


def why_closed(invoice_state: str) -> str:
    """The reason written on each withdrawn dispute's history."""
    return "invoice settled" if invoice_state == inv.PAID else f"invoice {invoice_state}"

"""What counts as one message to a customer, written once for the lab's reports.

For now a message is one (customer, channel, business date): the notices of one day on one
channel reach the customer as one consolidated message, whatever the number of invoices they
list. If the notice consolidation changes that definition, only this function changes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date


def messages_per_customer(notices: Iterable[tuple[int, str, date | str]]) -> Counter[int]:
    """Messages per customer, from notices as (customer id, channel, business date)."""
    return Counter(customer for customer, _channel, _day in set(notices))

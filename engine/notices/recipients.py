"""Who receives a message: per channel the address that channel needs, billing contact first.

A channel with no usable contact (none with that address, every one opted out or its address
bounced: `invalid_channels`) falls back to
the next channel the strategy allows; failing all, the message becomes a collector's task. Never a
wrong address: a letter never goes to an email address, an SMS never to a landline we were not given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

ROLE_ORDER = {"billing": 0, "ap": 1, "other": 2}
# The channels a message can fall back to, in order; `phone` and `portal` need no address here.
ADDRESS_OF = {"email": "email", "sms": "phone", "letter": "postal_address"}


@dataclass(frozen=True)
class ContactView:
    id: int
    role: str
    name: str | None
    email: str | None
    phone: str | None
    postal_address: str | None
    language: str | None
    opt_out: tuple[str, ...]
    invalid: tuple[str, ...] = ()  # channels whose address bounced (until it is changed)


@dataclass(frozen=True)
class Recipient:
    channel: str
    address: str | None  # None for phone (a collector calls) and portal
    contact: ContactView | None


def by_role(contacts: Sequence[ContactView]) -> list[ContactView]:
    return sorted(contacts, key=lambda c: (ROLE_ORDER.get(c.role, 9), c.id))


def recipient_for(channel: str, contacts: Sequence[ContactView]) -> Recipient | None:
    """The first contact (billing, then ap, then other) with an address for `channel` that has
    not opted out of it; None when there is none. The portal needs no address: always reachable."""
    if channel == "portal":
        return Recipient(channel, None, None)
    for c in by_role(contacts):
        if channel in c.opt_out or channel in c.invalid:
            continue
        if channel not in ADDRESS_OF:
            return Recipient(channel, c.phone if channel == "phone" else None, c)
        address = getattr(c, ADDRESS_OF[channel])
        if address:
            return Recipient(channel, address, c)
    return None


def choose(channel: str, allowed: Sequence[str], contacts: Sequence[ContactView]) -> Recipient | None:
    """The requested channel's recipient, else the next allowed channel's (in `allowed` order after
    the requested one, then before it); None: nobody can be reached, a collector must act."""
    order = [channel] + [c for c in allowed if c != channel and c != "phone"]
    for ch in order:
        found = recipient_for(ch, contacts)
        if found is not None:
            return found
    return None


def language_of(recipient: Recipient | None, contacts: Sequence[ContactView], default: str) -> str:
    """The recipient's language, else the billing contact's, else the default."""
    if recipient is not None and recipient.contact is not None and recipient.contact.language:
        return recipient.contact.language
    for c in by_role(contacts):
        if c.language:
            return c.language
    return default

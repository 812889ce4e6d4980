"""Contacts: who at a customer receives which channel, and the one check every entry point uses."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from engine.notices.addresses import check_email, check_phone
from engine.notices.locale import check_language
from states.errors import ValidationFailed

ROLES = ("billing", "ap", "other")
# The channels a contact can opt out of (a phone call is a collector's task, but may be refused too).
CONTACT_CHANNELS = ("email", "sms", "letter", "phone", "portal")


@dataclass(frozen=True)
class ContactFields:
    """A contact as given (import row, GraphQL input); `checked()` returns it normalized."""

    role: str = "billing"
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    postal_address: str | None = None
    language: str | None = None
    opt_out: tuple[str, ...] = field(default_factory=tuple)

    def checked(self) -> ContactFields:
        if self.role not in ROLES:
            raise ValidationFailed(f"unknown role '{self.role}'; one of {', '.join(ROLES)}", "role")
        unknown = [c for c in self.opt_out if c not in CONTACT_CHANNELS]
        if unknown:
            raise ValidationFailed(
                f"unknown channel(s) {', '.join(unknown)} in opt_out; one of {', '.join(CONTACT_CHANNELS)}", "opt_out"
            )
        email, phone, address = _text(self.email), _text(self.phone), _text(self.postal_address)
        if not (email or phone or address):
            raise ValidationFailed("a contact needs an email, a phone or a postal address", "email")
        language = _text(self.language)
        return replace(
            self,
            name=_text(self.name),
            email=check_email(email) if email else None,
            phone=check_phone(phone) if phone else None,
            postal_address=address,
            language=check_language(language) if language else None,
            opt_out=tuple(sorted(set(self.opt_out))),
        )


def _text(value: str | None) -> str | None:
    text = (value or "").strip()
    return text or None

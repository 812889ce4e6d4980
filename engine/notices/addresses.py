"""Email addresses and phone numbers: the one home of `email-validator` and `phonenumbers`."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from states.errors import ValidationFailed


def check_email(text: str, field: str = "email") -> str:
    """The normalized address; an address that is not one raises VALIDATION_FAILED (no DNS lookup)."""
    try:
        return str(validate_email(text.strip(), check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise ValidationFailed(f"'{text}' is not an email address: {exc}", field) from None


def check_phone(text: str, field: str = "phone") -> str:
    """The number in E.164 (`+4930123456`). It must carry its country code (`+49 …`)."""
    try:
        number = phonenumbers.parse(text.strip(), None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed(f"'{text}' is not a phone number in international form (+CC …): {exc}", field) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed(f"'{text}' is not a valid phone number", field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

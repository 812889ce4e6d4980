"""The channel port's pure parts: the email built for a notice, the channel status /readyz shows."""

from datetime import date

import pytest

from engine.config import load_settings
from engine.notices.channels import Outgoing, channel_status
from engine.notices.mail import SmtpMail, build
from states.errors import ValidationFailed

MESSAGE = Outgoing(42, "email", "ap@acme.example", "Reminder", "Dear AP,\n", "<p>Dear AP,</p>", None,
                   date(2026, 3, 2), "C1")  # fmt: skip


def test_the_email_carries_a_message_id_derived_from_the_notice_and_both_text_and_html() -> None:
    mail = build(MESSAGE, "credit@northwind.example", "help@northwind.example")
    assert mail["Message-ID"] == "<notice-42@northwind.example>"
    assert (mail["To"], mail["Reply-To"], mail["Subject"]) == ("ap@acme.example", "help@northwind.example", "Reminder")
    assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
    assert build(MESSAGE, "credit@northwind.example", None)["Message-ID"] == mail["Message-ID"]  # a re-send


def test_the_status_never_shows_smtp_credentials_and_names_unconfigured_channels() -> None:
    status = channel_status(load_settings({"O2C_SMTP_URL": "smtp://user:secret@mail.example:587"}))
    assert "secret" not in str(status) and status["email"] == "smtp mail.example:587"
    assert status["letter"].startswith("not configured")
    assert channel_status(load_settings({"O2C_SMTP_URL": "file:data/mail"}))["email"] == "written to files in data/mail"


def test_an_smtp_url_of_another_scheme_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        SmtpMail("http://mail.example", "a@b.example", None)

"""Email over SMTP (the standard library's smtplib) or into a directory as `.eml` files.

`O2C_SMTP_URL`: `smtp://user:pass@host:port` (STARTTLS when the server offers it), `smtps://…`
(TLS from the start), or `file:DIR` (each message written as `DIR/notice-ID.eml`: "written to
file", never "delivered"). `O2C_MAIL_FROM` is the sender, `O2C_MAIL_REPLY_TO` optional. The
Message-ID is derived from the notice id, so a re-send after a crash is recognisably the same."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

from engine.notices.channels import Outgoing, Refused, Unavailable
from states.errors import ValidationFailed

TIMEOUT_S = 20.0


def build(message: Outgoing, sender: str, reply_to: str | None) -> EmailMessage:
    mail = EmailMessage()
    domain = sender.rsplit("@", 1)[-1].strip(">") or "o2c.invalid"
    mail["Message-ID"] = f"<{message.key}@{domain}>"
    mail["From"] = sender
    mail["To"] = message.recipient
    if reply_to:
        mail["Reply-To"] = reply_to
    mail["Subject"] = message.subject or ""
    mail.set_content(message.text)
    if message.html:
        mail.add_alternative(message.html, subtype="html")
    return mail


class FileMail:
    channel = "email"

    def __init__(self, directory: str, sender: str, reply_to: str | None) -> None:
        self.directory = Path(directory)
        self.sender, self.reply_to = sender, reply_to

    def send(self, message: Outgoing) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{message.key}.eml"
        path.write_bytes(bytes(build(message, self.sender, self.reply_to)))
        return f"written to file {path}"

    def finish(self) -> None:
        return None


class SmtpMail:
    channel = "email"

    def __init__(self, url: str, sender: str, reply_to: str | None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValidationFailed(f"O2C_SMTP_URL must be smtp://, smtps:// or file:, not {url!r}", "O2C_SMTP_URL")
        self.tls = parts.scheme == "smtps"
        self.host, self.port = parts.hostname, parts.port or (465 if self.tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender, self.reply_to = sender, reply_to
        self._open: smtplib.SMTP | None = None  # one connection per batch (closed by `finish`)

    def _connect(self) -> smtplib.SMTP:
        if self.tls:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT_S, context=ssl.create_default_context())
        smtp = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_S)
        smtp.ehlo()
        if smtp.has_extn("starttls"):
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        return smtp

    def _session(self) -> smtplib.SMTP:
        if self._open is None:
            smtp = self._connect()
            if self.user:
                smtp.login(self.user, self.password or "")
            self._open = smtp
        return self._open

    def send(self, message: Outgoing) -> str:
        mail = build(message, self.sender, self.reply_to)
        try:
            try:
                self._session().send_message(mail)
            except smtplib.SMTPRecipientsRefused:
                raise  # smtplib has reset the transaction: the connection serves the next message
            except (smtplib.SMTPException, OSError):
                self.finish()  # a broken connection is opened anew for the next message
                raise
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            if 500 <= int(code) < 600:
                raise Refused(f"{code} {_text(text)}") from None
            raise Unavailable(f"{code} {_text(text)}") from None
        except smtplib.SMTPResponseException as exc:
            raise Unavailable(f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise Unavailable(f"{type(exc).__name__}: {exc}") from None
        return f"accepted by {self.host}:{self.port}"

    def finish(self) -> None:
        smtp, self._open = self._open, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def mail_adapter(url: str, sender: str, reply_to: str | None) -> FileMail | SmtpMail:
    """`O2C_SMTP_URL`, `O2C_MAIL_FROM`, `O2C_MAIL_REPLY_TO`."""
    if url.startswith("file:"):
        return FileMail(url.removeprefix("file:"), sender, reply_to)
    return SmtpMail(url, sender, reply_to)

"""Where webhooks may be sent: an absolute http(s) URL whose host resolves only to public
addresses. Loopback, link-local (169.254.0.0/16 with the cloud metadata services, fe80::/10),
private, shared, unspecified, multicast and reserved addresses are refused — at registration and
again before each delivery, since DNS can change in between. `O2C_WEBHOOK_ALLOW_PRIVATE=1` allows
them (local receivers, tests)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from states.errors import ValidationFailed

ALLOW_PRIVATE_ENV = "O2C_WEBHOOK_ALLOW_PRIVATE"
MAX_URL = 2000
Resolver = Callable[[str, int], list[str]]


def parse_url(url: str) -> tuple[str, int]:
    """(host, port) of an acceptable webhook URL, or VALIDATION_FAILED on `url`."""
    url = url.strip()
    if len(url) > MAX_URL:
        raise ValidationFailed(f"the webhook url is longer than {MAX_URL} characters", "url")
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as exc:  # a bad IPv6 literal, a port out of range
        raise ValidationFailed(f"the webhook url is malformed: {exc}", "url") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ValidationFailed("the webhook url must be an absolute http(s) URL", "url")
    if parts.username or parts.password:
        raise ValidationFailed("put no credentials in the webhook url; verify our signature instead", "url")
    return host, port or (443 if parts.scheme == "https" else 80)


def resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def _forbidden(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def check_destination(url: str, allow_private: bool, resolver: Resolver = resolve) -> None:
    """Refuse `url` unless every address its host resolves to is public (or private ones are allowed)."""
    host, port = parse_url(url)
    if allow_private:
        return
    try:
        addresses = resolver(host, port)
    except (OSError, UnicodeError) as exc:
        raise ValidationFailed(f"the webhook host '{host[:100]}' does not resolve: {exc}", "url") from None
    bad = [a for a in addresses if _forbidden(a)]
    if bad or not addresses:
        raise ValidationFailed(
            f"the webhook host '{host[:100]}' resolves to a private, loopback, link-local or unspecified address"
            f" ({', '.join(bad[:3])}); only public addresses are allowed ({ALLOW_PRIVATE_ENV}=1 lifts this)",
            "url",
        )

"""The smtp provider's `[provider]` settings, checked once: host, port, security, login, pace,
connections, sender override. The password comes from the environment, only when a connection opens.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from pipeline.core.config import CONTROL_CHARACTER, LINE_BREAK
from pipeline.core.errors import ConfigError
from pipeline.deliver.subscribers import (
    normalise_email,
)

PASSWORD_ENV = "NEWSLETTER_SMTP_PASSWORD"
SECURITY_MODES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
LOOPBACK_NAMES = ("localhost",)
NO_RATE_LIMIT = "unlimited"
# Several connections hide the relay's time per message (about 50 ms at SES in the same region,
# more across regions): one connection waits for each answer, so it tops out near 20 messages a
# second. 4 reach 20 a second even at 200 ms a message and cover a new SES account's 14 a second
# with room, yet stay within the few connections small mail hosts allow one client. A high rate
# wants more: rate x seconds per message, plus a few (docs/smtp.md).
DEFAULT_CONNECTIONS = 4
MAX_CONNECTIONS = 64


@dataclass(frozen=True)
class SmtpSettings:
    """`[provider]` keys of the smtp provider, checked. The password is not here: it is read
    from the environment only when a connection is opened."""

    host: str
    port: int
    security: str = "starttls"
    username: str = ""
    rate_per_second: float | None = 5.0  # None: as fast as the relay takes them ("unlimited")
    connections: int = DEFAULT_CONNECTIONS
    subscribers: str = ""  # a CSV path relative to the project root; empty: the subscriber table
    from_address: str = ""
    from_name: str = ""
    ca_file: str = ""  # extra CA certificates to trust (a private relay)
    timeout: float = 30.0


def settings_from_options(options: Mapping) -> SmtpSettings:
    def text(key: str, default: str = "") -> str:
        value = options.get(key, default)
        if not isinstance(value, str):
            raise ConfigError(f"newsletter.toml: [provider] {key} must be a string, not {value!r}")
        if CONTROL_CHARACTER.search(value) or LINE_BREAK.search(value):
            raise ConfigError(
                f"newsletter.toml: [provider] {key} holds a line break or control character ({value!r}); "
                "keep it on one line"
            )
        return value.strip()

    def number(key: str, default: float) -> float:
        value = options.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            also = f' or "{NO_RATE_LIMIT}"' if key == "rate_per_second" else ""
            raise ConfigError(f"newsletter.toml: [provider] {key} must be a number above 0{also}, not {value!r}")
        return float(value)

    host = text("host")
    if not host:
        raise ConfigError(
            "newsletter.toml: [provider] host is required for provider 'smtp' (e.g. host = \"smtp.example.com\")"
        )
    security = text("security", "starttls").lower()
    if security not in SECURITY_MODES:
        raise ConfigError(
            f"newsletter.toml: [provider] security must be one of {', '.join(SECURITY_MODES)}, not '{security}'"
        )
    port = options.get("port", DEFAULT_PORTS[security])
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError(f"newsletter.toml: [provider] port must be a whole number from 1 to 65535, not {port!r}")
    settings = SmtpSettings(
        host=host,
        port=port,
        security=security,
        username=text("username"),
        rate_per_second=None if options.get("rate_per_second") == NO_RATE_LIMIT else number("rate_per_second", 5.0),
        connections=_connections(options),
        subscribers=text("subscribers"),
        from_address=text("from_address"),
        from_name=text("from_name"),
        ca_file=text("ca_file"),
        timeout=number("timeout", 30.0),
    )
    if settings.from_address:
        try:
            normalise_email(settings.from_address)
        except ValueError as reason:
            raise ConfigError(
                f"newsletter.toml: [provider] from_address '{settings.from_address}' is not an email address: {reason}"
            ) from None
    if settings.username and security == "none" and not _is_loopback(host):
        raise ConfigError(
            f'newsletter.toml: [provider] security = "none" would send the SMTP password to {host} unencrypted; '
            'use security = "starttls" or "ssl"'
        )
    return settings


def _connections(options: Mapping) -> int:
    value = options.get("connections", DEFAULT_CONNECTIONS)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONNECTIONS:
        raise ConfigError(
            f"newsletter.toml: [provider] connections must be a whole number from 1 to {MAX_CONNECTIONS}, not {value!r}"
        )
    return value


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.lower() in LOOPBACK_NAMES

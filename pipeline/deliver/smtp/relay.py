"""The relay: one SMTP connection (STARTTLS, SSL or plain, with login), the pace of sending, and
the send loop with what each kind of refusal means. Errors name the server and never the password.
"""

from __future__ import annotations

import base64
import smtplib
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from pipeline.core.errors import ProviderError
from pipeline.deliver.smtp.settings import PASSWORD_ENV, SmtpSettings
from pipeline.tools.progress import track

Reader = TypeVar("Reader")


class Throttle:
    """At most `rate_per_second` messages a second: each `wait()` sleeps until 1/rate after the
    previous one began. Clock and sleep are injectable so tests can check the pacing exactly."""

    def __init__(
        self,
        rate_per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.interval = 1.0 / rate_per_second
        self.clock = clock
        self.sleep = sleep
        self.next_start: float | None = None

    def wait(self) -> None:
        now = self.clock()
        if self.next_start is not None and now < self.next_start:
            self.sleep(self.next_start - now)
            now = self.next_start
        self.next_start = now + self.interval


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _redacted(text: str, username: str, password: str) -> str:
    """Server replies never should, but might, echo what we sent: keep the password out."""
    if not password:
        return text
    forms = [
        password,
        base64.b64encode(f"\0{username}\0{password}".encode()).decode(),
        base64.b64encode(password.encode()).decode(),
    ]
    for form in forms:
        text = text.replace(form, "[redacted]")
    return text


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        smtp.close()


@contextmanager
def relay_connection(settings: SmtpSettings, password: str) -> Iterator[smtplib.SMTP]:
    smtp = connect(settings, password)
    try:
        yield smtp
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def connect(s: SmtpSettings, password: str) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=s.ca_file or None) if s.security != "none" else None
    smtp = None
    try:
        if s.security == "ssl":
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            if s.security == "starttls":
                smtp.starttls(context=context)
        if s.username:
            smtp.login(s.username, password)
        return smtp
    except smtplib.SMTPAuthenticationError as error:
        _close(smtp)
        raise ProviderError(
            f"{s.host}:{s.port} refused the login of user '{s.username}': "
            f"{_redacted(describe(error), s.username, password)}; "
            f"check username in newsletter.toml and {PASSWORD_ENV}",
            status=error.smtp_code,
        ) from None
    except smtplib.SMTPNotSupportedError as error:
        _close(smtp)
        raise ProviderError(f"{s.host}:{s.port}: {error}; check security and port in newsletter.toml") from None
    except ssl.SSLError as error:
        _close(smtp)
        hint = (
            " (a private CA? name its certificate in [provider] ca_file)"
            if isinstance(error, ssl.SSLCertVerificationError)
            else ""
        )
        raise ProviderError(f"TLS with {s.host}:{s.port} failed: {error.reason or error}{hint}") from None
    except (smtplib.SMTPException, OSError) as error:
        _close(smtp)
        raise ProviderError(
            f"cannot connect to SMTP server {s.host}:{s.port} ({s.security}): "
            f"{_redacted(describe(error), s.username, password)}"
        ) from None


def describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{who}: {code} {_text(reply)}" for who, (code, reply) in error.recipients.items())
    return str(error) or type(error).__name__


def send_to_each(
    pending: Sequence[Reader],
    send_one: Callable[[Reader], None],
    refused: Callable[[Reader, str], None],
    sent: Callable[[Reader], None],
) -> None:
    """The send loop: one message per reader, in order. `sent` runs as soon as the server took
    the message, before the next one starts. A permanent refusal (5xx) of one address goes to
    `refused` and the loop goes on; a temporary one (4xx) or a broken connection stops it."""
    count = 0
    for person in track(pending, "Sending"):
        try:
            send_one(person)
        except smtplib.SMTPRecipientsRefused as refusal:
            code, reply = next(iter(refusal.recipients.values()))
            if 400 <= code < 500:
                raise _stopped(
                    f"the server refused {person.email} for now ({code} {_text(reply)})", count, len(pending)
                ) from None
            refused(person, f"{code} {_text(reply)}")
            continue
        except (smtplib.SMTPException, OSError) as error:
            raise _stopped(describe(error), count, len(pending)) from None
        sent(person)
        count += 1


def _stopped(reason: str, sent: int, total: int) -> ProviderError:
    return ProviderError(
        f"smtp send stopped after {sent} of {total} messages this run: {reason}. "
        "Everyone sent to is recorded; push again to send to the rest."
    )

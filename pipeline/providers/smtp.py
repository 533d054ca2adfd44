"""SMTP: send the issue ourselves, one message per subscriber, through any relay (a mail host,
Amazon SES, Postmark, ...). The subscriber list is `.newsletter/subscribers.sqlite3` (see
pipeline/subscribers.py) or a CSV named in `[provider] subscribers`.

Each issue lives in `.newsletter/smtp/<issue key>/` (the campaign id is the issue key):

    email.eml       the message as built, its unsubscribe links holding a token placeholder
    campaign.json   issue key, content hash, status, test sends, refused recipients
    send.lock       held while a send runs, so two pushes never send the same issue at once

Exactly once: `send_now` sends to every subscriber the ledger has no recipient row for (this
issue, "smtp"), over one connection, and records each recipient in the ledger as soon as the
server accepted the message - before the next one starts. A run killed half-way and started
again sends to the rest only. The one gap is a kill between the server's "250 OK" and the
ledger commit: that one subscriber would get the issue twice.

Stage versions (pipeline/stages.py): each version is its own campaign (its own issue key) and
goes to the subscribers whose tags pick it - the first stage tag in `[audience] stages` order,
or `general` for a subscriber with none of them. A subscriber already recorded for another
version (or for the one email for everyone) of the same week is skipped, so a tag changed
half-way through a week's sends never brings her a second email.
"""
from __future__ import annotations

import base64
import copy
import fcntl
import ipaddress
import os
import re
import smtplib
import ssl
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Callable, Iterator, Mapping

from ..clock import now as utc_now
from ..console import plural, track
from ..errors import ConfigError, ProviderError, PushRefused
from ..ledger import Ledger, ledger_path
from ..model import RenderedEmail
from ..output import atomic_write
from ..stages import base_key, version_for_tags, version_key, versions
from ..subscribers import Subscriber, SubscriberStore, normalise_email, parse_subscribers_csv, store_path
from ..unsubscribe import SECRET_ENV, TOKEN_PLACEHOLDER, checked_secret, link_with_token, list_unsubscribe_headers, make_token, personalise, placeholder_url
from .base import Campaign, Provider
from .local import CAMPAIGN_FILE, EML_FILE, LocalCampaigns

PASSWORD_ENV = "NEWSLETTER_SMTP_PASSWORD"
SECURITY_MODES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
LOCK_FILE = "send.lock"
TEST_SUBJECT_PREFIX = "[Test] "
CAMPAIGN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
LOOPBACK_NAMES = ("localhost",)
# Headers may be 998 characters long (RFC 5322). Folded at 78, a List-Unsubscribe URL with a
# token is too long for one line and the email package would turn it into encoded words, which
# mail clients do not read as a link. Bodies are already encoded and are not affected.
WIRE_POLICY = policy.SMTP.clone(max_line_length=998)


@dataclass(frozen=True)
class SmtpSettings:
    """`[provider]` keys of the smtp provider, checked. The password is not here: it is read
    from the environment only when a connection is opened."""

    host: str
    port: int
    security: str = "starttls"
    username: str = ""
    rate_per_second: float = 5.0
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
        return value.strip()

    def number(key: str, default: float) -> float:
        value = options.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ConfigError(f"newsletter.toml: [provider] {key} must be a number above 0, not {value!r}")
        return float(value)

    host = text("host")
    if not host:
        raise ConfigError('newsletter.toml: [provider] host is required for provider \'smtp\' (e.g. host = "smtp.example.com")')
    security = text("security", "starttls").lower()
    if security not in SECURITY_MODES:
        raise ConfigError(f"newsletter.toml: [provider] security must be one of {', '.join(SECURITY_MODES)}, not '{security}'")
    port = options.get("port", DEFAULT_PORTS[security])
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError(f"newsletter.toml: [provider] port must be a whole number from 1 to 65535, not {port!r}")
    settings = SmtpSettings(
        host=host, port=port, security=security, username=text("username"),
        rate_per_second=number("rate_per_second", 5.0), subscribers=text("subscribers"),
        from_address=text("from_address"), from_name=text("from_name"), ca_file=text("ca_file"),
        timeout=number("timeout", 30.0),
    )
    if settings.from_address:
        try:
            normalise_email(settings.from_address)
        except ValueError as reason:
            raise ConfigError(f"newsletter.toml: [provider] from_address '{settings.from_address}' is not an email address: {reason}") from None
    if settings.username and security == "none" and not _is_loopback(host):
        raise ConfigError(
            f"newsletter.toml: [provider] security = \"none\" would send the SMTP password to {host} unencrypted; "
            'use security = "starttls" or "ssl"'
        )
    return settings


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.lower() in LOOPBACK_NAMES


class Throttle:
    """At most `rate_per_second` messages a second: each `wait()` sleeps until 1/rate after the
    previous one began. Clock and sleep are injectable so tests can check the pacing exactly."""

    def __init__(self, rate_per_second: float, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
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


def personalised_message(
    template: EmailMessage,
    recipient: Subscriber,
    token: str,
    unsubscribe_link: str,
    sender_address: str,
    sender: Address | None,
    now: datetime,
) -> EmailMessage:
    """The template addressed to one subscriber: their token in every text part, their own
    List-Unsubscribe headers (web, and mail to `sender_address`), a fresh Message-ID and Date.
    `sender` replaces the From header when given."""
    message = copy.deepcopy(template)
    for part in message.walk():
        if part.get_content_maintype() == "text" and not part.is_attachment():
            body = part.get_content()
            if TOKEN_PLACEHOLDER in body:
                _replace_text(part, personalise(body, token), is_root=part is message)
    headers = {
        "To": _address(recipient),
        "Date": format_datetime(now),
        "Message-ID": make_msgid(domain=sender_address.rpartition("@")[2] or "localhost"),
        **list_unsubscribe_headers(unsubscribe_link, sender_address, token),
    }
    if sender is not None:
        headers["From"] = sender
    for name in ("Bcc", "Cc", "X-Unsent", "List-Unsubscribe", "List-Unsubscribe-Post", *headers):
        del message[name]
    for name, value in headers.items():
        message[name] = value
    return message


def _replace_text(part: EmailMessage, text: str, is_root: bool) -> None:
    encoding = str(part.get("Content-Transfer-Encoding", "")).lower()
    keep = encoding if encoding in ("quoted-printable", "base64") else None  # else let the library choose
    part.set_content(text, subtype=part.get_content_subtype(), charset="utf-8", cte=keep)
    if not is_root:
        del part["MIME-Version"]  # set_content adds it; it belongs on the message only


def _address(subscriber: Subscriber) -> Address | str:
    try:
        return Address(display_name=subscriber.name, addr_spec=subscriber.email)
    except (ValueError, IndexError):
        return subscriber.email


def wire_format(message: EmailMessage, addresses: list[str]) -> tuple[bytes, tuple[str, ...]]:
    """The message as sent, and the MAIL FROM options it needs (SMTPUTF8 for a non-ASCII address)."""
    if all(address.isascii() for address in addresses):
        return message.as_bytes(policy=WIRE_POLICY), ()
    return message.as_bytes(policy=WIRE_POLICY.clone(utf8=True)), ("SMTPUTF8", "BODY=8BITMIME")


def unsent_placeholder_parts(message: EmailMessage) -> list[str]:
    """The text parts (text/plain, text/html) whose body lacks the unsubscribe placeholder."""
    missing = []
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html") and not part.is_attachment():
            if TOKEN_PLACEHOLDER not in part.get_content():
                missing.append(part.get_content_type())
    return missing


class SmtpProvider(LocalCampaigns, Provider):
    name = "smtp"
    targets_stages = True  # a subscriber's tags name her stage
    secret_env = (PASSWORD_ENV, SECRET_ENV)
    option_keys = ("host", "port", "security", "username", "rate_per_second", "subscribers", "from_address", "from_name", "ca_file", "timeout")

    def __init__(
        self,
        config,
        env=None,
        clock: Callable[[], datetime] | None = None,
        throttle: Throttle | None = None,
    ):
        super().__init__(config, env)
        self.settings = settings_from_options(config.provider.options)
        self.clock = clock or utc_now
        self.throttle = throttle or Throttle(self.settings.rate_per_second)

    # What the renderer puts into the email: replaced per recipient at send time.
    def unsubscribe_url(self) -> str:
        return placeholder_url(self.config.unsubscribe_url)

    # Who a send reaches: counted from the list as it is now, for `push --plan`.
    def audience(self) -> str:
        return f"{plural(len(self._subscribers_as_now()), 'active subscriber')} in {self._list_name()}"

    def stage_audience(self, stage: str | None) -> str:
        described = super().stage_audience(stage)
        if stage is None:
            return described
        stages = self.config.audience.stages
        count = sum(1 for person in self._subscribers_as_now() if version_for_tags(person.tags, stages) == stage)
        return f"{described}: {plural(count, 'active subscriber')} in {self._list_name()}"

    def _list_name(self) -> str:
        return self.settings.subscribers or store_path(self.config).relative_to(self.config.root).as_posix()

    def _subscribers_as_now(self) -> list[Subscriber]:
        """_subscribers() without creating the subscriber table: a plan changes nothing."""
        if store_path(self.config).exists():
            return self._subscribers()
        return self._csv_subscribers(set()) if self.settings.subscribers else []

    # Campaign operations.
    def find_campaign(self, issue_key: str, known_id: str | None) -> Campaign | None:
        record = self._read(issue_key) if CAMPAIGN_ID.match(issue_key) else None
        return self._campaign(record) if record else None

    def create_draft(self, email: RenderedEmail, eml: bytes) -> Campaign:
        record = {"id": email.issue.key, "issue_key": email.issue.key, "week": email.issue.week, "status": "draft",
                  "created_at": self._now(), "sent_at": None, "tests": [], "refused": {}, "stage": email.issue.stage}
        return self._write_content(record, email, eml)

    def update_draft(self, campaign_id: str, email: RenderedEmail, eml: bytes) -> Campaign:
        record = self._require(campaign_id)
        if record["status"] != "draft":
            raise PushRefused(f"smtp campaign {campaign_id} is already {record['status']}; it cannot be changed")
        with self._ledger() as ledger:
            already = len(ledger.recipients(record["issue_key"], self.name))
        if already:
            raise PushRefused(
                f"issue {record['week']} was already sent to {already} subscriber{'s' if already != 1 else ''} over smtp; changing it now would "
                "send the rest a different email. Push it unchanged to finish the send."
            )
        return self._write_content(record, email, eml)

    def test_send(self, campaign_id: str, recipients: list[str]) -> None:
        record = self._require(campaign_id)
        template = self._template(campaign_id)
        template.replace_header("Subject", TEST_SUBJECT_PREFIX + str(template["Subject"]))
        secret = self._unsubscribe_secret()
        with self._connection() as smtp:
            for address in recipients:
                self._send_one(smtp, template, Subscriber(email=address), secret)
                record["tests"].append({"to": address, "at": self._now()})
        self._write_record(record)

    def send_now(self, campaign_id: str) -> Campaign:
        secret = self._unsubscribe_secret()
        self._require(campaign_id)
        with self._send_lock(campaign_id), self._ledger() as ledger:
            record = self._require(campaign_id)  # read under the lock: another push may just have finished
            if record["status"] == "sent":
                raise ProviderError(f"smtp campaign {campaign_id} was already sent at {record['sent_at']}; not sending it again")
            template = self._template(campaign_id)
            pending = self._pending(record, ledger)
            if pending:
                self._deliver(record, template, pending, ledger, secret)
            record.update(status="sent", sent_at=self._now())
            return self._write_record(record)

    # Sending.
    def _unsubscribe_secret(self) -> str:
        return checked_secret(self.secret(SECRET_ENV))

    def _pending(self, record: dict, ledger: Ledger) -> list[Subscriber]:
        everyone = self._subscribers()
        if not everyone:
            source = self.settings.subscribers or "the subscriber list"
            raise ProviderError(f"{source} has nobody subscribed; add people with `newsletter subscribers import FILE.csv`")
        done = set(ledger.recipients(record["issue_key"], self.name)) | set(record["refused"])
        done |= self._sent_another_version(record, ledger)
        stage, stages = record.get("stage"), self.config.audience.stages
        return [person for person in everyone if person.key not in done and (stage is None or version_for_tags(person.tags, stages) == stage)]

    def _sent_another_version(self, record: dict, ledger: Ledger) -> set[str]:
        """Everyone recorded for another version of this week: the one email for everyone, or
        any stage version."""
        base = base_key(record["issue_key"], record.get("stage"))
        keys = {base, *(version_key(base, version) for version in versions(self.config.audience.stages))} - {record["issue_key"]}
        return {recipient for key in keys for recipient in ledger.recipients(key, self.name)}

    def _deliver(self, record: dict, template: EmailMessage, pending: list[Subscriber], ledger: Ledger, secret: str) -> None:
        sent = 0
        with self._connection() as smtp:
            for person in track(pending, "Sending"):
                try:
                    self._send_one(smtp, template, person, secret)
                except smtplib.SMTPRecipientsRefused as refusal:
                    code, reply = next(iter(refusal.recipients.values()))
                    if 400 <= code < 500:
                        raise self._stopped(f"the server refused {person.email} for now ({code} {_text(reply)})", sent, len(pending))
                    record["refused"][person.key] = f"{code} {_text(reply)}"
                    self._write_record(record)
                    continue
                except (smtplib.SMTPException, OSError) as error:
                    raise self._stopped(self._describe(error), sent, len(pending)) from None
                ledger.record_recipient(record["issue_key"], self.name, person.key, self.clock())
                sent += 1

    def _send_one(self, smtp: smtplib.SMTP, template: EmailMessage, person: Subscriber, secret: str) -> None:
        token = make_token(person.email, secret)
        message = personalised_message(
            template, person, token,
            unsubscribe_link=link_with_token(self.config.unsubscribe_url, token),
            sender_address=self._sender_address(),
            sender=self._sender(),
            now=self.clock(),
        )
        data, options = wire_format(message, [self._sender_address(), person.email])
        self.throttle.wait()
        smtp.sendmail(self._sender_address(), [person.email], data, mail_options=options)

    def _stopped(self, reason: str, sent: int, total: int) -> ProviderError:
        return ProviderError(
            f"smtp send stopped after {sent} of {total} messages this run: {reason}. "
            "Everyone sent to is recorded; push again to send to the rest."
        )

    def _subscribers(self) -> list[Subscriber]:
        with SubscriberStore(store_path(self.config)) as store:
            if not self.settings.subscribers:
                return store.active()
            unsubscribed = store.unsubscribed_keys()
        return self._csv_subscribers(unsubscribed)

    def _csv_subscribers(self, unsubscribed: set[str]) -> list[Subscriber]:
        path = self.config.root / self.settings.subscribers
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as error:
            raise ConfigError(f"newsletter.toml: [provider] subscribers = '{self.settings.subscribers}' cannot be read: {error.strerror}") from None
        return [person for person in parse_subscribers_csv(text, self.settings.subscribers) if person.key not in unsubscribed]

    def _sender(self) -> Address | None:
        """The From override of `[provider] from_address/from_name`, or None to keep the built one."""
        if not (self.settings.from_address or self.settings.from_name):
            return None
        name = self.settings.from_name or self.config.email.sender_name
        return Address(display_name=name, addr_spec=self._sender_address())

    def _sender_address(self) -> str:
        return self.settings.from_address or self.config.email.sender_address

    # The connection.
    @contextmanager
    def _connection(self) -> Iterator[smtplib.SMTP]:
        smtp = self._connect()
        try:
            yield smtp
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        password = self.secret(PASSWORD_ENV) if s.username else ""
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
                f"{s.host}:{s.port} refused the login of user '{s.username}': {_redacted(self._describe(error), s.username, password)}; "
                f"check username in newsletter.toml and {PASSWORD_ENV}",
                status=error.smtp_code,
            ) from None
        except smtplib.SMTPNotSupportedError as error:
            _close(smtp)
            raise ProviderError(f"{s.host}:{s.port}: {error}; check security and port in newsletter.toml") from None
        except ssl.SSLError as error:
            _close(smtp)
            hint = " (a private CA? name its certificate in [provider] ca_file)" if isinstance(error, ssl.SSLCertVerificationError) else ""
            raise ProviderError(f"TLS with {s.host}:{s.port} failed: {error.reason or error}{hint}") from None
        except (smtplib.SMTPException, OSError) as error:
            _close(smtp)
            raise ProviderError(f"cannot connect to SMTP server {s.host}:{s.port} ({s.security}): {_redacted(self._describe(error), s.username, password)}") from None

    @staticmethod
    def _describe(error: Exception) -> str:
        if isinstance(error, smtplib.SMTPResponseException):
            return f"{error.smtp_code} {_text(error.smtp_error)}"
        if isinstance(error, smtplib.SMTPRecipientsRefused):
            return "; ".join(f"{who}: {code} {_text(reply)}" for who, (code, reply) in error.recipients.items())
        return str(error) or type(error).__name__

    # Files and the ledger.
    def _ledger(self) -> Ledger:
        return Ledger(ledger_path(self.config.state_dir))

    @contextmanager
    def _send_lock(self, campaign_id: str) -> Iterator[None]:
        path = self._folder(campaign_id) / LOCK_FILE
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ProviderError(f"another push is sending smtp campaign {campaign_id} right now; let it finish") from None
            yield
        finally:
            os.close(descriptor)

    def _folder(self, campaign_id: str) -> Path:
        if not CAMPAIGN_ID.match(campaign_id):
            raise ProviderError(f"smtp campaign id '{campaign_id}' is not an issue key such as example-com-2026-W48")
        return self.config.state_dir / "smtp" / campaign_id

    def _require(self, campaign_id: str) -> dict:
        record = self._read(campaign_id)
        if record is None:
            raise ProviderError(f"smtp has no campaign {campaign_id} ({self._folder(campaign_id) / CAMPAIGN_FILE} is missing)")
        return record

    def _template(self, campaign_id: str) -> EmailMessage:
        raw = (self._folder(campaign_id) / EML_FILE).read_bytes()
        return BytesParser(policy=policy.SMTP).parsebytes(raw)

    def _write_content(self, record: dict, email: RenderedEmail, eml: bytes) -> Campaign:
        missing = unsent_placeholder_parts(BytesParser(policy=policy.SMTP).parsebytes(eml))
        if missing:
            raise ProviderError(
                f"the built email has no per-recipient unsubscribe link in its {' and '.join(missing)} part; "
                "the email templates must show the unsubscribe_url they are given"
            )
        atomic_write(self._folder(record["id"]) / EML_FILE, eml)
        record.update(subject=email.subject, content_hash=email.content_hash, updated_at=self._now())
        return self._write_record(record)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _redacted(text: str, username: str, password: str) -> str:
    """Server replies never should, but might, echo what we sent: keep the password out."""
    if not password:
        return text
    forms = [password, base64.b64encode(f"\0{username}\0{password}".encode()).decode(), base64.b64encode(password.encode()).decode()]
    for form in forms:
        text = text.replace(form, "[redacted]")
    return text


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        smtp.close()


PROVIDER = SmtpProvider

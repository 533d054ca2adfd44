"""The emails the reader service sends - the confirmation, the welcome, and "you are already
subscribed" - and the relay they go through: the outbox folder (the default, no account) or the
smtp provider's relay.

Nothing is sent from inside a request. A signup stores the reader and a row of the mail queue
(`reader_mail`) in one transaction; `MailSender` sends what is due and, when the relay fails,
leaves the row for a later try (30 s, doubling up to an hour, for as long as it takes). So a
relay that is down loses no signup, and a reader who left or was forgotten meanwhile is sent
nothing. Messages are made at send time, so the link in a confirmation is always her latest.
"""

from __future__ import annotations

import html
import logging
import os
import secrets
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from email import message_from_bytes, policy
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from pipeline.content.load import load_content
from pipeline.content.welcome import load_welcome, welcome_issue
from pipeline.core.clock import now as utc_now
from pipeline.core.config import Config
from pipeline.core.errors import ConfigError
from pipeline.deliver.reader_stages import issue_day, reader_version
from pipeline.deliver.smtp.message import personalised_message, wire_format
from pipeline.deliver.smtp.relay import describe, relay_connection
from pipeline.deliver.smtp.settings import PASSWORD_ENV, settings_from_options
from pipeline.deliver.subscribers import (
    ACTIVE,
    ALREADY_MAIL,
    CONFIRM_MAIL,
    PENDING,
    WELCOME_MAIL,
    QueuedMail,
    Subscriber,
    SubscriberStore,
)
from pipeline.deliver.tokens import (
    CONFIRM,
    PREFERENCES,
    TOKEN_PLACEHOLDER,
    link_with_token,
    make_reader_token,
    make_token,
)
from pipeline.render.email import render_email
from pipeline.render.mime import make_eml
from pipeline.tools.files import atomic_write


class _HeaderClasses(HeaderRegistry):
    """The email package makes a new class for every header it sets or reads
    (HeaderRegistry.__getitem__ calls type()); made once per header name here, a confirmation
    email takes a third of the CPU (bench/README.md, signups)."""

    def __init__(self):
        super().__init__()
        self._made: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


MESSAGE_POLICY = policy.default.clone(header_factory=_HeaderClasses())
log = logging.getLogger("newsletter.readers")
READER_OUTBOX = "readers"  # outbox/readers/<time>-<kind>-<n>.eml
POLL_SECONDS = 30.0


class Links:
    """The reader's own links, signed for her and for their purpose."""

    def __init__(self, config: Config, secret: str, clock: Callable[[], datetime] = utc_now):
        self.config, self.secret, self.clock = config, secret, clock

    def confirm(self, email: str, nonce: str) -> str:
        token = make_reader_token(email, CONFIRM, self.secret, nonce, clock=self.clock)
        return link_with_token(self.config.readers_url + "confirm/", token)

    def preferences(self, email: str) -> str:
        token = make_reader_token(email, PREFERENCES, self.secret, clock=self.clock)
        return link_with_token(self.config.readers_url + "preferences/", token)

    def unsubscribe(self, email: str) -> tuple[str, str]:
        token = make_token(email, self.secret, self.config.base_url)
        return link_with_token(self.config.unsubscribe_url, token), token


class Composer:
    """Makes each kind of reader email for one reader."""

    def __init__(self, config: Config, links: Links, clock: Callable[[], datetime] = utc_now):
        self.config, self.links, self.clock = config, links, clock
        self._welcome = None
        self._welcome_loaded = False

    def compose(self, kind: str, person: Subscriber, nonce: str) -> EmailMessage | None:
        if kind == CONFIRM_MAIL:
            return self._confirmation(person, nonce)
        if kind == ALREADY_MAIL:
            return self._already(person)
        if kind == WELCOME_MAIL:
            return self._welcome_for(person)
        raise ValueError(f"unknown reader mail {kind!r}")

    def welcome_article(self):
        if not self._welcome_loaded:
            self._welcome = load_welcome(self.config, load_content(self.config))
            self._welcome_loaded = True
        return self._welcome

    def _confirmation(self, person: Subscriber, nonce: str) -> EmailMessage:
        title, days = self.config.site.title, self.config.readers.confirm_days
        link = self.links.confirm(person.email, nonce)
        text = (
            f"Hello{' ' + person.name if person.name else ''},\n\n"
            f"Someone, we hope you, asked to get {title} by email at this address.\n"
            f"To confirm, open this link and press the button on the page:\n\n{link}\n\n"
            f"The link works for {days} days. If it was not you, ignore this email: "
            "you will not hear from us again.\n"
        )
        html = (
            f"<p>Hello{' ' + _escape(person.name) if person.name else ''},</p>"
            f"<p>Someone, we hope you, asked to get {_escape(title)} by email at this address.</p>"
            f'<p><a href="{_escape(link)}">Confirm your subscription</a> (open the link and press the button).</p>'
            f"<p>The link works for {days} days. If it was not you, ignore this email: "
            "you will not hear from us again.</p>"
        )
        return self._simple(person, f"Confirm your subscription to {title}", text, html)

    def _already(self, person: Subscriber) -> EmailMessage:
        title = self.config.site.title
        link = self.links.preferences(person.email)
        text = (
            f"Someone, we hope you, asked to subscribe this address to {title}. It is subscribed already,\n"
            f"so nothing has changed. To change your stage or details, or to leave, open:\n\n{link}\n"
        )
        html = (
            f"<p>Someone, we hope you, asked to subscribe this address to {_escape(title)}. "
            "It is subscribed already, so nothing has changed.</p>"
            f'<p><a href="{_escape(link)}">Change your stage or details, or leave</a>.</p>'
        )
        return self._simple(person, f"You are already subscribed to {title}", text, html)

    def _welcome_for(self, person: Subscriber) -> EmailMessage | None:
        article = self.welcome_article()
        if article is None:
            return None  # no content/welcome.md: `serve` said so when it started
        # her stage today from her dates when she gave them (else the stage she chose)
        stage = reader_version(person, issue_day(self.clock(), self.config.email.timezone), self.config.audience)
        preferences = self.links.preferences(person.email)
        email = render_email(
            welcome_issue(article, self.config, stage),
            self.config,
            link_with_token(self.config.unsubscribe_url, TOKEN_PLACEHOLDER),
            preferences_url=preferences,
        )
        template = message_from_bytes(make_eml(email, self.config, self.clock()), policy=policy.default)
        link, token = self.links.unsubscribe(person.email)
        return personalised_message(template, person, token, link, self.config.email.sender_address, None, self.clock())

    def _simple(self, person: Subscriber, subject: str, text: str, html: str) -> EmailMessage:
        sender = self.config.email
        message = EmailMessage(policy=MESSAGE_POLICY)
        message["From"] = Address(sender.sender_name, addr_spec=sender.sender_address)
        message["To"] = Address(display_name=person.name, addr_spec=person.email) if person.name else person.email
        message["Subject"] = subject
        message["Date"] = format_datetime(self.clock())
        message["Message-ID"] = make_msgid(domain=sender.sender_address.rpartition("@")[2] or "localhost")
        if sender.reply_to:
            message["Reply-To"] = sender.reply_to
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to this
        message.set_content(text)
        message.add_alternative(
            f'<!doctype html><html lang="{self.config.site.language}"><body>{html}</body></html>', subtype="html"
        )
        # A random boundary of our own: the email package would compile a regular expression
        # per message to check its own against the text, and fill re's cache with them.
        message.set_boundary(f"=={secrets.token_hex(16)}==")
        return message


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


class OutboxRelay:
    """Reader emails as .eml files in outbox/readers/: the demo's relay, no account needed."""

    def __init__(self, config: Config):
        self.folder = config.outbox_dir / READER_OUTBOX
        self._count = 0
        self._lock = threading.Lock()

    def send(self, message: EmailMessage, kind: str, clock: Callable[[], datetime]) -> Path:
        with self._lock:
            self._count += 1
            name = f"{clock().strftime('%Y%m%dT%H%M%S')}-{kind}-{os.getpid()}-{self._count}.eml"
        path = self.folder / name
        data, _ = wire_format(message, [str(address) for address in message.get_all("To", [])])
        atomic_write(path, data)
        return path

    def describe(self) -> str:
        return f"the outbox ({self.folder})"


class SmtpRelay:
    """Reader emails through the smtp provider's relay ([provider] host, port, ...)."""

    def __init__(self, config: Config, env: Mapping[str, str]):
        self.settings = settings_from_options(config.provider.options)
        self.password = env.get(PASSWORD_ENV, "")
        self.sender = config.email.sender_address

    def send(self, message: EmailMessage, kind: str, clock: Callable[[], datetime]) -> None:
        recipient = message["To"].addresses[0].addr_spec
        data, options = wire_format(message, [self.sender, recipient])
        with relay_connection(self.settings, self.password) as smtp:
            smtp.sendmail(self.sender, [recipient], data, mail_options=options)

    def describe(self) -> str:
        return f"the SMTP relay {self.settings.host}:{self.settings.port}"


def relay_for(config: Config, env: Mapping[str, str]):
    if config.provider.name == "outbox":
        return OutboxRelay(config)
    if config.provider.name == "smtp":
        return SmtpRelay(config, env)
    raise ConfigError(
        f"newsletter serve sends reader emails through the outbox or smtp provider, not {config.provider.name}: "
        f"with {config.provider.name}, readers sign up on its own form (the blog's form posts there)"
    )


class MailSender:
    """Sends the queue's due emails; failures wait for a later try. One per process."""

    def __init__(
        self, store_path: Path, composer: Composer, relay, clock: Callable[[], datetime] = utc_now, writes=None
    ):
        self.store_path, self.composer, self.relay, self.clock = store_path, composer, relay, clock
        self.writes = writes  # a GroupCommit: the marks share the request threads' commits
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def send_due(self) -> int:
        """Send everything due now; returns how many went."""
        sent = 0
        with SubscriberStore(self.store_path, clock=self.clock) as store:
            while batch := store.due_mail():  # a failed one is due again only later: this ends
                for mail in batch:
                    sent += self._send_one(store, mail)
        return sent

    def _send_one(self, store: SubscriberStore, mail: QueuedMail) -> int:
        person = store.get(mail.key)
        wanted = {CONFIRM_MAIL: PENDING, WELCOME_MAIL: ACTIVE, ALREADY_MAIL: ACTIVE}[mail.kind]
        if person is None or person.status != wanted:
            self._record(store, lambda s: s.mail_dropped(mail, "no longer " + wanted))
            return 0
        try:
            message = self.composer.compose(mail.kind, person, store.signup_nonce(person.email))
            if message is None:
                self._record(store, lambda s: s.mail_dropped(mail, "nothing to send"))
                return 0
            self.relay.send(message, mail.kind, self.clock)
        except Exception as error:  # the relay's, or a broken welcome: logged, tried again later
            reason = describe(error)
            when = self._record(store, lambda s: s.mail_failed(mail, reason))
            log.warning(
                "a %s email could not go through %s (%s); trying again at %s",
                mail.kind,
                self.relay.describe(),
                reason,
                when.isoformat(timespec="seconds"),
            )
            return 0
        self._record(store, lambda s: s.mail_sent(mail))
        return 1

    def _record(self, store: SubscriberStore, change: Callable[[SubscriberStore], object]):
        return self.writes.run(change) if self.writes is not None else change(store)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="reader-mail", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self.wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.wake.clear()
            try:
                self.send_due()
            except Exception as error:  # e.g. the database locked for too long: try again
                log.warning("reader mail: %s", describe(error))
            self.wake.wait(POLL_SECONDS)

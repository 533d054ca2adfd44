"""SMTP: send the issue ourselves, one message per subscriber, through any relay (a mail host,
Amazon SES, Postmark, ...). The subscriber list is `.newsletter/subscribers.sqlite3` (see
pipeline/deliver/subscribers.py) or a CSV named in `[provider] subscribers`.

Each issue lives in `.newsletter/smtp/<issue key>/` (the campaign id is the issue key):

    email.eml       the message as built, its unsubscribe links holding a token placeholder
    campaign.json   issue key, content hash, status, test sends, refused recipients
    send.lock       held while a send runs, so two pushes never send the same issue at once
    sent.log        the send journal: who the relay took the issue for (survives a lost ledger)

Exactly once: `send_now` sends to every subscriber that neither the ledger (a recipient row for
this issue, "smtp") nor the campaign's send journal (`sent.log`, pipeline/deliver/smtp/journal.py)
has, over `[provider] connections` connections at once (pipeline/deliver/smtp/relay.py), and
records each recipient in both as soon as the server accepted her message: the journal from the
connection's thread, the ledger from the calling thread (readers taken at the same moment in one
commit). A run killed half-way and started again sends to the rest only, also when the ledger was
lost meanwhile. A kill, or a lost connection, between handing the relay the final "." and its
answer leaves that reader uncertain (at most one a connection): she is not sent the issue again,
and the push names her (exit 3) until the journal is told what the relay's log says. A
connection lost before that point is opened again and the reader retried.

Stage versions (pipeline/core/stages.py): each version is its own campaign (its own issue key) and
goes to the subscribers it is for on the day it goes out (`reader_stages.reader_version`): the
stage her dates give on that day in `[email] timezone`; without dates, the stage she chose
(`subscribers.reader_version`), else her first stage tag in `[audience] stages` order, or
`general` for a subscriber with none of them.
A subscriber already recorded for another version (or for the one email for everyone) of the
same week is skipped, so a stage changed half-way through a week's sends never brings her a
second email.
"""

from __future__ import annotations

import fcntl
import os
import re
import smtplib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from pipeline.core.clock import now as utc_now
from pipeline.core.errors import ConfigError, ProviderError, PushRefused
from pipeline.core.model import RenderedEmail
from pipeline.core.stages import GENERAL_STAGE, base_key, version_key, versions
from pipeline.deliver.ledger import Ledger, ledger_path
from pipeline.deliver.providers.base import Campaign, Provider
from pipeline.deliver.providers.local import CAMPAIGN_FILE, EML_FILE, LocalCampaigns
from pipeline.deliver.reader_stages import issue_day, reader_version, version_counts
from pipeline.deliver.reader_stages import personal_line as line_for_reader
from pipeline.deliver.smtp.journal import JOURNAL_FILE, SendJournal, send_journaled
from pipeline.deliver.smtp.message import (
    PERSONAL_LINE_PLACEHOLDER,
    MessageTemplate,
    unsent_placeholder_parts,
)
from pipeline.deliver.smtp.relay import (
    Throttle,
    relay_connection,
    send_to_each,
)
from pipeline.deliver.smtp.settings import PASSWORD_ENV, settings_from_options
from pipeline.deliver.subscribers import (
    Subscriber,
    SubscriberStore,
    parse_subscribers_csv,
    store_path,
)
from pipeline.deliver.tokens import (
    PREFERENCES,
    PREFERENCES_PLACEHOLDER,
    SECRET_ENV,
    checked_secret,
    link_with_token,
    make_reader_token,
    make_token,
    placeholder_url,
)
from pipeline.tools.console import plural
from pipeline.tools.files import atomic_write

LOCK_FILE = "send.lock"
TEST_SUBJECT_PREFIX = "[Test] "
CAMPAIGN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class SmtpProvider(LocalCampaigns, Provider):
    name = "smtp"
    targets_stages = True  # a subscriber's tags name her stage
    secret_env = (PASSWORD_ENV, SECRET_ENV)
    option_keys = (
        "host",
        "port",
        "security",
        "username",
        "rate_per_second",
        "connections",
        "subscribers",
        "from_address",
        "from_name",
        "ca_file",
        "timeout",
    )

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

    def preferences_url(self) -> str:
        """The reader service's preferences page (`newsletter serve`), her token put in at send time."""
        return link_with_token(self.config.readers_url + "preferences/", PREFERENCES_PLACEHOLDER)

    def personal_line(self) -> str:
        return PERSONAL_LINE_PLACEHOLDER  # filled in for each reader from her dates as she is sent

    # Who a send reaches: counted from the list as it is now, for `push --plan`.
    def audience(self) -> str:
        return f"{plural(len(self._subscribers_as_now()), 'active subscriber')} in {self._list_name()}"

    def describe_stage_audience(self, stage: str, described: str, send_at: datetime | None = None) -> str:
        day = self._send_day(send_at)
        counts = version_counts(self._subscribers_as_now(), day, self.config.audience)
        rule = f"readers whose dates (or, without dates, stage) put them in '{stage}' on {day.isoformat()}"
        if stage == GENERAL_STAGE:
            rule = f"readers with no stage on {day.isoformat()}"
        return f"{rule}: {plural(counts[stage], 'active subscriber')} in {self._list_name()}"

    def _send_day(self, send_at: datetime | None = None) -> date:
        """The day a send at `send_at` (default: now) counts as, in `[email] timezone`."""
        return issue_day(send_at or self.clock(), self.config.email.timezone)

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
        record = {
            "id": email.issue.key,
            "issue_key": email.issue.key,
            "week": email.issue.week,
            "status": "draft",
            "created_at": self._now(),
            "sent_at": None,
            "tests": [],
            "refused": {},
            "stage": email.issue.stage,
        }
        return self._write_content(record, email, eml)

    def update_draft(self, campaign_id: str, email: RenderedEmail, eml: bytes) -> Campaign:
        record = self._require(campaign_id)
        if record["status"] != "draft":
            raise PushRefused(f"smtp campaign {campaign_id} is already {record['status']}; it cannot be changed")
        with self._ledger() as ledger:
            already = len(ledger.recipients(record["issue_key"], self.name))
        if already:
            raise PushRefused(
                f"issue {record['week']} was already sent to {already} "
                f"subscriber{'s' if already != 1 else ''} over smtp; changing it now "
                "would "
                "send the rest a different email. Push it unchanged to finish the send."
            )
        return self._write_content(record, email, eml)

    def test_send(self, campaign_id: str, recipients: list[str]) -> None:
        record = self._require(campaign_id)
        template = self._template(campaign_id)
        template.replace_header("Subject", TEST_SUBJECT_PREFIX + str(template["Subject"]))
        secret = self._unsubscribe_secret()
        messages = self._messages(template)
        day = self._send_day()
        with self._connection() as smtp:
            for address in recipients:
                self._send_one(smtp, messages, Subscriber(email=address), secret, day)
                record["tests"].append({"to": address, "at": self._now()})
        self._write_record(record)

    def send_now(self, campaign_id: str) -> Campaign:
        secret = self._unsubscribe_secret()
        self._require(campaign_id)
        with self._send_lock(campaign_id), self._ledger() as ledger:
            record = self._require(campaign_id)  # read under the lock: another push may just have finished
            if record["status"] == "sent":
                raise ProviderError(
                    f"smtp campaign {campaign_id} was already sent at {record['sent_at']}; not sending it again"
                )
            template = self._template(campaign_id)
            pending = self._pending(record, ledger)
            if pending:
                self._deliver(record, template, pending, ledger, secret)
            self._refuse_uncertain(record)
            record.update(status="sent", sent_at=self._now())
            return self._write_record(record)

    def _journal(self, record: dict) -> SendJournal:
        return SendJournal(self._folder(record["id"]) / JOURNAL_FILE)

    def _refuse_uncertain(self, record: dict) -> None:
        """Readers whose message was with the relay when a push was killed: never sent twice,
        never forgotten either."""
        uncertain = sorted(self._journal(record).state().uncertain)
        if not uncertain:
            return
        shown = ", ".join(uncertain[:5]) + (f" and {len(uncertain) - 5} more" if len(uncertain) > 5 else "")
        raise ProviderError(
            f"smtp: {len(uncertain)} reader{'s' if len(uncertain) != 1 else ''} of {record['week']} may or may not "
            f"have the issue ({shown}): an earlier push was stopped just as the relay was taking their message, "
            "so it is not sent again. Look each one up in the relay's log, then in "
            f"{self._journal(record).path} change her '? address' line to '+ address' if she got it, "
            "or delete the line to send it to her, and push again (docs/smtp.md)"
        )

    # Sending.
    def _unsubscribe_secret(self) -> str:
        return checked_secret(self.secret(SECRET_ENV))

    def _pending(self, record: dict, ledger: Ledger) -> list[Subscriber]:
        everyone = self._subscribers()
        if not everyone:
            source = self.settings.subscribers or "the subscriber list"
            raise ProviderError(
                f"{source} has nobody subscribed; add people with `newsletter subscribers import FILE.csv`"
            )
        journal = self._journal(record).state()
        done = set(ledger.recipients(record["issue_key"], self.name)) | set(record["refused"])
        done |= journal.sent | journal.uncertain
        done |= self._sent_another_version(record, ledger)
        return [person for person in self.readers_of_version(record.get("stage"), everyone) if person.key not in done]

    def readers_of_version(self, stage: str | None, everyone: list[Subscriber] | None = None) -> list[Subscriber]:
        """Who the version for `stage` (None: the one email for everyone) reaches if sent now."""
        everyone = self._subscribers() if everyone is None else everyone
        if stage is None:
            return everyone
        day = self._send_day()
        return [person for person in everyone if reader_version(person, day, self.config.audience) == stage]

    def _sent_another_version(self, record: dict, ledger: Ledger) -> set[str]:
        """Everyone recorded for another version of this week: the one email for everyone, or
        any stage version."""
        base = base_key(record["issue_key"], record.get("stage"))
        keys = {base, *(version_key(base, version) for version in versions(self.config.audience.stages))} - {
            record["issue_key"]
        }
        return {recipient for key in keys for recipient in ledger.recipients(key, self.name)}

    def _deliver(
        self, record: dict, template: EmailMessage, pending: list[Subscriber], ledger: Ledger, secret: str
    ) -> None:
        def refused(person: Subscriber, reply: str) -> None:
            record["refused"][person.key] = reply
            self._write_record(record)

        def sent(people: list[Subscriber]) -> None:
            ledger.record_recipients(record["issue_key"], self.name, [person.key for person in people], self.clock())

        journal = self._journal(record)
        messages = self._messages(template)
        day = self._send_day()

        @contextmanager
        def open_sender() -> Iterator[Callable[[Subscriber], None]]:
            with self._connection() as smtp:
                yield lambda person: self._send_one(smtp, messages, person, secret, day, journal)

        send_to_each(pending, open_sender, refused, sent, connections=self.settings.connections)

    def _messages(self, template: EmailMessage) -> MessageTemplate:
        return MessageTemplate(template, self._sender_address(), self._sender())

    def _send_one(
        self,
        smtp: smtplib.SMTP,
        messages: MessageTemplate,
        person: Subscriber,
        secret: str,
        day: date,
        journal: SendJournal | None = None,
    ) -> None:
        """One reader's copy (her tokens, her personal line for `day`), paced, then sent.
        `journal`: the campaign's send journal (None for a test send, which is not the issue's send)."""
        token = make_token(person.email, secret, self.config.base_url)
        data, options = messages.wire_bytes(
            person,
            token,
            unsubscribe_link=link_with_token(self.config.unsubscribe_url, token),
            now=self.clock(),
            preferences_token=make_reader_token(person.email, PREFERENCES, secret),
            personal_line=line_for_reader(person, day, self.config.audience),
        )
        self.throttle.wait()
        if journal is None:
            smtp.sendmail(self._sender_address(), [person.email], data, mail_options=options)
        else:
            send_journaled(smtp, self._sender_address(), person.email, data, options, journal, person.key)

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
            raise ConfigError(
                f"newsletter.toml: [provider] subscribers = '{self.settings.subscribers}' "
                f"cannot be read: {error.strerror}"
            ) from None
        return [
            person
            for person in parse_subscribers_csv(text, self.settings.subscribers)
            if person.key not in unsubscribed
        ]

    def _sender(self) -> Address | None:
        """The From override of `[provider] from_address/from_name`, or None to keep the built one."""
        if not (self.settings.from_address or self.settings.from_name):
            return None
        name = self.settings.from_name or self.config.email.sender_name
        return Address(display_name=name, addr_spec=self._sender_address())

    def _sender_address(self) -> str:
        return self.settings.from_address or self.config.email.sender_address

    def _connection(self):
        password = self.secret(PASSWORD_ENV) if self.settings.username else ""
        return relay_connection(self.settings, password)

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
                raise ProviderError(
                    f"another push is sending smtp campaign {campaign_id} right now; let it finish"
                ) from None
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
            raise ProviderError(
                f"smtp has no campaign {campaign_id} ({self._folder(campaign_id) / CAMPAIGN_FILE} is missing)"
            )
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


PROVIDER = SmtpProvider

"""The default provider: a folder on disk, no account and no network.

Each issue lives in `outbox/<week>/` (the campaign id is the week):

    email.eml              the complete message, as built: its unsubscribe and preferences links
                           hold placeholders (NEWSLETTER-UNSUBSCRIBE-TOKEN, NEWSLETTER-PREFERENCES-TOKEN)
    campaign.json          subject, preview text, html, text, content hash, issue key, status
    tests/<n>-<addr>.eml   one file per test send: the message addressed to <addr>, subject "[Test] ..."
    readers/<addr>.eml     at the send, one copy per reader of the self-hosted list whom this
                           version reaches: her own unsubscribe and preferences links, as smtp sends

No file shared by several readers holds anyone's token: the campaign files keep the placeholders,
and each reader's copy is made as the smtp provider makes the message it sends her
(pipeline/deliver/smtp/message.py), signed with NEWSLETTER_UNSUBSCRIBE_SECRET.

A week with stage versions (pipeline/core/stages.py) keeps each version in `outbox/<week>/<stage>/`
(campaign id `<week>/<stage>`, `general` included), its campaign.json naming the stage and the
audience it is for.

campaign.json is written last and atomically, so a folder without it holds no campaign. A local
"send" writes the readers' copies and marks the campaign as handed over (status "sent");
"scheduled" records the time and nothing sends it later - a person or another tool takes it from
the outbox.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

from pipeline.core.clock import now as utc_now
from pipeline.core.errors import ProviderError
from pipeline.core.model import RenderedEmail
from pipeline.deliver.providers.base import Campaign, Provider
from pipeline.deliver.providers.local import CAMPAIGN_FILE, EML_FILE, LocalCampaigns
from pipeline.deliver.reader_stages import issue_day, reader_version
from pipeline.deliver.smtp.message import personalised_message, wire_format
from pipeline.deliver.subscribers import Subscriber, SubscriberStore, store_path
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
from pipeline.tools.files import atomic_write

TESTS_FOLDER = "tests"
READERS_FOLDER = "readers"
TEST_SUBJECT_PREFIX = "[Test] "
CAMPAIGN_ID = re.compile(r"^\d{4}-W\d{2}(?:/[a-z0-9]+(?:-[a-z0-9]+)*)?$")  # <week> or <week>/<stage>


class OutboxProvider(LocalCampaigns, Provider):
    name = "outbox"
    targets_stages = True

    def __init__(self, config, env=None, clock: Callable[[], datetime] | None = None):
        super().__init__(config, env)
        self.clock = clock or utc_now

    @property
    def outbox(self) -> Path:
        return self.config.outbox_dir

    # What the renderer puts into the email: each reader's token goes in her own copy only.
    def unsubscribe_url(self) -> str:
        return placeholder_url(self.config.unsubscribe_url)

    def preferences_url(self) -> str:
        """The reader service's preferences page (`newsletter serve`), her token put in her copy."""
        return link_with_token(self.config.readers_url + "preferences/", PREFERENCES_PLACEHOLDER)

    def audience(self) -> str:
        return f"nobody yet: the email waits in {self.outbox.name}/ for a person or another tool to send it"

    def find_campaign(self, issue_key: str, known_id: str | None) -> Campaign | None:
        if known_id and CAMPAIGN_ID.match(known_id):
            record = self._read(known_id)
            if record and record["issue_key"] == issue_key:
                return self._campaign(record)
        files = [*self.outbox.glob(f"*/{CAMPAIGN_FILE}"), *self.outbox.glob(f"*/*/{CAMPAIGN_FILE}")]
        campaign_ids = sorted(path.parent.relative_to(self.outbox).as_posix() for path in files)
        for campaign_id in filter(CAMPAIGN_ID.match, campaign_ids):
            record = self._read(campaign_id)
            if record and record["issue_key"] == issue_key:
                return self._campaign(record)
        return None

    def create_draft(self, email: RenderedEmail, eml: bytes) -> Campaign:
        week, stage = email.issue.week, email.issue.stage
        campaign_id = f"{week}/{stage}" if stage else week
        existing = self._read(campaign_id)
        if existing and existing["issue_key"] != email.issue.key:
            raise ProviderError(
                f"{self._folder(campaign_id)} already holds issue '{existing['issue_key']}', not '{email.issue.key}'; "
                "move that folder away to push this one"
            )
        now = self._now()
        record = {
            "id": campaign_id,
            "issue_key": email.issue.key,
            "week": week,
            "status": "draft",
            "created_at": now,
            "scheduled_for": None,
            "sent_at": None,
            "tests": [],
        }
        if stage:
            record.update(stage=stage, audience=self.stage_audience(stage))
        return self._write_content(record, email, eml)

    def update_draft(self, campaign_id: str, email: RenderedEmail, eml: bytes) -> Campaign:
        record = self._require(campaign_id)
        self._require_draft(record, "update")
        return self._write_content(record, email, eml)

    def test_send(self, campaign_id: str, recipients: list[str]) -> None:
        record = self._require(campaign_id)
        raw = (self._folder(campaign_id) / EML_FILE).read_bytes()
        line_ending = "\r\n" if b"\r\n" in raw else "\n"
        message = BytesParser(policy=policy.default.clone(linesep=line_ending)).parsebytes(raw)
        subject = TEST_SUBJECT_PREFIX + str(message["Subject"] or record.get("subject", ""))
        _set_header(message, "Subject", subject)
        for recipient in recipients:
            number = len(record["tests"]) + 1
            name = f"{number}-{_file_safe(recipient)}.eml"
            _set_header(message, "To", recipient)
            atomic_write(self._folder(campaign_id) / TESTS_FOLDER / name, message.as_bytes())
            record["tests"].append({"to": recipient, "at": self._now(), "file": f"{TESTS_FOLDER}/{name}"})
            self._write_record(record)

    def schedule(self, campaign_id: str, when: datetime) -> Campaign:
        record = self._require(campaign_id)
        self._require_draft(record, "schedule")
        record.update(status="scheduled", scheduled_for=when.astimezone(UTC).isoformat())
        return self._write_record(record)

    def send_now(self, campaign_id: str) -> Campaign:
        record = self._require(campaign_id)
        if record["status"] == "sent":
            raise ProviderError(
                f"{self._folder(campaign_id)} was already sent at {record['sent_at']}; not sending it again"
            )
        copies = self._write_reader_copies(record)
        record.update(status="sent", sent_at=self._now(), reader_copies=copies)
        return self._write_record(record)

    # Each reader's copy.
    def _readers_of(self, stage: str | None) -> list[Subscriber]:
        """The self-hosted list's active readers this version reaches on the send day (in
        `[email] timezone`): everyone for the one email, else those whose stage it is."""
        path = store_path(self.config)
        if not path.exists():
            return []
        with SubscriberStore(path) as store:
            everyone = store.active()
        if stage is None:
            return everyone
        day = issue_day(self.clock(), self.config.email.timezone)
        return [person for person in everyone if reader_version(person, day, self.config.audience) == stage]

    def _write_reader_copies(self, record: dict) -> int:
        """`readers/<address>.eml` for each reader: written again whole on a second try."""
        readers = self._readers_of(record.get("stage"))
        if not readers:
            return 0
        secret = checked_secret(self.secret(SECRET_ENV))
        folder = self._folder(record["id"])
        template = BytesParser(policy=policy.SMTP).parsebytes((folder / EML_FILE).read_bytes())
        sender = self.config.email.sender_address
        for person in readers:
            token = make_token(person.email, secret, self.config.base_url)
            message = personalised_message(
                template,
                person,
                token,
                unsubscribe_link=link_with_token(self.config.unsubscribe_url, token),
                sender_address=sender,
                sender=None,
                now=self.clock(),
                preferences_token=make_reader_token(person.email, PREFERENCES, secret),
            )
            data, _ = wire_format(message, [person.email])
            atomic_write(folder / READERS_FOLDER / f"{_file_safe(person.email)}.eml", data)
        return len(readers)

    # Files.
    def _folder(self, campaign_id: str) -> Path:
        if not CAMPAIGN_ID.match(campaign_id):
            raise ProviderError(
                f"outbox campaign id '{campaign_id}' is not an ISO week such as 2026-W48, "
                "or a week and a stage such as 2026-W48/pregnant"
            )
        return self.outbox / campaign_id

    def _require(self, campaign_id: str) -> dict:
        record = self._read(campaign_id)
        if record is None:
            raise ProviderError(
                f"the outbox has no campaign {campaign_id} ({self._folder(campaign_id) / CAMPAIGN_FILE} is missing)"
            )
        return record

    def _require_draft(self, record: dict, action: str) -> None:
        if record["status"] != "draft":
            raise ProviderError(f"cannot {action} outbox campaign {record['id']}: it is already {record['status']}")

    def _write_content(self, record: dict, email: RenderedEmail, eml: bytes) -> Campaign:
        atomic_write(self._folder(record["id"]) / EML_FILE, eml)
        record.update(
            subject=email.subject,
            preview_text=email.preview_text,
            html=email.html,
            text=email.text,
            content_hash=email.content_hash,
            updated_at=self._now(),
        )
        return self._write_record(record)


def _set_header(message, name: str, value: str) -> None:
    del message[name]
    message[name] = value


def _file_safe(address: str) -> str:
    return re.sub(r"[^A-Za-z0-9@._+-]", "_", address)


PROVIDER = OutboxProvider

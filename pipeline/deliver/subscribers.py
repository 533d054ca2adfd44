"""The subscriber list the SMTP provider sends to: a SQLite table in
`.newsletter/subscribers.sqlite3`, filled from CSV files (`newsletter subscribers import`).

The list lives in its own database, not the ledger's: it is the writer's data (imported, edited,
backed up), while the ledger is the pipeline's record of what was sent. The ledger keys its
per-recipient rows by address, so the two never need a join.

Unsubscribing keeps the row, marked `unsubscribed`: a later import of an old export must never
put someone back on the list. `forget` deletes the row for an erasure request.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pipeline.core.clock import now as utc_now
from pipeline.core.errors import ContentError, ContentErrors

SUBSCRIBERS_FILE = "subscribers.sqlite3"
ACTIVE = "active"
UNSUBSCRIBED = "unsubscribed"

EMAIL_COLUMNS = ("email", "email address", "e-mail", "e-mail address")
TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
TAG_SEPARATORS = re.compile(r"[;,\s]+")

SCHEMA = """
CREATE TABLE IF NOT EXISTS subscribers (
    email_key TEXT PRIMARY KEY,  -- the address in lower case: one row per person
    email TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',  -- JSON list, e.g. ["pregnant"]
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'unsubscribed')),
    subscribed_at TEXT,
    unsubscribed_at TEXT
);
"""


@dataclass(frozen=True)
class Subscriber:
    email: str
    name: str = ""
    tags: tuple[str, ...] = ()
    status: str = ACTIVE

    @property
    def key(self) -> str:
        return email_key(self.email)


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped_unsubscribed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{len(self.added)} added, {len(self.updated)} updated, {len(self.unchanged)} unchanged"
        if self.skipped_unsubscribed:
            text += f", {len(self.skipped_unsubscribed)} skipped (unsubscribed earlier; never re-added by an import)"
        return text


def email_key(address: str) -> str:
    return address.strip().lower()


def normalise_email(address: str) -> str:
    """The address with its domain normalised; raises ValueError with the reason it is invalid."""
    from email_validator import (  # here: every command imports this module, few need it
        EmailNotValidError,
        validate_email,
    )

    try:
        return validate_email(address.strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValueError(str(error)) from None


def parse_tags(text: str) -> tuple[str, ...]:
    """'pregnant; Postpartum-0-6w' -> ('pregnant', 'postpartum-0-6w'); raises ValueError for a bad tag."""
    tags = []
    for tag in TAG_SEPARATORS.split(text.strip().lower()):
        if not tag:
            continue
        if not TAG_PATTERN.match(tag):
            raise ValueError(f"tag '{tag}' may only hold letters, digits and hyphens (e.g. postpartum-0-6w)")
        if tag not in tags:
            tags.append(tag)
    return tuple(tags)


def parse_subscribers_csv(text: str, path: str) -> list[Subscriber]:
    """A CSV with a header row: an `email` column, optional `name` and `tags` (separated by
    spaces, commas or semicolons); other columns are ignored. Every problem is reported at once."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = {(column or "").strip().lower(): column for column in (reader.fieldnames or [])}
    email_column = next((header[name] for name in EMAIL_COLUMNS if name in header), None)
    if email_column is None:
        raise ContentErrors(
            [ContentError(path, 1, "no 'email' column: the first line must name the columns, e.g. email,name,tags")]
        )
    name_column, tags_column = header.get("name"), header.get("tags")

    subscribers, errors, first_line = [], [], {}
    for row in reader:
        line = reader.line_num
        try:
            subscriber = _row_to_subscriber(row, email_column, name_column, tags_column)
        except ValueError as error:
            errors.append(ContentError(path, line, str(error)))
            continue
        if subscriber is None:
            continue
        if subscriber.key in first_line:
            errors.append(
                ContentError(
                    path,
                    line,
                    f"{subscriber.email} is listed twice (first on line {first_line[subscriber.key]}): keep one row",
                )
            )
            continue
        first_line[subscriber.key] = line
        subscribers.append(subscriber)
    if errors:
        raise ContentErrors(errors)
    return subscribers


def _row_to_subscriber(
    row: dict, email_column: str, name_column: str | None, tags_column: str | None
) -> Subscriber | None:
    address = (row.get(email_column) or "").strip()
    other_values = [
        value for column, value in row.items() if column != email_column and isinstance(value, str) and value.strip()
    ]
    if not address:
        if other_values:
            raise ValueError("the email cell is empty: fill it in or delete the row")
        return None  # a blank line
    try:
        email = normalise_email(address)
    except ValueError as reason:
        raise ValueError(f"'{address}' is not an email address: {reason}") from None
    name = (row.get(name_column) or "").strip() if name_column else ""
    tags = parse_tags(row.get(tags_column) or "") if tags_column else ()
    return Subscriber(email=email, name=name, tags=tags)


def store_path(config) -> Path:
    return config.state_dir / SUBSCRIBERS_FILE


class SubscriberStore:
    """The subscriber table. Each method is one transaction."""

    def __init__(self, path: Path | str, clock: Callable[[], datetime] = utc_now):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self.db = sqlite3.connect(self.path, timeout=30)
        self.db.executescript(SCHEMA)

    @classmethod
    def for_config(cls, config) -> SubscriberStore:
        return cls(store_path(config))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> SubscriberStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def import_subscribers(self, subscribers: Iterable[Subscriber]) -> ImportReport:
        """Add new addresses, update name and tags of existing ones; unsubscribed stay unsubscribed."""
        report = ImportReport()
        with self.db:
            for subscriber in subscribers:
                existing = self._get(subscriber.key)
                if existing is None:
                    self._insert(subscriber)
                    report.added.append(subscriber.email)
                elif existing.status == UNSUBSCRIBED:
                    report.skipped_unsubscribed.append(subscriber.email)
                elif (existing.email, existing.name, existing.tags) == (
                    subscriber.email,
                    subscriber.name,
                    subscriber.tags,
                ):
                    report.unchanged.append(subscriber.email)
                else:
                    self._update(subscriber)
                    report.updated.append(subscriber.email)
        return report

    def add(self, subscriber: Subscriber) -> str:
        """Subscribe one person deliberately (this also re-subscribes). Returns 'added',
        'resubscribed' or 'updated'."""
        with self.db:
            existing = self._get(subscriber.key)
            if existing is None:
                self._insert(subscriber)
                return "added"
            self._update(subscriber)
            if existing.status == UNSUBSCRIBED:
                self.db.execute(
                    "UPDATE subscribers SET status = ?, subscribed_at = ?, unsubscribed_at = NULL WHERE email_key = ?",
                    (ACTIVE, self._timestamp(), subscriber.key),
                )
                return "resubscribed"
            return "updated"

    def unsubscribe(self, email: str) -> str:
        """Mark the address unsubscribed, keeping it so no import re-adds it. Returns
        'unsubscribed', 'already unsubscribed' or 'recorded' (it was not on the list)."""
        key = email_key(email)
        with self.db:
            existing = self._get(key)
            if existing is None:
                self._insert(Subscriber(email=email.strip(), status=UNSUBSCRIBED))
                return "recorded"
            if existing.status == UNSUBSCRIBED:
                return "already unsubscribed"
            self.db.execute(
                "UPDATE subscribers SET status = ?, unsubscribed_at = ? WHERE email_key = ?",
                (UNSUBSCRIBED, self._timestamp(), key),
            )
            return "unsubscribed"

    def forget(self, email: str) -> bool:
        """Delete every trace of the address (an erasure request). True if it was there."""
        with self.db:
            return self.db.execute("DELETE FROM subscribers WHERE email_key = ?", (email_key(email),)).rowcount > 0

    def get(self, email: str) -> Subscriber | None:
        return self._get(email_key(email))

    def active(self) -> list[Subscriber]:
        return self._select("WHERE status = ?", (ACTIVE,))

    def all(self) -> list[Subscriber]:
        return self._select("", ())

    def unsubscribed_keys(self) -> set[str]:
        rows = self.db.execute("SELECT email_key FROM subscribers WHERE status = ?", (UNSUBSCRIBED,))
        return {key for (key,) in rows}

    def _get(self, key: str) -> Subscriber | None:
        found = self._select("WHERE email_key = ?", (key,))
        return found[0] if found else None

    def _select(self, where: str, parameters: tuple) -> list[Subscriber]:
        rows = self.db.execute(
            f"SELECT email, name, tags, status FROM subscribers {where} ORDER BY email_key", parameters
        )
        return [
            Subscriber(email=email, name=name, tags=tuple(json.loads(tags)), status=status)
            for email, name, tags, status in rows
        ]

    def _insert(self, subscriber: Subscriber) -> None:
        now = self._timestamp()
        self.db.execute(
            "INSERT INTO subscribers (email_key, email, name, tags, status, "
            "subscribed_at, unsubscribed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                subscriber.key,
                subscriber.email,
                subscriber.name,
                json.dumps(list(subscriber.tags)),
                subscriber.status,
                now if subscriber.status == ACTIVE else None,
                now if subscriber.status == UNSUBSCRIBED else None,
            ),
        )

    def _update(self, subscriber: Subscriber) -> None:
        self.db.execute(
            "UPDATE subscribers SET email = ?, name = ?, tags = ? WHERE email_key = ?",
            (subscriber.email, subscriber.name, json.dumps(list(subscriber.tags)), subscriber.key),
        )

    def _timestamp(self) -> str:
        return self.clock().isoformat(timespec="seconds")

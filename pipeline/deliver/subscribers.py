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
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path

from pipeline.core.clock import now as utc_now
from pipeline.core.errors import ContentError, ContentErrors
from pipeline.core.stages import GENERAL_STAGE, version_for_tags

SUBSCRIBERS_FILE = "subscribers.sqlite3"
PENDING = "pending"  # signed up on the form, has not confirmed yet: gets no issue
ACTIVE = "active"
UNSUBSCRIBED = "unsubscribed"
STATUSES = (PENDING, ACTIVE, UNSUBSCRIBED)

EMAIL_COLUMNS = ("email", "email address", "e-mail", "e-mail address")
TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
TAG_SEPARATORS = re.compile(r"[;,\s]+")
CSV_COLUMNS = ("email", "name", "tags", "stage", "due_date", "birth_date", "dates_consent_at")

# Schema version 1: stage, dates, consent, 'pending', the events and the mail queue. A database
# from before (user_version 0 with a subscribers table) is migrated in place on open.
SCHEMA_VERSION = 1
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS subscribers (
        email_key TEXT PRIMARY KEY,  -- the address in lower case: one row per person
        email TEXT NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        tags TEXT NOT NULL DEFAULT '[]',  -- JSON list, e.g. ["pregnant"]
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('pending', 'active', 'unsubscribed')),
        subscribed_at TEXT,
        unsubscribed_at TEXT,
        stage TEXT,  -- the stage she chose: a configured stage or 'general'; NULL when not given
        due_date TEXT,  -- ISO date; health data: only with dates_consent_at
        birth_date TEXT,  -- ISO date; likewise
        dates_consent_at TEXT,  -- when she agreed to our storing her dates; NULL: no dates kept
        signed_up_at TEXT  -- when the form stored her as pending
    )""",
    # Every change of status, stage or consent, with its time. `value` is the new status, the new
    # stage, or given/withdrawn; never a date: the events say *that* dates changed, not to what.
    """CREATE TABLE IF NOT EXISTS subscriber_events (
        id INTEGER PRIMARY KEY,
        email_key TEXT NOT NULL,
        at TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('status', 'stage', 'consent', 'dates')),
        value TEXT,
        via TEXT NOT NULL DEFAULT ''  -- import, cli, form, preferences, unsubscribe, migration
    )""",
    "CREATE INDEX IF NOT EXISTS subscriber_events_by_key ON subscriber_events (email_key)",
    # Emails to readers (confirmation, welcome) waiting for the relay: kept until sent, so a
    # relay that is down loses none. The message is made again at send time from the row.
    """CREATE TABLE IF NOT EXISTS reader_mail (
        id INTEGER PRIMARY KEY,
        email_key TEXT NOT NULL,
        kind TEXT NOT NULL,
        queued_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_try_at TEXT NOT NULL,
        sent_at TEXT,
        last_error TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX IF NOT EXISTS reader_mail_by_key ON reader_mail (email_key, kind, queued_at)",
    "CREATE INDEX IF NOT EXISTS reader_mail_unsent ON reader_mail (sent_at, next_try_at)",
)
OLD_COLUMNS = "email_key, email, name, tags, status, subscribed_at, unsubscribed_at"


@dataclass(frozen=True)
class Subscriber:
    email: str
    name: str = ""
    tags: tuple[str, ...] = ()
    status: str = ACTIVE
    stage: str | None = None  # the stage she chose ("general": none of them); None: not given
    due_date: date | None = None
    birth_date: date | None = None
    dates_consent_at: datetime | None = None  # dates are kept only with this set

    @property
    def key(self) -> str:
        return email_key(self.email)

    @property
    def has_dates(self) -> bool:
        return self.due_date is not None or self.birth_date is not None

    def without_dates(self) -> Subscriber:
        return replace(self, due_date=None, birth_date=None, dates_consent_at=None)


CONFIRM_MAIL, WELCOME_MAIL, ALREADY_MAIL = "confirm", "welcome", "already-subscribed"
MAIL_RETRY_FIRST, MAIL_RETRY_MAX = timedelta(seconds=30), timedelta(hours=1)


@dataclass(frozen=True)
class Signup:
    before: str  # "new", or her status before this signup
    mail: str | None  # the email queued for her, None when she had had enough today


@dataclass(frozen=True)
class QueuedMail:
    id: int
    key: str
    kind: str
    attempts: int


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


def parse_stage(text: str, stages: Sequence[str] | None) -> str | None:
    """'' -> None; a configured stage or 'general' -> itself; raises ValueError otherwise."""
    stage = text.strip().lower()
    if not stage:
        return None
    allowed = (*stages, GENERAL_STAGE) if stages is not None else None
    if allowed is not None and stage not in allowed:
        raise ValueError(f"stage '{stage}' is not one of {', '.join(allowed)}")
    if not TAG_PATTERN.match(stage):
        raise ValueError(f"stage '{stage}' may only hold letters, digits and hyphens")
    return stage


DateCheck = Callable[[date | None, date | None], str | None]


def parse_iso_date(text: str, what: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{what} must be a date written YYYY-MM-DD") from None


def parse_subscribers_csv(
    text: str, path: str, stages: Sequence[str] | None = None, check_dates: DateCheck | None = None
) -> list[Subscriber]:
    """A CSV with a header row: an `email` column, optional `name`, `tags` (separated by spaces,
    commas or semicolons), `stage`, `due_date`, `birth_date` and `dates_consent_at` (dates are
    health data: a row with a date needs the time she consented); other columns are ignored.
    `check_dates(due, birth)` says what is wrong with a row's dates (e.g. a due date years away;
    StageCalendar.date_problem), or None. Every problem is reported at once."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = {(column or "").strip().lower(): column for column in (reader.fieldnames or [])}
    email_column = next((header[name] for name in EMAIL_COLUMNS if name in header), None)
    if email_column is None:
        raise ContentErrors(
            [ContentError(path, 1, "no 'email' column: the first line must name the columns, e.g. email,name,tags")]
        )
    columns = {name: header.get(name) for name in CSV_COLUMNS[1:]}

    subscribers, errors, first_line = [], [], {}
    for row in reader:
        line = reader.line_num
        try:
            subscriber = _row_to_subscriber(row, email_column, columns, stages, check_dates)
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
    row: dict,
    email_column: str,
    columns: dict[str, str | None],
    stages: Sequence[str] | None,
    check_dates: DateCheck | None = None,
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

    def cell(name: str) -> str:
        column = columns.get(name)
        return (row.get(column) or "").strip() if column else ""

    due, born = parse_iso_date(cell("due_date"), "due_date"), parse_iso_date(cell("birth_date"), "birth_date")
    problem = check_dates(due, born) if check_dates and (due or born) else None
    if problem:
        raise ValueError(problem)
    consent = _parse_consent_time(cell("dates_consent_at"))
    if (due or born) and consent is None:
        raise ValueError(
            "a due_date or birth_date needs dates_consent_at, the time she agreed to our storing it "
            "(e.g. 2026-11-02T10:00:00+00:00); without her consent leave the dates out"
        )
    return Subscriber(
        email=email,
        name=cell("name"),
        tags=parse_tags(cell("tags")),
        stage=parse_stage(cell("stage"), stages),
        due_date=due,
        birth_date=born,
        dates_consent_at=consent if (due or born) else None,
    )


def _parse_consent_time(text: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("dates_consent_at must be a time written like 2026-11-02T10:00:00+00:00") from None
    if moment.tzinfo is None:
        raise ValueError("dates_consent_at needs its time zone, e.g. 2026-11-02T10:00:00+00:00")
    return moment


def subscriber_row(person: Subscriber) -> list[str]:
    """The CSV cells of CSV_COLUMNS, as `subscribers list` prints them and import reads them."""
    return [
        person.email,
        person.name,
        " ".join(person.tags),
        person.stage or "",
        person.due_date.isoformat() if person.due_date else "",
        person.birth_date.isoformat() if person.birth_date else "",
        person.dates_consent_at.isoformat(timespec="seconds") if person.dates_consent_at else "",
    ]


def reader_version(person: Subscriber, stages: Sequence[str]) -> str:
    """The version of a staged week she gets: the stage she chose on the form (or was given), a
    stage no longer configured counting as none; without one, her first stage tag."""
    if person.stage == GENERAL_STAGE or person.stage in stages:
        return person.stage
    return version_for_tags(person.tags, stages)


def store_path(config) -> Path:
    return config.state_dir / SUBSCRIBERS_FILE


_write_locks: dict[Path, threading.RLock] = {}
_write_locks_guard = threading.Lock()


def _write_lock(path: Path) -> threading.RLock:
    """One lock per database file in this process (re-entrant: a thread holding it never waits on itself)."""
    key = path.resolve()
    with _write_locks_guard:
        return _write_locks.setdefault(key, threading.RLock())


def open_database(path: Path, timeout: float = 30) -> sqlite3.Connection:
    """The subscriber database in WAL mode (readers never wait for the one writer), at the
    current schema version."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    if db.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
        _migrate(db)
    return db


def _migrate(db: sqlite3.Connection) -> None:
    """Create the tables, or bring a version-0 table (no stage, no 'pending') up to date: SQLite
    cannot change a CHECK constraint, so the table is copied into the new shape."""
    db.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait and find it done
    try:
        if db.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
            db.execute("COMMIT")
            return
        old = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'subscribers'").fetchone()
        if old:
            db.execute("ALTER TABLE subscribers RENAME TO subscribers_v0")
        for statement in SCHEMA:
            db.execute(statement)
        if old:
            db.execute(f"INSERT INTO subscribers ({OLD_COLUMNS}) SELECT {OLD_COLUMNS} FROM subscribers_v0")
            db.execute("DROP TABLE subscribers_v0")
            db.execute(
                "INSERT INTO subscriber_events (email_key, at, kind, value, via) "
                "SELECT email_key, COALESCE(unsubscribed_at, subscribed_at, ''), 'status', status, 'migration' "
                "FROM subscribers"
            )
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


SELECT_COLUMNS = "email, name, tags, status, stage, due_date, birth_date, dates_consent_at"


class SubscriberStore:
    """The subscriber table. Each method is one transaction, and records in the events what it
    changed of a reader's status, stage or consent."""

    def __init__(self, path: Path | str, clock: Callable[[], datetime] = utc_now):
        self.path = Path(path)
        self.clock = clock
        self.db = open_database(self.path)

    @classmethod
    def for_config(cls, config) -> SubscriberStore:
        return cls(store_path(config))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> SubscriberStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (BEGIN IMMEDIATE) so two writers never deadlock.
        Writers of one process queue on a lock first: SQLite's own wait for a busy database
        sleeps up to 100 ms at a time, a lock hands over at once. Inside a transaction already
        (a group commit, pipeline/readers/commits.py) it is a savepoint: undone alone on error."""
        if self.db.in_transaction:
            yield from self._savepoint()
            return
        with _write_lock(self.path):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def _savepoint(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("SAVEPOINT one_change")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK TO one_change")
            self.db.execute("RELEASE one_change")
            raise
        self.db.execute("RELEASE one_change")

    def import_subscribers(self, subscribers: Iterable[Subscriber], via: str = "import") -> ImportReport:
        """Add new addresses, update name, tags, stage and dates of existing ones; unsubscribed
        stay unsubscribed. A cell left empty in the file clears the value."""
        report = ImportReport()
        with self.transaction():
            for subscriber in subscribers:
                existing = self._get(subscriber.key)
                if existing is None:
                    self._insert(subscriber, via)
                    report.added.append(subscriber.email)
                elif existing.status == UNSUBSCRIBED:
                    report.skipped_unsubscribed.append(subscriber.email)
                elif replace(existing, status=subscriber.status) == subscriber:
                    report.unchanged.append(subscriber.email)
                else:
                    self._update(existing, replace(subscriber, status=existing.status), via)
                    report.updated.append(subscriber.email)
        return report

    def add(self, subscriber: Subscriber, via: str = "cli") -> str:
        """Subscribe one person deliberately (this also re-subscribes). Returns 'added',
        'resubscribed' or 'updated'."""
        with self.transaction():
            existing = self._get(subscriber.key)
            if existing is None:
                self._insert(replace(subscriber, status=ACTIVE), via)
                return "added"
            self._update(existing, replace(subscriber, status=ACTIVE), via)
            if existing.status == UNSUBSCRIBED:
                return "resubscribed"
            return "subscribed" if existing.status == PENDING else "updated"

    def unsubscribe(self, email: str, via: str = "cli") -> str:
        """Mark the address unsubscribed, keeping it so no import re-adds it. Returns
        'unsubscribed', 'already unsubscribed' or 'recorded' (it was not on the list)."""
        key = email_key(email)
        with self.transaction():
            existing = self._get(key)
            if existing is None:
                self._insert(Subscriber(email=email.strip(), status=UNSUBSCRIBED), via)
                return "recorded"
            if existing.status == UNSUBSCRIBED:
                return "already unsubscribed"
            self._update(existing, replace(existing, status=UNSUBSCRIBED), via)
            return "unsubscribed"

    def sign_up(self, subscriber: Subscriber, via: str = "form", mails_per_day: int | None = None) -> Signup:
        """The form's signup: a new or unsubscribed address becomes pending with what she gave
        (a pending one gets her latest answers); an active reader is left as she is, so nobody
        can change another's details by typing her address. In the same transaction an email is
        queued for her (a confirmation, or for an active reader a note with her preferences
        link), unless `mails_per_day` were already queued for her in the last 24 hours."""
        with self.transaction():
            existing = self._get(subscriber.key)
            if existing is None:
                self._insert(replace(subscriber, status=PENDING), via)
            elif existing.status != ACTIVE:
                self._update(existing, replace(subscriber, status=PENDING), via)
                self.db.execute(  # a new signup: only the newest confirmation link works
                    "UPDATE subscribers SET signed_up_at = ? WHERE email_key = ?", (self._timestamp(), subscriber.key)
                )
            before = existing.status if existing else "new"
            kind = ALREADY_MAIL if before == ACTIVE else CONFIRM_MAIL
            queued = mails_per_day is None or self._mails_since(subscriber.key, timedelta(days=1)) < mails_per_day
            if queued:
                self._queue_mail(subscriber.key, kind)
            return Signup(before, kind if queued else None)

    def signup_nonce(self, email: str) -> str:
        """What ties a confirmation link to her latest signup: the time it was stored."""
        row = self.db.execute(
            "SELECT signed_up_at FROM subscribers WHERE email_key = ?", (email_key(email),)
        ).fetchone()
        return (row[0] or "") if row else ""

    def confirm(self, email: str, nonce: str | None = None, via: str = "form") -> Subscriber | None:
        """Pending -> active (double opt-in), and her welcome email queued. With `nonce`, only
        the confirmation link of her latest signup confirms. The reader as she is now, or None
        when she is not on the list, left meanwhile, or the link is not her latest."""
        with self.transaction():
            existing = self._get(email_key(email))
            if existing is None or existing.status == UNSUBSCRIBED:
                return None
            if existing.status == PENDING:
                if nonce is not None and nonce != self.signup_nonce(existing.email):
                    return None
                self._update(existing, replace(existing, status=ACTIVE), via)
                self._queue_mail(existing.key, WELCOME_MAIL)
            return self._get(existing.key)

    def change(self, updated: Subscriber, via: str = "preferences") -> Subscriber | None:
        """Her own changes of name, stage and dates (the preferences page); status stays."""
        with self.transaction():
            existing = self._get(updated.key)
            if existing is None or existing.status == UNSUBSCRIBED:
                return None
            self._update(existing, replace(updated, email=existing.email, status=existing.status), via)
            return self._get(existing.key)

    def forget(self, email: str) -> bool:
        """Delete every trace of the address (an erasure request): the row, its events and its
        mail. True if it was there."""
        key = email_key(email)
        with self.transaction():
            self.db.execute("DELETE FROM subscriber_events WHERE email_key = ?", (key,))
            self.db.execute("DELETE FROM reader_mail WHERE email_key = ?", (key,))
            return self.db.execute("DELETE FROM subscribers WHERE email_key = ?", (key,)).rowcount > 0

    def get(self, email: str) -> Subscriber | None:
        return self._get(email_key(email))

    # The queue of reader mail: kept until sent, so nothing is lost while the relay is down.
    def due_mail(self, limit: int = 100) -> list[QueuedMail]:
        rows = self.db.execute(
            "SELECT id, email_key, kind, attempts FROM reader_mail WHERE sent_at IS NULL AND next_try_at <= ? "
            "ORDER BY next_try_at, id LIMIT ?",
            (self._timestamp(), limit),
        )
        return [QueuedMail(*row) for row in rows]

    def unsent_mail(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM reader_mail WHERE sent_at IS NULL").fetchone()[0]

    def mail_sent(self, mail: QueuedMail) -> None:
        with self.transaction():
            self.db.execute(
                "UPDATE reader_mail SET sent_at = ?, last_error = '' WHERE id = ?", (self._timestamp(), mail.id)
            )

    def mail_dropped(self, mail: QueuedMail, reason: str) -> None:
        """Not to be sent any more (she left or was forgotten meanwhile): marked done, with why."""
        with self.transaction():
            self.db.execute(
                "UPDATE reader_mail SET sent_at = ?, last_error = ? WHERE id = ?", (self._timestamp(), reason, mail.id)
            )

    def mail_failed(self, mail: QueuedMail, error: str) -> datetime:
        """Try again later: 30 s after the first failure, doubling up to an hour. Returns when."""
        delay = min(MAIL_RETRY_FIRST * 2**mail.attempts, MAIL_RETRY_MAX)
        when = self.clock() + delay
        with self.transaction():
            self.db.execute(
                "UPDATE reader_mail SET attempts = attempts + 1, next_try_at = ?, last_error = ? WHERE id = ?",
                (when.isoformat(timespec="seconds"), error[:500], mail.id),
            )
        return when

    def _queue_mail(self, key: str, kind: str) -> None:
        now = self._timestamp()
        self.db.execute(
            "INSERT INTO reader_mail (email_key, kind, queued_at, next_try_at) VALUES (?, ?, ?, ?)",
            (key, kind, now, now),
        )

    def _mails_since(self, key: str, window: timedelta) -> int:
        since = (self.clock() - window).isoformat(timespec="seconds")
        return self.db.execute(
            "SELECT COUNT(*) FROM reader_mail WHERE email_key = ? AND queued_at > ?", (key, since)
        ).fetchone()[0]

    def active(self) -> list[Subscriber]:
        return self._select("WHERE status = ?", (ACTIVE,))

    def all(self) -> list[Subscriber]:
        return self._select("", ())

    def unsubscribed_keys(self) -> set[str]:
        rows = self.db.execute("SELECT email_key FROM subscribers WHERE status = ?", (UNSUBSCRIBED,))
        return {key for (key,) in rows}

    def events(self, email: str) -> list[tuple[str, str, str | None, str]]:
        """(at, kind, value, via) of every change recorded for the address, oldest first."""
        rows = self.db.execute(
            "SELECT at, kind, value, via FROM subscriber_events WHERE email_key = ? ORDER BY id", (email_key(email),)
        )
        return list(rows)

    def _get(self, key: str) -> Subscriber | None:
        found = self._select("WHERE email_key = ?", (key,))
        return found[0] if found else None

    def _select(self, where: str, parameters: tuple) -> list[Subscriber]:
        rows = self.db.execute(f"SELECT {SELECT_COLUMNS} FROM subscribers {where} ORDER BY email_key", parameters)
        return [_from_row(row) for row in rows]

    def _insert(self, subscriber: Subscriber, via: str) -> None:
        now = self._timestamp()
        subscriber = _consented(subscriber)
        self.db.execute(
            f"INSERT INTO subscribers (email_key, {SELECT_COLUMNS}, subscribed_at, unsubscribed_at, signed_up_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                subscriber.key,
                *_to_row(subscriber),
                now if subscriber.status == ACTIVE else None,
                now if subscriber.status == UNSUBSCRIBED else None,
                now if subscriber.status == PENDING else None,
            ),
        )
        self._record_changes(None, subscriber, via, now)

    def _update(self, existing: Subscriber, subscriber: Subscriber, via: str) -> None:
        subscriber = _consented(subscriber)
        now = self._timestamp()
        moments = {
            ACTIVE: "subscribed_at = ?, unsubscribed_at = NULL",
            UNSUBSCRIBED: "unsubscribed_at = ?",
            PENDING: "signed_up_at = ?, unsubscribed_at = NULL",
        }
        changed_status = subscriber.status != existing.status
        self.db.execute(
            "UPDATE subscribers SET email = ?, name = ?, tags = ?, status = ?, stage = ?, due_date = ?, "
            "birth_date = ?, dates_consent_at = ?"
            + (f", {moments[subscriber.status]}" if changed_status else "")
            + " WHERE email_key = ?",
            (*_to_row(subscriber), *([now] if changed_status else []), subscriber.key),
        )
        self._record_changes(existing, subscriber, via, now)

    def _record_changes(self, before: Subscriber | None, after: Subscriber, via: str, now: str) -> None:
        changes = []
        if before is None or before.status != after.status:
            changes.append(("status", after.status))
        if (before.stage if before else None) != after.stage:
            changes.append(("stage", after.stage))
        had_consent = before is not None and before.dates_consent_at is not None
        if had_consent != (after.dates_consent_at is not None):
            changes.append(("consent", "given" if after.dates_consent_at else "withdrawn"))
        elif had_consent and (before.due_date, before.birth_date) != (after.due_date, after.birth_date):
            changes.append(("dates", "changed"))  # that they changed, never what they are
        self.db.executemany(
            "INSERT INTO subscriber_events (email_key, at, kind, value, via) VALUES (?, ?, ?, ?, ?)",
            [(after.key, now, kind, value, via) for kind, value in changes],
        )

    def _timestamp(self) -> str:
        return self.clock().isoformat(timespec="seconds")


def _consented(subscriber: Subscriber) -> Subscriber:
    """Dates are kept only with her consent, and consent only with a date to keep."""
    if subscriber.dates_consent_at is None or not subscriber.has_dates:
        return subscriber.without_dates()
    return subscriber


def _to_row(subscriber: Subscriber) -> tuple:
    return (
        subscriber.email,
        subscriber.name,
        json.dumps(list(subscriber.tags)),
        subscriber.status,
        subscriber.stage,
        subscriber.due_date.isoformat() if subscriber.due_date else None,
        subscriber.birth_date.isoformat() if subscriber.birth_date else None,
        subscriber.dates_consent_at.isoformat(timespec="seconds") if subscriber.dates_consent_at else None,
    )


def _from_row(row: tuple) -> Subscriber:
    email, name, tags, status, stage, due, born, consent = row
    return Subscriber(
        email=email,
        name=name,
        tags=tuple(json.loads(tags)),
        status=status,
        stage=stage,
        due_date=date.fromisoformat(due) if due else None,
        birth_date=date.fromisoformat(born) if born else None,
        dates_consent_at=datetime.fromisoformat(consent) if consent else None,
    )

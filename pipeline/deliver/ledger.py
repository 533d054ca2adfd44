"""The record of what was pushed where: `.newsletter/ledger.sqlite3`.

Three append-only tables. `steps` holds one row per step of an issue at a provider (drafted,
updated, tested, scheduled, sent) with the provider's campaign id; the latest state of an issue
is folded from its rows. `recipients` holds one row per address an issue was sent to by a
provider that sends message by message (SMTP), unique per (issue, provider, recipient).
`web_copies` holds the web page of each content of an issue that was pushed (any provider): the
blog's archive is made from the newest row of each issue, so it shows what went out.

Every write is a single statement in autocommit mode, so it is its own transaction (or, for
`record_recipients`, one explicit transaction): a process killed at any point leaves either the
whole write or none. WAL mode with synchronous=FULL keeps a
committed row through a crash and lets readers run beside a writer. `exclusive()` serialises
whole pushes.
"""

from __future__ import annotations

import fcntl
import functools
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

from pipeline.core.clock import now as utc_now
from pipeline.core.errors import PipelineError
from pipeline.core.model import WebCopy

LEDGER_FILE = "ledger.sqlite3"
STEPS = ("drafted", "updated", "tested", "scheduled", "sent")
STATUS_OF_STEP = {"drafted": "draft", "updated": "draft", "scheduled": "scheduled", "sent": "sent"}
STATUS_RANK = {"draft": 0, "scheduled": 1, "sent": 2}
SCHEMA_VERSION = 1

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    issue_key TEXT NOT NULL,
    provider TEXT NOT NULL,
    step TEXT NOT NULL CHECK (step IN ({", ".join(f"'{step}'" for step in STEPS)})),
    campaign_id TEXT,
    content_hash TEXT,
    detail TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS steps_by_issue ON steps (issue_key, provider, id);
CREATE TABLE IF NOT EXISTS web_copies (
    issue_key TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    week TEXT NOT NULL,
    stage TEXT,
    subject TEXT NOT NULL,
    preview_text TEXT NOT NULL,
    monday TEXT NOT NULL,
    body_html TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (issue_key, content_hash)
);
CREATE TABLE IF NOT EXISTS recipients (
    issue_key TEXT NOT NULL,
    provider TEXT NOT NULL,
    recipient TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    PRIMARY KEY (issue_key, provider, recipient)
);
"""


def ledger_path(state_dir: Path) -> Path:
    """Where the ledger of a project lives: `Ledger(ledger_path(config.state_dir))`."""
    return Path(state_dir) / LEDGER_FILE


@dataclass(frozen=True)
class StepRecord:
    issue_key: str
    provider: str
    step: str
    campaign_id: str | None
    content_hash: str | None
    detail: str
    at: datetime


@dataclass(frozen=True)
class IssueState:
    """Where one issue stands at one provider, according to the ledger."""

    issue_key: str
    provider: str
    campaign_id: str | None
    content_hash: str | None  # what the last drafted/updated step pushed (None: not known)
    status: str  # "draft", "scheduled" or "sent"
    pushed_at: datetime  # when that content was pushed
    status_at: datetime  # when the status was reached
    scheduled_for: datetime | None  # for status "scheduled": the time recorded with the step
    steps: tuple[StepRecord, ...]


class LedgerDamaged(PipelineError):
    """The ledger file is not a readable SQLite database (truncated, overwritten, half-copied)."""


def _readable(method):
    """A damaged ledger is an error saying how to recover, never a sqlite3 traceback."""

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as error:
            if method.__name__ == "__init__" and getattr(self, "_db", None) is not None:
                self._db.close()
            if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
                raise PipelineError(f"{self.path} is busy: another push is using it; let it finish") from None
            raise LedgerDamaged(
                f"{self.path} is damaged ({error}): nothing was pushed or sent. Move it aside "
                f"(mv {self.path} {self.path}.damaged) and push again: the provider (or, for smtp, "
                "each campaign's sent.log) still knows what went out, so nobody gets the issue twice"
            ) from None

    return guarded


class Ledger:
    @_readable
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._create_schema()
        self._db.execute("SELECT count(*) FROM steps").fetchone()  # reads a page: a damaged file fails here

    def _create_schema(self) -> None:
        self._db.executescript(f"BEGIN IMMEDIATE;{SCHEMA}PRAGMA user_version={SCHEMA_VERSION};COMMIT;")

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Held for a whole push (look up, then act, then record), so two pushes started at once
        (a double-clicked job, two cron runs) cannot both decide to create a campaign: the second
        waits, then finds what the first did. The lock ends with the process that holds it."""
        with open(self.path.with_name(self.path.name + ".lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # Steps of a push.
    @_readable
    def record(
        self,
        issue_key: str,
        provider: str,
        step: str,
        *,
        campaign_id: str | None,
        content_hash: str | None = None,
        detail: str = "",
        at: datetime | None = None,
    ) -> StepRecord:
        """Append one step, committed before this returns. For "scheduled", `detail` is the
        scheduled time in ISO 8601 (see `scheduled_detail`)."""
        if step not in STEPS:
            raise ValueError(f"unknown ledger step {step!r} (known: {', '.join(STEPS)})")
        when = _utc(at or utc_now())
        self._db.execute(
            "INSERT INTO steps (issue_key, provider, step, campaign_id, "
            "content_hash, detail, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (issue_key, provider, step, campaign_id, content_hash, detail, when.isoformat()),
        )
        return StepRecord(issue_key, provider, step, campaign_id, content_hash, detail, when)

    @_readable
    def history(self, issue_key: str, provider: str) -> list[StepRecord]:
        rows = self._db.execute(
            "SELECT issue_key, provider, step, campaign_id, content_hash, detail, at FROM steps"
            " WHERE issue_key = ? AND provider = ? ORDER BY id",
            (issue_key, provider),
        )
        return [StepRecord(*row[:6], datetime.fromisoformat(row[6])) for row in rows]

    def state(self, issue_key: str, provider: str) -> IssueState | None:
        return fold_state(self.history(issue_key, provider))

    # What the archive on the blog shows.
    def record_web_copy(self, copy: WebCopy, content_hash: str, at: datetime | None = None) -> None:
        """Keep the page of the content just pushed (again: the row is left as it was)."""
        when = _utc(at or utc_now())
        self._db.execute(
            "INSERT OR IGNORE INTO web_copies (issue_key, content_hash, week, stage, subject, preview_text, monday,"
            " body_html, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                copy.issue_key,
                content_hash,
                copy.week,
                copy.stage,
                copy.subject,
                copy.preview_text,
                copy.monday.isoformat(),
                copy.body_html,
                when.isoformat(),
            ),
        )

    def has_web_copy(self, issue_key: str) -> bool:
        return (
            self._db.execute("SELECT 1 FROM web_copies WHERE issue_key = ? LIMIT 1", (issue_key,)).fetchone()
            is not None
        )

    def web_copies(self) -> list[WebCopy]:
        """The newest pushed content of every issue, oldest week first."""
        rows = self._db.execute(
            "SELECT issue_key, week, stage, subject, preview_text, monday, body_html, MAX(at) FROM web_copies"
            " GROUP BY issue_key ORDER BY week, issue_key"
        )
        return [
            WebCopy(key, week, stage, subject, preview, date.fromisoformat(monday), body, datetime.fromisoformat(at))
            for key, week, stage, subject, preview, monday, body, at in rows
        ]

    # Per-recipient sends (SMTP).
    @_readable
    def record_recipient(self, issue_key: str, provider: str, recipient: str, sent_at: datetime | None = None) -> bool:
        """Record that `recipient` got the issue, committed before this returns. False if that
        recipient was already recorded (the row is left as it was)."""
        when = _utc(sent_at or utc_now())
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO recipients (issue_key, provider, recipient, sent_at) VALUES (?, ?, ?, ?)",
            (issue_key, provider, recipient, when.isoformat()),
        )
        return cursor.rowcount == 1

    @_readable
    def record_recipients(
        self, issue_key: str, provider: str, recipients: list[str], sent_at: datetime | None = None
    ) -> None:
        """Record several recipients in one transaction, committed before this returns: one disk
        sync for all (SMTP over several connections records the readers taken at the same moment)."""
        when = _utc(sent_at or utc_now()).isoformat()
        rows = [(issue_key, provider, recipient, when) for recipient in recipients]
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany(
                "INSERT OR IGNORE INTO recipients (issue_key, provider, recipient, sent_at) VALUES (?, ?, ?, ?)", rows
            )
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @_readable
    def recipients(self, issue_key: str, provider: str) -> dict[str, datetime]:
        rows = self._db.execute(
            "SELECT recipient, sent_at FROM recipients WHERE issue_key = ? AND "
            "provider = ? ORDER BY sent_at, recipient",
            (issue_key, provider),
        )
        return {recipient: datetime.fromisoformat(sent_at) for recipient, sent_at in rows}


def fold_state(steps: list[StepRecord]) -> IssueState | None:
    """The state after `steps` (oldest first). A step naming another campaign starts over: the
    issue now lives in that campaign."""
    state: IssueState | None = None
    for record in steps:
        if state is None or record.campaign_id != state.campaign_id:
            state = IssueState(
                record.issue_key, record.provider, record.campaign_id, None, "draft", record.at, record.at, None, ()
            )
        changes: dict = {"steps": state.steps + (record,)}
        if record.step in ("drafted", "updated"):
            changes.update(content_hash=record.content_hash, pushed_at=record.at)
        status = STATUS_OF_STEP.get(record.step)
        if status and STATUS_RANK[status] > STATUS_RANK[state.status]:
            changes.update(status=status, status_at=record.at)
            if status == "scheduled":
                changes["scheduled_for"] = _parse_time(record.detail)
        state = replace(state, **changes)
    return state


def scheduled_detail(when: datetime) -> str:
    return _utc(when).isoformat()


def _parse_time(text: str) -> datetime | None:
    try:
        return _utc(datetime.fromisoformat(text))
    except (TypeError, ValueError):
        return None


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError(f"time {when.isoformat()} has no time zone; the ledger stores UTC")
    return when.astimezone(UTC)

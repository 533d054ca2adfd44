"""ledger.py: the SQLite record of what was pushed where, safe across crashes and reopening."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipeline.core.config import config_from_dict
from pipeline.deliver.ledger import Ledger, ledger_path, scheduled_detail

KEY = "strongfromwithin-example-2026-W48"
MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture
def path(tmp_path) -> Path:
    return ledger_path(config_from_dict({}, tmp_path).state_dir)


@pytest.fixture
def ledger(path):
    with Ledger(path) as opened:
        yield opened


def test_ledger_lives_in_the_project_state_folder_which_it_creates(tmp_path, path):
    Ledger(path).close()

    assert path == tmp_path / ".newsletter" / "ledger.sqlite3"
    assert path.is_file()


def test_ledger_uses_write_ahead_logging(path):
    Ledger(path).close()

    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_unknown_issue_has_no_state(ledger):
    assert ledger.state(KEY, "outbox") is None


def test_drafted_issue_state(ledger):
    ledger.record(KEY, "outbox", "drafted", campaign_id="2026-W48", content_hash="h1", at=MONDAY)

    state = ledger.state(KEY, "outbox")

    assert (state.campaign_id, state.content_hash, state.status, state.pushed_at) == ("2026-W48", "h1", "draft", MONDAY)


def test_update_changes_the_hash_and_the_push_time(ledger):
    ledger.record(KEY, "outbox", "drafted", campaign_id="c1", content_hash="h1", at=MONDAY)
    ledger.record(KEY, "outbox", "updated", campaign_id="c1", content_hash="h2", at=MONDAY + timedelta(hours=1))

    state = ledger.state(KEY, "outbox")

    assert (state.content_hash, state.pushed_at, state.status) == ("h2", MONDAY + timedelta(hours=1), "draft")


def test_a_test_send_neither_changes_status_nor_push_time(ledger):
    ledger.record(KEY, "outbox", "drafted", campaign_id="c1", content_hash="h1", at=MONDAY)
    ledger.record(
        KEY,
        "outbox",
        "tested",
        campaign_id="c1",
        content_hash="h1",
        detail="me@example.com",
        at=MONDAY + timedelta(minutes=5),
    )

    state = ledger.state(KEY, "outbox")

    assert (state.status, state.pushed_at) == ("draft", MONDAY)
    assert [step.step for step in state.steps] == ["drafted", "tested"]


def test_scheduled_then_sent_status_with_times(ledger):
    send_time = MONDAY + timedelta(days=1)
    ledger.record(KEY, "outbox", "drafted", campaign_id="c1", content_hash="h1", at=MONDAY)
    ledger.record(
        KEY,
        "outbox",
        "scheduled",
        campaign_id="c1",
        detail=scheduled_detail(send_time),
        at=MONDAY + timedelta(minutes=1),
    )

    scheduled = ledger.state(KEY, "outbox")
    ledger.record(KEY, "outbox", "sent", campaign_id="c1", at=send_time)
    sent = ledger.state(KEY, "outbox")

    assert (scheduled.status, scheduled.scheduled_for, scheduled.status_at) == (
        "scheduled",
        send_time,
        MONDAY + timedelta(minutes=1),
    )
    assert (sent.status, sent.status_at) == ("sent", send_time)


def test_state_is_per_provider_and_per_issue(ledger):
    ledger.record(KEY, "outbox", "drafted", campaign_id="2026-W48", content_hash="h1", at=MONDAY)
    ledger.record(KEY, "buttondown", "drafted", campaign_id="em_1", content_hash="h2", at=MONDAY)
    ledger.record(KEY, "buttondown", "sent", campaign_id="em_1", at=MONDAY)

    assert ledger.state(KEY, "outbox").status == "draft"
    assert ledger.state(KEY, "buttondown").campaign_id == "em_1"
    assert ledger.state("strongfromwithin-example-2026-W49", "outbox") is None


def test_a_step_for_another_campaign_starts_its_state_over(ledger):
    ledger.record(KEY, "mailchimp", "drafted", campaign_id="old", content_hash="h1", at=MONDAY)
    ledger.record(
        KEY, "mailchimp", "scheduled", campaign_id="old", detail=scheduled_detail(MONDAY + timedelta(days=2)), at=MONDAY
    )
    ledger.record(KEY, "mailchimp", "drafted", campaign_id="new", content_hash="h2", at=MONDAY + timedelta(hours=2))

    state = ledger.state(KEY, "mailchimp")

    assert (state.campaign_id, state.status, state.content_hash, state.scheduled_for) == ("new", "draft", "h2", None)


def test_times_are_stored_in_utc(ledger):
    london_summer = timezone(timedelta(hours=1))
    ledger.record(
        KEY,
        "outbox",
        "drafted",
        campaign_id="c1",
        content_hash="h1",
        at=datetime(2026, 6, 1, 9, 0, tzinfo=london_summer),
    )

    assert ledger.state(KEY, "outbox").pushed_at == datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    assert ledger.state(KEY, "outbox").pushed_at.utcoffset() == timedelta(0)


def test_time_without_zone_is_refused(ledger):
    with pytest.raises(ValueError, match="no time zone"):
        ledger.record(KEY, "outbox", "drafted", campaign_id="c1", at=datetime(2026, 11, 23, 8, 0))


def test_unknown_step_is_refused(ledger):
    with pytest.raises(ValueError, match="unknown ledger step 'published'"):
        ledger.record(KEY, "outbox", "published", campaign_id="c1")


def test_state_survives_closing_and_reopening(path):
    with Ledger(path) as first:
        first.record(KEY, "outbox", "drafted", campaign_id="2026-W48", content_hash="h1", at=MONDAY)
        first.record(KEY, "outbox", "sent", campaign_id="2026-W48", at=MONDAY + timedelta(hours=1))

    with Ledger(path) as reopened:
        state = reopened.state(KEY, "outbox")

    assert (state.campaign_id, state.content_hash, state.status) == ("2026-W48", "h1", "sent")


def test_each_record_is_committed_before_it_returns(path, ledger):
    ledger.record(KEY, "outbox", "drafted", campaign_id="c1", content_hash="h1", at=MONDAY)

    with Ledger(path) as other_connection:
        assert other_connection.state(KEY, "outbox").campaign_id == "c1"


def test_a_process_killed_right_after_recording_keeps_the_record(path):
    script = textwrap.dedent(f"""
        import os, signal
        from pipeline.deliver.ledger import Ledger
        ledger = Ledger({str(path)!r})
        ledger.record({KEY!r}, "outbox", "drafted", campaign_id="c1", content_hash="h1")
        ledger.record_recipient({KEY!r}, "smtp", "ada@example.com")
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    completed = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parent.parent)

    assert completed.returncode == -9
    with Ledger(path) as reopened:
        assert reopened.state(KEY, "outbox").content_hash == "h1"
        assert list(reopened.recipients(KEY, "smtp")) == ["ada@example.com"]


# Per-recipient sends (SMTP provider).
def test_recording_a_recipient_twice_keeps_the_first(ledger):
    first = ledger.record_recipient(KEY, "smtp", "ada@example.com", sent_at=MONDAY)
    second = ledger.record_recipient(KEY, "smtp", "ada@example.com", sent_at=MONDAY + timedelta(hours=1))

    assert (first, second) == (True, False)
    assert ledger.recipients(KEY, "smtp") == {"ada@example.com": MONDAY}


def test_several_recipients_recorded_at_once_are_each_kept_and_a_known_one_stays_as_it_was(ledger):
    later = MONDAY + timedelta(hours=1)
    ledger.record_recipient(KEY, "smtp", "ada@example.com", sent_at=MONDAY)
    ledger.record_recipients(KEY, "smtp", ["ada@example.com", "bea@example.com", "cleo@example.com"], sent_at=later)
    assert ledger.recipients(KEY, "smtp") == {
        "ada@example.com": MONDAY,
        "bea@example.com": later,
        "cleo@example.com": later,
    }


def test_recipients_are_per_issue_and_provider(ledger):
    ledger.record_recipient(KEY, "smtp", "ada@example.com", sent_at=MONDAY)
    ledger.record_recipient(KEY, "smtp", "bea@example.com", sent_at=MONDAY)

    assert ledger.record_recipient("strongfromwithin-example-2026-W49", "smtp", "ada@example.com") is True
    assert set(ledger.recipients(KEY, "smtp")) == {"ada@example.com", "bea@example.com"}
    assert ledger.recipients(KEY, "outbox") == {}


def test_recipients_survive_reopening(path):
    with Ledger(path) as first:
        first.record_recipient(KEY, "smtp", "ada@example.com", sent_at=MONDAY)

    with Ledger(path) as reopened:
        assert reopened.record_recipient(KEY, "smtp", "ada@example.com") is False
        assert reopened.recipients(KEY, "smtp") == {"ada@example.com": MONDAY}

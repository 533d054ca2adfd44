"""The subscriber list: CSV import, the SQLite table, and `newsletter subscribers ...`."""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.core.errors import ContentErrors
from pipeline.deliver.subscribers import (
    ACTIVE,
    PENDING,
    UNSUBSCRIBED,
    Subscriber,
    SubscriberStore,
    parse_subscribers_csv,
    parse_tags,
)


def csv_text(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# Reading a CSV.
def test_a_csv_gives_email_name_and_tags():
    people = parse_subscribers_csv(
        csv_text("""
        email,name,tags
        ann@example.com,Ann Lee,pregnant
        bea@example.com,,postpartum-0-6w; postpartum-6w-plus
    """),
        "list.csv",
    )
    assert people == [
        Subscriber("ann@example.com", "Ann Lee", ("pregnant",)),
        Subscriber("bea@example.com", "", ("postpartum-0-6w", "postpartum-6w-plus")),
    ]


def test_only_the_email_column_is_required_and_other_columns_are_ignored():
    people = parse_subscribers_csv(
        "Email Address,First Name,Signup Date\nann@example.com,Ann,2026-01-02\n", "export.csv"
    )
    assert people == [Subscriber("ann@example.com")]


def test_a_byte_order_mark_and_blank_lines_are_ignored():
    people = parse_subscribers_csv("\ufeffemail\r\nann@example.com\r\n\r\nbea@example.com\r\n", "list.csv")
    assert [p.email for p in people] == ["ann@example.com", "bea@example.com"]


def test_the_domain_is_normalised_and_tags_lower_cased():
    [person] = parse_subscribers_csv("email,tags\nAnn@EXAMPLE.com,Pregnant\n", "list.csv")
    assert person.email == "Ann@example.com"
    assert person.tags == ("pregnant",)


def test_a_csv_without_an_email_column_says_what_the_header_needs():
    with pytest.raises(ContentErrors) as error:
        parse_subscribers_csv("name,tags\nAnn,pregnant\n", "list.csv")
    assert str(error.value).startswith("list.csv:1: no 'email' column")


def test_every_bad_row_is_reported_with_its_line():
    with pytest.raises(ContentErrors) as error:
        parse_subscribers_csv(
            csv_text("""
            email,name,tags
            ann@example.com,Ann,
            not-an-address,Bea,
            ,Cleo,pregnant
            dee@example.com,Dee,post partum!
            ANN@example.com,Ann again,
        """),
            "list.csv",
        )
    lines = str(error.value).splitlines()
    assert [line.split(": ")[0] for line in lines] == ["list.csv:3", "list.csv:4", "list.csv:5", "list.csv:6"]
    assert "'not-an-address' is not an email address" in lines[0]
    assert "the email cell is empty" in lines[1]
    assert "tag 'partum!'" in lines[2]
    assert "listed twice (first on line 2)" in lines[3]


def test_tags_may_be_separated_by_spaces_commas_or_semicolons_and_repeat_once():
    assert parse_tags("pregnant, postpartum-0-6w;pregnant  x") == ("pregnant", "postpartum-0-6w", "x")


# The table.
@pytest.fixture
def store(tmp_path):
    with SubscriberStore(tmp_path / ".newsletter" / "subscribers.sqlite3") as store:
        yield store


def test_import_adds_new_people_and_keeps_their_tags(store):
    report = store.import_subscribers([Subscriber("ann@example.com", "Ann", ("pregnant",))])
    assert report.added == ["ann@example.com"]
    assert store.active() == [Subscriber("ann@example.com", "Ann", ("pregnant",), ACTIVE)]


def test_importing_again_updates_names_and_tags_and_counts_the_unchanged(store):
    store.import_subscribers([Subscriber("ann@example.com", "Ann", ("pregnant",)), Subscriber("bea@example.com")])
    report = store.import_subscribers(
        [Subscriber("ANN@example.com", "Ann", ("postpartum-0-6w",)), Subscriber("bea@example.com")]
    )
    assert (report.added, report.updated, report.unchanged) == ([], ["ANN@example.com"], ["bea@example.com"])
    assert store.get("ann@example.com").tags == ("postpartum-0-6w",)
    assert len(store.all()) == 2


def test_an_unsubscribed_person_is_never_put_back_by_an_import(store):
    store.import_subscribers([Subscriber("ann@example.com")])
    store.unsubscribe("ann@example.com")
    report = store.import_subscribers([Subscriber("ann@example.com")])
    assert report.skipped_unsubscribed == ["ann@example.com"]
    assert store.active() == []
    assert store.get("ann@example.com").status == UNSUBSCRIBED


def test_unsubscribing_an_unknown_address_records_it_so_it_is_never_sent_to(store):
    assert store.unsubscribe("zoe@example.com") == "recorded"
    assert store.unsubscribed_keys() == {"zoe@example.com"}
    assert store.import_subscribers([Subscriber("zoe@example.com")]).skipped_unsubscribed == ["zoe@example.com"]


def test_unsubscribing_ignores_the_case_of_the_address(store):
    store.import_subscribers([Subscriber("Ann@example.com")])
    assert store.unsubscribe("ann@EXAMPLE.COM") == "unsubscribed"
    assert store.unsubscribe("ann@example.com") == "already unsubscribed"


def test_adding_one_person_by_hand_resubscribes_them(store):
    store.import_subscribers([Subscriber("ann@example.com")])
    store.unsubscribe("ann@example.com")
    assert store.add(Subscriber("ann@example.com", "Ann", ("pregnant",))) == "resubscribed"
    assert store.active() == [Subscriber("ann@example.com", "Ann", ("pregnant",), ACTIVE)]


def test_forgetting_deletes_every_trace(store):
    store.import_subscribers([Subscriber("ann@example.com")])
    store.unsubscribe("ann@example.com")
    assert store.forget("ann@example.com") is True
    assert store.all() == []
    assert store.forget("ann@example.com") is False


def test_the_list_survives_reopening_the_database(tmp_path):
    path = tmp_path / "subscribers.sqlite3"
    with SubscriberStore(path) as store:
        store.import_subscribers([Subscriber("ann@example.com", "Ann", ("pregnant",))])
    with SubscriberStore(path) as reopened:
        assert reopened.active() == [Subscriber("ann@example.com", "Ann", ("pregnant",))]


CONSENT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # a fixed moment; nothing here compares it with now
DUE = date(2027, 3, 1)


def test_a_signup_is_pending_until_confirmed_and_pending_readers_get_nothing(store):
    assert store.sign_up(Subscriber("ann@example.com", "Ann", stage="pregnant")).before == "new"
    assert store.get("ann@example.com").status == PENDING
    assert store.active() == []
    confirmed = store.confirm("ann@example.com")
    assert (confirmed.status, confirmed.stage) == (ACTIVE, "pregnant")
    assert store.active() == [confirmed]


def test_a_signup_for_an_active_address_changes_nothing_of_hers(store):
    store.import_subscribers([Subscriber("ann@example.com", "Ann", stage="pregnant")])
    assert store.sign_up(Subscriber("ann@example.com", "Mallory", stage="general")).before == ACTIVE
    assert store.get("ann@example.com") == Subscriber("ann@example.com", "Ann", stage="pregnant")


def test_a_reader_who_left_can_sign_up_again_and_is_pending(store):
    store.import_subscribers([Subscriber("ann@example.com")])
    store.unsubscribe("ann@example.com")
    assert store.sign_up(Subscriber("ann@example.com", "Ann")).before == UNSUBSCRIBED
    assert store.get("ann@example.com").status == PENDING


def test_confirming_someone_who_left_or_was_never_there_confirms_nobody(store):
    store.import_subscribers([Subscriber("ann@example.com")])
    store.unsubscribe("ann@example.com")
    assert store.confirm("ann@example.com") is None
    assert store.confirm("zoe@example.com") is None
    assert store.get("zoe@example.com") is None


def test_dates_are_kept_only_with_her_consent(store):
    store.sign_up(Subscriber("ann@example.com", due_date=DUE))
    assert store.get("ann@example.com").due_date is None
    store.sign_up(Subscriber("bea@example.com", due_date=DUE, dates_consent_at=CONSENT))
    assert (store.get("bea@example.com").due_date, store.get("bea@example.com").dates_consent_at) == (DUE, CONSENT)


def test_consent_without_a_date_keeps_no_consent(store):
    store.sign_up(Subscriber("ann@example.com", dates_consent_at=CONSENT))
    assert store.get("ann@example.com").dates_consent_at is None


def test_every_change_of_status_stage_or_consent_is_recorded_with_its_time(tmp_path):
    moments = iter(CONSENT + timedelta(minutes=minute) for minute in range(10))
    with SubscriberStore(tmp_path / "s.sqlite3", clock=lambda: next(moments)) as store:
        store.sign_up(Subscriber("ann@example.com", stage="pregnant", due_date=DUE, dates_consent_at=CONSENT))
        store.confirm("ann@example.com")
        ann = store.get("ann@example.com")
        store.change(Subscriber(ann.email, "Ann", stage="postpartum-0-6w", birth_date=DUE, dates_consent_at=CONSENT))
        store.change(Subscriber(ann.email, "Ann", stage="postpartum-0-6w"))
        store.unsubscribe("ann@example.com", via="unsubscribe")
        events = store.events("ann@example.com")
    assert [(kind, value, via) for _, kind, value, via in events] == [
        ("status", "pending", "form"),
        ("stage", "pregnant", "form"),
        ("consent", "given", "form"),
        ("status", "active", "form"),
        ("stage", "postpartum-0-6w", "preferences"),
        ("dates", "changed", "preferences"),
        ("consent", "withdrawn", "preferences"),
        ("status", "unsubscribed", "unsubscribe"),
    ]
    assert [at for at, *_ in events] == sorted(at for at, *_ in events)
    assert events[0][0] == CONSENT.isoformat()


def test_no_event_ever_holds_a_date_she_gave(store):
    store.sign_up(Subscriber("ann@example.com", due_date=DUE, birth_date=DUE, dates_consent_at=CONSENT))
    store.change(Subscriber("ann@example.com", birth_date=DUE + timedelta(days=3), dates_consent_at=CONSENT))
    dump = "\n".join(store.db.iterdump())
    events = [line for line in dump.splitlines() if "subscriber_events" in line]
    assert events and not any(d.isoformat() in line for line in events for d in (DUE, DUE + timedelta(days=3)))


def test_forgetting_erases_the_events_and_the_queued_mail_too(store):
    store.sign_up(Subscriber("ann@example.com", stage="pregnant", due_date=DUE, dates_consent_at=CONSENT))
    store.db.execute(
        "INSERT INTO reader_mail (email_key, kind, queued_at, next_try_at) "
        "VALUES ('ann@example.com', 'confirm', '', '')"
    )
    store.forget("Ann@Example.com")
    dump = "\n".join(store.db.iterdump())
    assert "ann@example.com" not in dump.lower()


VERSION_0_SCHEMA = """
CREATE TABLE subscribers (
    email_key TEXT PRIMARY KEY, email TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'unsubscribed')),
    subscribed_at TEXT, unsubscribed_at TEXT
);
INSERT INTO subscribers VALUES ('ann@example.com', 'Ann@example.com', 'Ann', '["pregnant"]', 'active',
    '2026-10-01T08:00:00+00:00', NULL);
INSERT INTO subscribers VALUES ('bea@example.com', 'bea@example.com', '', '[]', 'unsubscribed',
    '2026-10-01T08:00:00+00:00', '2026-10-05T08:00:00+00:00');
"""


def test_a_database_from_before_stages_is_migrated_keeping_everyone(tmp_path):
    path = tmp_path / "subscribers.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(VERSION_0_SCHEMA)
    old.close()
    with SubscriberStore(path) as store:
        assert store.all() == [
            Subscriber("Ann@example.com", "Ann", ("pregnant",), ACTIVE),
            Subscriber("bea@example.com", "", (), UNSUBSCRIBED),
        ]
        assert store.events("bea@example.com") == [("2026-10-05T08:00:00+00:00", "status", UNSUBSCRIBED, "migration")]
        assert store.sign_up(Subscriber("cat@example.com", stage="general")).before == "new"  # 'pending' is allowed now
    with SubscriberStore(path) as reopened:  # migrated once
        assert len(reopened.events("ann@example.com")) == 1
        assert reopened.db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_stage_and_dates_come_from_the_csv_and_dates_need_the_consent_time():
    people = parse_subscribers_csv(
        csv_text("""
        email,stage,due_date,birth_date,dates_consent_at
        ann@example.com,Pregnant,2027-03-01,,2026-11-02T10:00:00+00:00
        bea@example.com,general,,,
    """),
        "list.csv",
        stages=("pregnant", "postpartum-0-6w"),
    )
    assert people == [
        Subscriber("ann@example.com", stage="pregnant", due_date=DUE, dates_consent_at=CONSENT),
        Subscriber("bea@example.com", stage="general"),
    ]


def test_a_csv_date_without_consent_an_unknown_stage_or_a_bad_date_is_refused_with_its_line():
    with pytest.raises(ContentErrors) as raised:
        parse_subscribers_csv(
            csv_text("""
            email,stage,due_date,dates_consent_at
            ann@example.com,,2027-03-01,
            bea@example.com,pregant,,
            cat@example.com,,1 March,2026-11-02T10:00:00+00:00
            dee@example.com,,2027-03-01,2026-11-02 10:00
        """),
            "list.csv",
            stages=("pregnant",),
        )
    messages = [str(error) for error in raised.value.errors]
    assert messages[0].startswith("list.csv:2: a due_date or birth_date needs dates_consent_at")
    assert messages[1] == "list.csv:3: stage 'pregant' is not one of pregnant, general"
    assert messages[2] == "list.csv:4: due_date must be a date written YYYY-MM-DD"
    assert messages[3].startswith("list.csv:5: dates_consent_at needs its time zone")


# The command.
HEADER = "email,name,tags,stage,due_date,birth_date,dates_consent_at"


def newsletter(root: Path, *args: str) -> subprocess.CompletedProcess:
    code = (
        "import sys; from pipeline.cli.subscribers import subscribers; "
        "sys.exit(subscribers.main(sys.argv[1:], prog_name='newsletter "
        "subscribers'))"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args, "--root", str(root)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        timeout=60,
    )


@pytest.fixture
def project(make_project):
    return make_project(
        {
            "people.csv": """
        email,name,tags
        ann@example.com,"Lee, Ann",pregnant
        bea@example.com,Bea,postpartum-0-6w postpartum-6w-plus
    """
        }
    )


def test_import_then_list_prints_the_list_as_csv_that_imports_back(project):
    imported = newsletter(project, "import", str(project / "people.csv"))
    assert imported.returncode == 0, imported.stderr
    assert "2 added, 0 updated, 0 unchanged" in imported.stdout
    listed = newsletter(project, "list")
    assert listed.returncode == 0, listed.stderr
    assert list(csv.reader(io.StringIO(listed.stdout))) == [
        HEADER.split(","),
        ["ann@example.com", "Lee, Ann", "pregnant", "", "", "", ""],
        ["bea@example.com", "Bea", "postpartum-0-6w postpartum-6w-plus", "", "", "", ""],
    ]
    assert "2 subscribed" in listed.stderr
    (project / "again.csv").write_text(listed.stdout)
    again = newsletter(project, "import", str(project / "again.csv"))
    assert "0 added, 0 updated, 2 unchanged" in again.stdout


def test_the_list_lives_in_the_projects_state_folder(project):
    newsletter(project, "import", str(project / "people.csv"))
    assert (project / ".newsletter" / "subscribers.sqlite3").is_file()


def test_a_bad_csv_imports_nobody_and_exits_2_with_file_and_line(project):
    (project / "bad.csv").write_text("email\nann@example.com\nnobody-at-all\n")
    result = newsletter(project, "import", str(project / "bad.csv"))
    assert result.returncode == 2
    assert f"{project / 'bad.csv'}:3: 'nobody-at-all' is not an email address" in result.stderr
    assert "Traceback" not in result.stderr
    assert newsletter(project, "list").stdout == f"{HEADER}\n"


def test_remove_unsubscribes_and_list_all_shows_the_status(project):
    newsletter(project, "import", str(project / "people.csv"))
    removed = newsletter(project, "remove", "ANN@example.com")
    assert removed.returncode == 0, removed.stderr
    assert "ANN@example.com: unsubscribed" in removed.stdout
    assert newsletter(project, "list").stdout.splitlines()[1:] == [
        "bea@example.com,Bea,postpartum-0-6w postpartum-6w-plus,,,,"
    ]
    everyone = newsletter(project, "list", "--all").stdout.splitlines()
    assert everyone[0] == f"{HEADER},status"
    assert everyone[1] == 'ann@example.com,"Lee, Ann",pregnant,,,,,unsubscribed'


def test_remove_refuses_something_that_is_not_an_address(project):
    result = newsletter(project, "remove", "ann")
    assert result.returncode == 2
    assert "'ann' is not an email address" in result.stderr


def test_remove_forget_deletes_the_address(project):
    newsletter(project, "import", str(project / "people.csv"))
    result = newsletter(project, "remove", "ann@example.com", "--forget")
    assert "ann@example.com: forgotten" in result.stdout
    assert "ann@example.com" not in newsletter(project, "list", "--all").stdout


def test_add_subscribes_one_person_with_tags(project):
    result = newsletter(project, "add", "cleo@example.com", "--name", "Cleo", "--tags", "pregnant")
    assert result.returncode == 0, result.stderr
    assert "cleo@example.com: added" in result.stdout
    assert newsletter(project, "list").stdout.splitlines()[1:] == ["cleo@example.com,Cleo,pregnant,,,,"]


def test_add_refuses_a_bad_tag(project):
    result = newsletter(project, "add", "cleo@example.com", "--tags", "Post Partum!")
    assert result.returncode == 2
    assert "tag 'partum!'" in result.stderr


def test_list_and_import_carry_stage_and_dates(project):
    (project / "staged.csv").write_text(
        f"{HEADER}\ncleo@example.com,Cleo,,postpartum-0-6w,,2026-11-20,2026-11-22T09:30:00+00:00\n"
    )
    assert newsletter(project, "import", str(project / "staged.csv")).returncode == 0
    listed = newsletter(project, "list").stdout
    assert listed.splitlines()[1] == "cleo@example.com,Cleo,,postpartum-0-6w,,2026-11-20,2026-11-22T09:30:00+00:00"
    (project / "again.csv").write_text(listed)
    assert "1 unchanged" in newsletter(project, "import", str(project / "again.csv")).stdout


def test_add_takes_a_stage_and_refuses_one_not_configured(project):
    assert newsletter(project, "add", "cleo@example.com", "--stage", "pregnant").returncode == 0
    assert newsletter(project, "list").stdout.splitlines()[1] == "cleo@example.com,,,pregnant,,,"
    refused = newsletter(project, "add", "dee@example.com", "--stage", "toddler")
    assert refused.returncode == 2 and "stage 'toddler' is not one of" in refused.stderr


def test_list_all_counts_readers_who_have_not_confirmed(project):
    with SubscriberStore(project / ".newsletter" / "subscribers.sqlite3") as store:
        store.sign_up(Subscriber("cleo@example.com"))
    listed = newsletter(project, "list", "--all")
    assert listed.stdout.splitlines()[1] == "cleo@example.com,,,,,,,pending"
    assert "0 subscribed, 1 not confirmed yet, 0 unsubscribed" in listed.stderr

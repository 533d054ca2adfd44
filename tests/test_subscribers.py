"""The subscriber list: CSV import, the SQLite table, and `newsletter subscribers ...`."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipeline.core.errors import ContentErrors
from pipeline.deliver.subscribers import (
    ACTIVE,
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


# The command.
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
        ["email", "name", "tags"],
        ["ann@example.com", "Lee, Ann", "pregnant"],
        ["bea@example.com", "Bea", "postpartum-0-6w postpartum-6w-plus"],
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
    assert newsletter(project, "list").stdout == "email,name,tags\n"


def test_remove_unsubscribes_and_list_all_shows_the_status(project):
    newsletter(project, "import", str(project / "people.csv"))
    removed = newsletter(project, "remove", "ANN@example.com")
    assert removed.returncode == 0, removed.stderr
    assert "ANN@example.com: unsubscribed" in removed.stdout
    assert newsletter(project, "list").stdout.splitlines()[1:] == [
        "bea@example.com,Bea,postpartum-0-6w postpartum-6w-plus"
    ]
    everyone = newsletter(project, "list", "--all").stdout.splitlines()
    assert everyone[0] == "email,name,tags,status"
    assert everyone[1] == 'ann@example.com,"Lee, Ann",pregnant,unsubscribed'


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
    assert newsletter(project, "list").stdout.splitlines()[1:] == ["cleo@example.com,Cleo,pregnant"]


def test_add_refuses_a_bad_tag(project):
    result = newsletter(project, "add", "cleo@example.com", "--tags", "Post Partum!")
    assert result.returncode == 2
    assert "tag 'partum!'" in result.stderr

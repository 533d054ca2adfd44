"""`newsletter subscribers sync` and the sync `newsletter push` runs before a send, through the
command, against the Buttondown stand-in (every request checked against its spec)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner

from pipeline.cli.main import main

from .list_fakes import LIST_FAKES, STAGE_IDS
from .test_stage_sync import DAY, roster

ARTICLE = """\
---
title: Gentle glute work
date: 2026-11-24
summary: Three moves for week 48.
---

Lie on your back and breathe.
"""


@pytest.fixture
def project(make_project, make_harness):
    fake = LIST_FAKES["buttondown"]()
    fake.load(roster("buttondown", 250))
    harness = make_harness("buttondown", fake=fake)
    root = make_project({"content/articles/glutes.md": ARTICLE})
    config = root / "newsletter.toml"
    text = config.read_text(encoding="utf-8").split("[provider]")[0]
    tags = ", ".join(f'"{stage}" = "{tag}"' for stage, tag in STAGE_IDS["buttondown"].items())
    config.write_text(
        text + f'[provider]\nname = "buttondown"\nbase_url = "{fake.base_url(harness.root)}"\n'
        f'username = "strongfromwithin"\nstage_tags = {{ {tags} }}\n',
        encoding="utf-8",
    )
    return root, fake


def run(root, *args):
    env = LIST_FAKES["buttondown"].secrets
    return CliRunner().invoke(main, [*args, "--root", str(root)], env=env, catch_exceptions=False)


def bulk_actions(fake) -> int:
    return sum(1 for e in fake.writes() if e.path.endswith("/bulk_actions"))


def test_sync_plan_then_sync_then_nothing_left(project):
    root, fake = project
    planned = run(root, "subscribers", "sync", "--plan")
    assert planned.exit_code == 0, planned.output
    assert "would change" in planned.output and bulk_actions(fake) == 0

    done = run(root, "subscribers", "sync")
    assert done.exit_code == 0, done.output
    assert "- changed " in done.output and bulk_actions(fake) > 0

    again = run(root, "subscribers", "sync")
    assert "nothing to change" in again.output


def test_push_syncs_the_stage_tags_before_it_sends(project):
    root, fake = project
    result = run(root, "push", "--week", "2026-W48", "--send-now", "--yes")
    assert result.exit_code == 0, result.output
    paths = [e.path for e in fake.writes()]
    assert paths.index("/v1/bulk_actions") < paths.index("/v1/emails")


def test_push_with_no_sync_leaves_the_tags_alone(project):
    root, fake = project
    result = run(root, "push", "--week", "2026-W48", "--send-now", "--yes", "--no-sync")
    assert result.exit_code == 0, result.output
    assert bulk_actions(fake) == 0


def test_push_plan_counts_each_versions_readers_on_the_send_day_and_changes_nothing(project):
    root, fake = project
    result = run(root, "push", "--week", "2026-W48", "--send-now", "--plan")
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if line.startswith("Readers per version on "))
    counts = [int(part.rsplit(" ", 1)[1]) for part in line.split(": ", 1)[1].split(", ")]
    receiving = sum(1 for person in fake.people.values() if person.status == "regular")  # not the unsubscribed
    assert sum(counts) == receiving < 250 and len(counts) == 4
    assert fake.writes() == []


def test_the_sync_report_names_each_reader_whose_dates_were_refused_without_the_dates(project):
    root, fake = project
    first, second, third = sorted(key for key, person in fake.people.items() if person.status == "regular")[:3]
    fake.people[first].fields = {"due_date": "03/04/2027"}  # day/month or month/day? Buttondown: free text
    fake.people[second].fields = {"due_date": (DAY + timedelta(weeks=60)).isoformat()}
    fake.people[third].fields = {"birth_date": "yesterday"}
    result = run(root, "subscribers", "sync", "--plan")
    assert result.exit_code == 0 and "Traceback" not in result.output
    lines = result.output.splitlines()
    ambiguous = "is not a date we can read for sure: it could be day/month or month/day (write it YYYY-MM-DD)"
    assert f"  - {fake.people[first].email}: her 'due_date' {ambiguous}" in lines
    too_far = "the due date is more than 44 weeks away; check the year (a pregnancy lasts about 40 weeks)"
    assert f"  - {fake.people[second].email}: {too_far}" in lines
    assert f"  - {fake.people[third].email}: her 'birth_date' is not a date (write it YYYY-MM-DD)" in lines
    assert (DAY + timedelta(weeks=60)).isoformat() not in result.output  # dates are health data: never printed


def test_smtp_has_nothing_to_sync(make_project):
    root = make_project()
    config = root / "newsletter.toml"
    text = config.read_text(encoding="utf-8").split("[provider]")[0]
    config.write_text(text + '[provider]\nname = "smtp"\nhost = "127.0.0.1"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["subscribers", "sync", "--root", str(root)])
    assert result.exit_code == 0 and "Nothing to sync" in result.output

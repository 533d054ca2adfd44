"""The one clock (pipeline/core/clock.py): "now", "today" in the writer's time zone, SOURCE_DATE_EPOCH,
and what the demo and the safety reviews do as the calendar moves on."""

from __future__ import annotations

import filecmp
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from clock_shift.plugin import shifted_environment
from helpers import REPO, build_project, copy_repo_project

from pipeline.cli.main import main
from pipeline.core import clock
from pipeline.core.config import load_config
from pipeline.core.errors import ConfigError

# 11:00 UTC on a Thursday: already Friday on Kiritimati (UTC+14), still Thursday on Adak (UTC-10).
THURSDAY_MORNING_UTC = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)


def test_now_is_aware_and_in_utc(time_machine):
    time_machine.move_to(THURSDAY_MORNING_UTC, tick=False)
    assert clock.now() == THURSDAY_MORNING_UTC
    assert clock.now().utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "zone, day", [("UTC", 26), ("Pacific/Kiritimati", 27), ("America/Adak", 26), ("Asia/Kolkata", 26)]
)
def test_today_is_the_date_in_the_writers_time_zone(time_machine, zone, day):
    time_machine.move_to(THURSDAY_MORNING_UTC, tick=False)
    assert clock.today(zone) == date(2026, 11, day)


def test_source_date_epoch_pins_the_build_time(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(THURSDAY_MORNING_UTC.timestamp())))
    assert clock.build_time() == THURSDAY_MORNING_UTC
    assert clock.build_date("Pacific/Kiritimati") == date(2026, 11, 27)


def test_without_source_date_epoch_the_build_time_is_now_in_whole_seconds(monkeypatch, time_machine):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    time_machine.move_to(THURSDAY_MORNING_UTC + timedelta(microseconds=250), tick=False)
    assert clock.build_time() == THURSDAY_MORNING_UTC


@pytest.mark.parametrize("value", ["yesterday", "1.5e9", "99999999999999999999"])
def test_a_malformed_source_date_epoch_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    with pytest.raises(ConfigError, match="SOURCE_DATE_EPOCH=.* whole number of seconds"):
        clock.build_time()


def test_a_malformed_source_date_epoch_stops_the_build_with_exit_2(make_project, monkeypatch):
    root = make_project(with_repo_content=True)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "next tuesday")
    result = CliRunner().invoke(main, ["build", "--root", str(root)])
    assert result.exit_code == 2
    assert "SOURCE_DATE_EPOCH='next tuesday' is not a time" in result.output
    assert not (root / "dist").exists()


# ---------------------------------------------------------------- reproducible builds


def built_tree(root: Path, at: datetime, time_machine) -> Path:
    copy_repo_project(root)
    time_machine.move_to(at, tick=False)
    build_project(load_config(root), None, use_cache=False)
    return root / "dist"


def same_tree(left: Path, right: Path) -> list[str]:
    """Paths that differ between two trees (missing on one side, or other bytes)."""
    differences = []
    left_files = {p.relative_to(left) for p in left.rglob("*") if p.is_file()}
    right_files = {p.relative_to(right) for p in right.rglob("*") if p.is_file()}
    differences += sorted(str(p) for p in left_files ^ right_files)
    differences += sorted(
        str(p) for p in left_files & right_files if not filecmp.cmp(left / p, right / p, shallow=False)
    )
    return differences


def test_two_builds_with_source_date_epoch_at_different_times_are_byte_identical(tmp_path, monkeypatch, time_machine):
    # The demo content's week: with no --week, "this week" comes from SOURCE_DATE_EPOCH, not from
    # the days the two builds run on (nine days apart, so in different weeks).
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(THURSDAY_MORNING_UTC.timestamp())))
    first = built_tree(tmp_path / "first", clock.now(), time_machine)
    second = built_tree(tmp_path / "second", clock.now() + timedelta(days=9, hours=5), time_machine)

    assert (first / "email" / "2026-W48" / "email.eml").is_file()
    assert same_tree(first, second) == []


def test_without_source_date_epoch_this_week_follows_the_clock(tmp_path, monkeypatch, time_machine):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    dist = built_tree(tmp_path / "project", THURSDAY_MORNING_UTC, time_machine)
    assert (dist / "email" / "2026-W48").is_dir()

    time_machine.move_to(THURSDAY_MORNING_UTC + timedelta(days=7), tick=False)
    result = build_project(load_config(tmp_path / "project"), None)
    assert result.week == "2026-W49" and result.emails == []


def test_this_week_is_the_writers_week_not_the_machines(make_project, time_machine):
    # Sunday 29 November 2026 at 22:00 UTC is already Monday of week 49 on Kiritimati.
    root = make_project(with_repo_content=True)
    config = load_config(root)
    config.email.timezone = "Pacific/Kiritimati"
    time_machine.move_to(datetime(2026, 11, 29, 22, 0, tzinfo=UTC), tick=False)
    assert build_project(config, None).week == "2026-W49"


# ---------------------------------------------------------------- the calendar moves on


def demo_commands() -> list[list[str]]:
    """The `newsletter` commands of the Makefile's demo target, as `make demo` runs them."""
    recipe = re.search(r"^demo:.*\n((?:\t.*\n)+)", (REPO / "Makefile").read_text(), re.MULTILINE).group(1)
    commands = [line.split()[1:] for line in recipe.splitlines() if line.strip().startswith("$(VENV)/bin/newsletter")]
    assert commands, "the Makefile's demo target runs no newsletter command"
    return commands


@pytest.mark.parametrize("years", [1, 5])
def test_the_demo_still_builds_and_pushes_years_from_now(tmp_path, years):
    root = copy_repo_project(tmp_path / "demo")
    outputs = []
    for command in demo_commands():
        result = subprocess.run(
            [sys.executable, "-m", "pipeline", *command, "--root", str(root)],
            capture_output=True,
            text=True,
            timeout=120,
            env=shifted_environment(365 * years),
        )
        assert result.returncode == 0, result.stdout + result.stderr
        outputs.append(result.stdout)
    assert list((root / "outbox").rglob("campaign.json"))
    stale = [line for line in outputs[0].splitlines() if "more than 12 months ago" in line]
    assert stale, "a build years after the reviews does not say they are stale:\n" + outputs[0]
    assert all(re.match(r"content/(articles|exercises)/[\w-]+\.md:\d+: warning: ", line) for line in stale)
    assert "more than 12 months ago" in outputs[1], "push does not say the reviews are stale"


REVIEWED = "2026-11-10"  # the day the repo's sample content says it was reviewed
THIRTEEN_MONTHS_LATER = datetime(2027, 12, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def stale_project(make_project, time_machine):
    root = make_project(with_repo_content=True)
    assert f"last_reviewed: {REVIEWED}" in (root / "content" / "exercises" / "heel-slides.md").read_text()
    time_machine.move_to(THIRTEEN_MONTHS_LATER, tick=False)
    return root


def run(root: Path, *args: str):
    return CliRunner().invoke(main, [*args, "--root", str(root)])


def test_a_stale_review_is_a_warning_in_check_that_does_not_fail_it(stale_project):
    result = run(stale_project, "check", "--week", "2026-W48")
    assert (
        "content/exercises/heel-slides.md:11: warning: exercise card 'Heel "
        "slides' was last reviewed on 2026-11-10, more than 12 months ago" in result.output
    )
    assert result.exit_code == 0


def test_build_names_each_stale_review_in_the_weeks_email_and_still_builds(stale_project):
    result = run(stale_project, "build", "--week", "2026-W48")
    assert result.exit_code == 0
    assert (
        "content/exercises/heel-slides.md:11: warning: exercise card 'Heel slides' was last reviewed" in result.output
    )
    assert (
        "content/articles/why-your-glutes-grip.md:8: warning: this article's exercise ('The hip extension')"
        in result.output
    )
    assert result.output.count("heel-slides.md:11") == 1, "one line per file, not one per stage version"
    assert re.search(r"Built in .*, \d+ warnings\.", result.output)


def test_push_and_its_plan_name_each_stale_review(stale_project):
    planned = run(stale_project, "push", "--week", "2026-W48", "--plan")
    pushed = run(stale_project, "push", "--week", "2026-W48")
    for result in (planned, pushed):
        assert result.exit_code == 0, result.output
        assert (
            "heel-slides.md:11: warning: exercise card 'Heel slides' was last reviewed on 2026-11-10" in result.output
        )
    assert (stale_project / "outbox" / "2026-W48").is_dir()


def test_a_fresh_review_says_nothing(make_project, time_machine):
    root = make_project(with_repo_content=True)
    time_machine.move_to(datetime(2026, 11, 26, 9, 0, tzinfo=UTC), tick=False)  # two weeks after the review
    result = run(root, "build", "--week", "2026-W48")
    assert result.exit_code == 0
    assert "reviewed" not in result.output

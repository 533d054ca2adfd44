"""`newsletter init DIR`: a new project that builds, checks and pushes at once, with every setting
explained, and nothing overwritten."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import tomllib

import pytest
from click.testing import CliRunner
from helpers import REPO

from pipeline.authoring.check.runner import check_project
from pipeline.authoring.starter_project import init_project
from pipeline.cli.main import main
from pipeline.core.clock import today
from pipeline.core.config import SECTIONS, load_config
from pipeline.core.errors import PipelineError


def newsletter(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_init_writes_the_settings_one_article_one_card_and_a_gitignore(tmp_path):
    init_project(tmp_path / "news")
    files = sorted(p.relative_to(tmp_path / "news").as_posix() for p in (tmp_path / "news").rglob("*") if p.is_file())
    assert files == [
        ".gitignore",
        "content/articles/start-here.md",
        "content/exercises/seated-pelvic-floor-lift.md",
        "newsletter.toml",
    ]


def test_every_setting_is_in_the_new_newsletter_toml_with_a_comment_above_it(tmp_path):
    init_project(tmp_path, title="Bump & Beyond")
    text = (tmp_path / "newsletter.toml").read_text(encoding="utf-8")
    sections = dict(re.findall(r"^\[(\w+)\]\n(.*?)(?=^\[|\Z)", text, re.MULTILINE | re.DOTALL))
    assert sorted(sections) == sorted(SECTIONS)
    for section, cls in SECTIONS.items():
        lines = sections[section].splitlines()
        for key in (field.name for field in dataclasses.fields(cls) if field.name != "options"):
            (number,) = [i for i, line in enumerate(lines) if re.match(rf"(# )?{key} = ", line)]
            assert number > 0 and lines[number - 1].startswith("# "), f"[{section}] {key} has no comment above it"
    config = load_config(tmp_path)
    assert (config.site.title, config.email.sender_name, config.provider.name) == (
        "Bump & Beyond",
        "Bump & Beyond",
        "outbox",
    )


def test_the_sample_article_is_this_weeks_issue_and_check_finds_nothing(tmp_path):
    init_project(tmp_path)
    report = check_project(tmp_path, None)
    assert report.findings == [] and report.email_checked
    assert f"date: {today('UTC').isoformat()}" in (tmp_path / "content/articles/start-here.md").read_text()


def test_build_and_push_work_in_a_new_project_at_once(tmp_path):
    assert newsletter("init", "news", "--title", "First Steps", cwd=tmp_path).returncode == 0
    project = tmp_path / "news"
    built = newsletter("build", cwd=project)
    assert built.returncode == 0, built.stderr
    assert "First Steps" in (project / "dist/site/index.html").read_text(encoding="utf-8")
    pushed = newsletter("push", cwd=project)
    assert pushed.returncode == 0, pushed.stderr
    (campaign,) = (project / "outbox").glob("*/campaign.json")
    assert "Start here" in campaign.read_text(encoding="utf-8")
    assert not (project / "templates").exists()  # the packaged templates were enough


def test_init_refuses_a_folder_that_is_a_project_already_and_writes_nothing(tmp_path):
    (tmp_path / "newsletter.toml").write_text("[site]\n", encoding="utf-8")
    with pytest.raises(PipelineError, match=r"newsletter.toml already exists"):
        init_project(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["newsletter.toml"]


def test_init_refuses_a_folder_with_content_of_its_own(tmp_path):
    (tmp_path / "content/articles").mkdir(parents=True)
    (tmp_path / "content/articles/mine.md").write_text("mine", encoding="utf-8")
    with pytest.raises(PipelineError, match=r"content already holds files"):
        init_project(tmp_path)
    assert not (tmp_path / "newsletter.toml").exists()


def test_the_command_reports_a_refusal_without_a_traceback(tmp_path):
    (tmp_path / "newsletter.toml").write_text("", encoding="utf-8")
    result = CliRunner().invoke(main, ["init", str(tmp_path)])
    assert result.exit_code == 2
    assert "already exists" in result.output and "Traceback" not in result.output


def test_version_names_the_installed_version():
    result = CliRunner().invoke(main, ["--version"], prog_name="newsletter")
    assert result.exit_code == 0
    assert re.fullmatch(r"newsletter, version \d+\.\d+\.\d+\S*\n", result.output)
    assert tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"] in result.output

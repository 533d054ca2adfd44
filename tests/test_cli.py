"""End to end: the `newsletter` command run as the writer runs it, in a temporary copy of the repo."""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import days_ahead, override_template

PINNED_EPOCH = "1795680000"  # 2026-11-26T08:00:00Z


def newsletter(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SOURCE_DATE_EPOCH": PINNED_EPOCH}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args, "--root", str(root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def project(make_project):
    return make_project(with_repo_content=True)


def tree_snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_build_writes_the_blog_and_the_weeks_email(project):
    result = newsletter(project, "build", "--week", "2026-W48")
    assert result.returncode == 0, result.stderr
    site = project / "dist" / "site"
    for page in ("index.html", "feed.xml", "sitemap.xml", "404.html", "exercises/index.html", "tags/index.html"):
        assert (site / page).is_file(), page
    week = (
        project / "dist" / "email" / "2026-W48"
    )  # a week with stage content: the general version, and one folder per stage
    stages = {"pregnant", "postpartum-0-6w", "postpartum-6w-plus"}
    assert {p.name for p in week.iterdir()} == {"index.html", "email.txt", "email.eml"} | stages
    for stage in stages:
        assert {p.name for p in (week / stage).iterdir()} == {"index.html", "email.txt", "email.eml"}
    assert "Email 2026-W48 [general]" in result.stdout and "Email 2026-W48 [pregnant]" in result.stdout


def test_built_eml_parses_back_as_multipart_alternative(project):
    assert newsletter(project, "build", "--week", "2026-W48").returncode == 0
    raw = (project / "dist" / "email" / "2026-W48" / "email.eml").read_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]


def test_latest_week_builds_the_newest_week_with_content(project):
    result = newsletter(project, "build", "--week", "latest")
    assert result.returncode == 0, result.stderr
    assert (project / "dist" / "email" / "2026-W48" / "email.eml").is_file()


def test_build_warns_once_about_a_key_it_does_not_know(project):
    for name in ("old-a", "old-b"):
        front = f"---\ntitle: {name}\ndate: 2026-11-01 09:15:00 +0100\ndescription: From Hugo.\ncategories: [x]\n---\n"
        (project / "content" / "articles" / f"{name}.markdown").write_text(front + "\nText.\n")
    result = newsletter(project, "build", "--week", "2026-W48")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("unknown key 'categories' ignored (and in 1 more file)") == 1
    assert "content/articles/old-a.markdown:5: warning:" in result.stdout
    assert (project / "dist" / "site" / "articles" / "old-b" / "index.html").is_file()


def test_a_week_without_articles_builds_the_blog_and_says_so(project):
    result = newsletter(project, "build", "--week", "2026-W02")
    assert result.returncode == 0, result.stderr
    assert "No email this week (2026-W02)" in result.stdout
    assert (project / "dist" / "site" / "index.html").is_file()
    assert not (project / "dist" / "email" / "2026-W02").exists()


def test_a_bad_week_is_refused_with_exit_code_2(project):
    result = newsletter(project, "build", "--week", "48")
    assert result.returncode == 2
    assert "2026-W48" in result.stderr  # the message shows the expected form


def test_bad_content_fails_with_file_line_and_leaves_dist_as_it_was(project):
    assert newsletter(project, "build", "--week", "2026-W48").returncode == 0
    before = tree_snapshot(project / "dist")
    broken = project / "content" / "articles" / "broken.md"
    broken.write_text("---\ntitle: Broken\ndate: 2026-13-40\nsummary: x\n---\nBody\n", encoding="utf-8")

    result = newsletter(project, "build", "--week", "2026-W48")

    assert result.returncode == 2
    assert result.stderr.startswith("content/articles/broken.md:3: ")
    assert tree_snapshot(project / "dist") == before


BROKEN_ARTICLES = {  # issue 2, section 7: each mistake -> (the line it is reported at, what the message says)
    "malformed YAML": ("---\ntitle: Broken\ndate: 2026-11-24\nsummary: [unclosed\n---\nBody\n", 4, "invalid YAML"),
    "missing required field": (
        "---\ntitle: Broken\ndate: 2026-11-24\n---\nBody\n",
        1,
        "missing required key 'summary'",
    ),
    "bad date": ("---\ntitle: Broken\ndate: 24/11/2026\nsummary: S.\n---\nBody\n", 3, "date"),
    "unknown exercise ref": (
        "---\ntitle: Broken\ndate: 2026-11-24\nsummary: S.\n---\nBody\n\n```exercise\nref: side-lying-clamm\n```\n",
        8,
        "did you mean 'side-lying-clam'",
    ),
    "exercise heading with no name": (
        "---\ntitle: Broken\ndate: 2026-11-24\nsummary: S.\n---\n\n## Exercise -\n\nText.\n",
        7,
        "has no name",
    ),
    "empty tips section": (
        "---\ntitle: Broken\ndate: 2026-11-24\nsummary: S.\n---\n\n## Exercise - "
        "the squat\n\n### Tips\n\n### Safety\n\nGo gently.\n",
        9,
        "tips section '### Tips' is empty",
    ),
}


@pytest.mark.parametrize("text, line, message", BROKEN_ARTICLES.values(), ids=BROKEN_ARTICLES.keys())
def test_each_bad_input_is_one_file_line_error_exit_2_and_dist_untouched(project, text, line, message):
    previous = project / "dist" / "site" / "index.html"
    previous.parent.mkdir(parents=True)
    previous.write_text("the last good build", encoding="utf-8")
    (project / "content" / "articles" / "broken.md").write_text(text, encoding="utf-8")

    result = newsletter(project, "build", "--week", "2026-W48")

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr  # exactly one line
    assert result.stderr.startswith(f"content/articles/broken.md:{line}: ")
    assert message in result.stderr
    assert tree_snapshot(project / "dist") == {"site/index.html": b"the last good build"}


def test_a_template_error_names_the_template_and_leaves_dist_as_it_was(project):
    assert newsletter(project, "build", "--week", "2026-W48").returncode == 0
    before = tree_snapshot(project / "dist")
    template = override_template(project, "email/issue.mjml.j2")
    template.write_text(template.read_text(encoding="utf-8") + "\n{% if %}\n", encoding="utf-8")

    result = newsletter(project, "build", "--week", "2026-W48")

    assert result.returncode == 2
    assert f"templates/email/{template.name}:" in result.stderr
    assert tree_snapshot(project / "dist") == before


def test_push_to_the_outbox_once_then_does_nothing(project):
    first = newsletter(project, "push", "--week", "2026-W48")
    assert first.returncode == 0, first.stderr
    for version in ("pregnant", "postpartum-0-6w", "postpartum-6w-plus", "general"):  # the real week has stage content
        outbox = project / "outbox" / "2026-W48" / version
        assert (outbox / "email.eml").is_file()
        campaign = json.loads((outbox / "campaign.json").read_text(encoding="utf-8"))
        assert campaign["subject"] and campaign["html"] and campaign["text"] and campaign["content_hash"]
        assert campaign["stage"] == version

    second = newsletter(project, "push", "--week", "2026-W48")
    assert second.returncode == 0, second.stderr
    assert second.stdout.count("already pushed") == 4


def test_pushing_a_changed_issue_is_refused_unless_forced(project):
    assert newsletter(project, "push", "--week", "2026-W48").returncode == 0
    article = next(
        p for p in (project / "content" / "articles").glob("*.md") if "2026-11-2" in p.read_text(encoding="utf-8")
    )
    article.write_text(article.read_text(encoding="utf-8") + "\nOne more sentence for this week.\n", encoding="utf-8")

    refused = newsletter(project, "push", "--week", "2026-W48")
    assert refused.returncode == 1
    assert "--force" in refused.stderr

    forced = newsletter(project, "push", "--week", "2026-W48", "--force")
    assert forced.returncode == 0, forced.stderr


def test_export_prints_the_model_as_json(project):
    result = newsletter(project, "export")
    assert result.returncode == 0, result.stderr
    model = json.loads(result.stdout)
    assert model["articles"] and model["exercises"]


def test_an_unknown_config_key_is_named(project):
    config = project / "newsletter.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("[site]", '[site]\ntitel = "x"'), encoding="utf-8")
    result = newsletter(project, "build")
    assert result.returncode == 2
    assert "titel" in result.stderr


def test_push_plan_describes_the_push_and_changes_nothing(project):
    result = newsletter(project, "push", "--week", "2026-W48", "--plan", "--schedule", days_ahead(2, 7, 30).isoformat())
    assert result.returncode == 0, result.stderr
    for label in (
        "Provider:     outbox",
        "Subject:",
        "Preview text:",
        "Size:",
        "Audience:",
        "create a new draft",
        "schedule it for",
    ):
        assert label in result.stdout
    assert not (project / "outbox").exists()


def test_send_now_off_a_terminal_needs_yes(project):
    result = newsletter(project, "push", "--week", "2026-W48", "--send-now")
    assert result.returncode == 2
    assert "--yes" in result.stderr
    assert not (project / "outbox").exists()


def send_now_on_a_terminal(root: Path, answer: str) -> tuple[int, str]:
    """`push --send-now` with a terminal as standard input, answering the question with `answer`."""
    import pty

    controller, terminal = pty.openpty()
    env = {**os.environ, "SOURCE_DATE_EPOCH": PINNED_EPOCH}
    with subprocess.Popen(
        [sys.executable, "-m", "pipeline", "push", "--week", "2026-W48", "--send-now", "--root", str(root)],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    ) as process:
        os.close(terminal)
        os.write(controller, answer.encode() + b"\n")
        out, _ = process.communicate(timeout=120)
    os.close(controller)
    return process.returncode, out


@pytest.mark.parametrize("answer, sent", [("n", False), ("y", True)])
def test_send_now_on_a_terminal_asks_first_and_sends_only_on_yes(project, answer, sent):
    code, out = send_now_on_a_terminal(project, answer)
    assert "Audience:" in out and "now? [y/N]" in out
    assert code == (0 if sent else 2), out
    campaigns = list((project / "outbox").glob("2026-W48/*/campaign.json"))
    assert len(campaigns) == (4 if sent else 0)
    assert all(json.loads(path.read_text(encoding="utf-8"))["status"] == "sent" for path in campaigns)


def test_send_now_with_yes_sends_once(project):
    first = newsletter(project, "push", "--week", "2026-W48", "--send-now", "--yes")
    assert first.returncode == 0, first.stderr
    for version in ("pregnant", "postpartum-0-6w", "postpartum-6w-plus", "general"):
        campaign = json.loads((project / "outbox" / "2026-W48" / version / "campaign.json").read_text(encoding="utf-8"))
        assert campaign["status"] == "sent"
    again = newsletter(project, "push", "--week", "2026-W48", "--send-now", "--yes")
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("not sent again") == 4


def test_a_schedule_without_a_time_zone_is_refused(project):
    result = newsletter(project, "push", "--week", "2026-W48", "--schedule", "2026-11-27T07:30")
    assert result.returncode == 2
    assert "time zone" in result.stderr


def test_an_unknown_provider_is_refused(project):
    result = newsletter(project, "push", "--week", "2026-W48", "--provider", "postcarrier")
    assert result.returncode == 2
    assert "unknown provider 'postcarrier'" in result.stderr

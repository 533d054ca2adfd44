"""Exit codes tell the writer whose problem it is (README, "Exit codes and bugs"): 2 content or
config, 3 a server, 70 a bug in newsletter (with where to report it; the traceback only with
--debug), and no secret in any of it."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import pipeline.content.load
from pipeline.cli.main import main
from pipeline.core.errors import BUG_EXIT_CODE, REPORT_BUGS_TO

SECRET = "s3cr3t-value-0123456789abcdef"


@pytest.fixture
def project(make_project):
    return make_project({})


@pytest.fixture
def buggy_loader(monkeypatch):
    """A bug deep in the pipeline whose message happens to hold a secret from the environment."""
    monkeypatch.setenv("NEWSLETTER_SMTP_PASSWORD", SECRET + "\r")

    def broken(config):
        raise ValueError(f"Invalid header value {SECRET!r}")

    monkeypatch.setattr(pipeline.content.load, "load_content", broken)


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_a_bug_exits_70_saying_where_to_report_it_without_a_traceback(project, buggy_loader):
    result = run("export", "--root", str(project))
    assert result.exit_code == BUG_EXIT_CODE
    assert "stopped on a bug in newsletter (ValueError" in result.output
    assert REPORT_BUGS_TO in result.output and "--debug" in result.output
    assert "Traceback" not in result.output
    assert SECRET not in result.output and SECRET[:12] not in result.output


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback_with_secrets_blanked(project, buggy_loader, where):
    args = ["--debug", "export", "--root", str(project)] if where == "before" else ["export", "--debug"]
    if where == "after":
        args += ["--root", str(project)]
    result = run(*args)
    assert result.exit_code == BUG_EXIT_CODE
    assert "Traceback (most recent call last)" in result.output and "in broken" in result.output
    assert SECRET not in result.output and "***" in result.output


def test_content_and_config_errors_exit_2(make_project):
    root = make_project({"newsletter.toml": '[email]\nsender_name = "Ann\\r\\nBcc: everyone@example.com"\n'})
    result = run("build", "--root", str(root))
    assert result.exit_code == 2
    assert "newsletter.toml: [email] sender_name holds a line break" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[email]\nreply_to = "a@example.com\\nBcc: b@example.com"\n', "[email] reply_to holds a line break"),
        ('[email]\nsender_name = "Ann\\r"\n', "[email] sender_name holds a line break"),
        ('[email]\nsender_address = "not an address"\n', "[email] sender_address 'not an address' is not an email"),
        ('[email]\nreply_to = "two@@example.com"\n', "[email] reply_to 'two@@example.com' is not an email"),
        ('[site]\ntitle = "Bell\\u0007"\n', "[site] title holds a control character"),
        (
            '[email]\nunsubscribe_url = "https://example.com/u>, <https://evil.example/"\n',
            "[email] unsubscribe_url 'https://example.com/u>, <https://evil.example/' must be one https://",
        ),
        (
            '[provider]\nname = "smtp"\nhost = "127.0.0.1"\nfrom_name = "Ann\\r\\nBcc: x@example.com"\n',
            "[provider] from_name holds a line break",
        ),
    ],
    ids=["reply-to-lf", "sender-name-cr", "sender-address", "reply-to-address", "title-bell", "unsub-url", "from-name"],
)
def test_a_setting_that_would_break_a_header_is_refused_by_check_and_build(make_project, toml, message):
    root = make_project({"newsletter.toml": toml})
    for command, code in (("check", 1), ("build", 2), ("push", 2)):  # check: a finding, like any other
        result = run(command, "--root", str(root))
        assert result.exit_code == code, (command, result.output)
        assert message in result.output, command
        assert "Traceback" not in result.output


ARTICLE_HEAD = "---\ntitle: A walk\ndate: 2026-11-24\nsummary: Out of the door.\n---\n\n"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (ARTICLE_HEAD + "Breathe \x07 out.\n", "a.md:7: a control character U+0007"),
        (
            ARTICLE_HEAD.replace("A walk", '"A \\x1b walk"') + "Hi.\n",
            "a.md:2: 'title' holds a control character U+001B",
        ),
        (
            ARTICLE_HEAD.replace("Out of the door.", '"Out \\x0c"') + "Hi.\n",
            "a.md:4: 'summary' holds a control character U+000C",
        ),
        (ARTICLE_HEAD.replace("---\n\n", "x: " + "[" * 3000 + "]" * 3000 + "\n---\n\n") + "Hi.\n", "nested more than"),
        (ARTICLE_HEAD + "".join("    " * depth + "- x\n" for depth in range(800)), "nested too deeply to render"),
    ],
    ids=["body-bell", "title-escape", "summary-formfeed", "yaml-3000-deep", "list-800-deep"],
)
def test_hostile_content_is_a_file_line_error_exit_2(make_project, text, where):
    root = make_project({"content/articles/a.md": text})
    result = run("build", "--week", "2026-W48", "--root", str(root))
    assert result.exit_code == 2, result.output
    assert where in result.output
    assert "Traceback" not in result.output and "template" not in result.output

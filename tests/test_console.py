"""What the command prints: plain text off a terminal, colours and progress bars on one, and
--quiet / --verbose."""

from __future__ import annotations

import io
import re
import threading

import pytest
from click.testing import CliRunner

from pipeline.cli.main import main
from pipeline.core.model import Finding
from pipeline.tools.console import NORMAL, QUIET, VERBOSE, Console
from pipeline.tools.progress import MANY_ITEMS, track

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def output_to(stream_class=io.StringIO, verbosity=NORMAL, color=None):
    out, err = stream_class(), stream_class()
    return Console(verbosity=verbosity, color=color, stdout=out, stderr=err), out, err


@pytest.fixture(autouse=True)
def no_colour_settings(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)


# ---------------------------------------------------------------- colours


def test_no_colours_off_a_terminal():
    output, out, _ = output_to(io.StringIO)
    output.finding(Finding("content/articles/a.md", 3, "error", "something is wrong"))
    output.warning("careful")
    assert out.getvalue() == "content/articles/a.md:3: error: something is wrong\nwarning: careful\n"


def test_colours_on_a_terminal():
    output, out, _ = output_to(Terminal)
    output.finding(Finding("content/articles/a.md", 3, "error", "something is wrong"))
    assert ANSI.search(out.getvalue())
    assert ANSI.sub("", out.getvalue()) == "content/articles/a.md:3: error: something is wrong\n"


def test_no_color_turns_colours_off_on_a_terminal(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    output, out, _ = output_to(Terminal)
    output.warning("careful")
    assert out.getvalue() == "warning: careful\n"


def test_long_lines_are_not_wrapped_on_a_terminal():
    output, out, _ = output_to(Terminal)
    line = "content/articles/a.md:3: " + "word " * 60
    output.info(line.strip())
    assert ANSI.sub("", out.getvalue()) == line.strip() + "\n"


def test_text_that_looks_like_markup_is_printed_as_written():
    output, out, _ = output_to(Terminal)
    output.info("tags: [bold] [glutes, pelvic floor] :smile:")
    assert ANSI.sub("", out.getvalue()) == "tags: [bold] [glutes, pelvic floor] :smile:\n"


def test_errors_go_to_stderr():
    output, out, err = output_to(io.StringIO)
    output.error("it broke")
    assert (out.getvalue(), err.getvalue()) == ("", "it broke\n")


# ---------------------------------------------------------------- quiet and verbose


def test_quiet_keeps_warnings_errors_and_findings_only():
    output, out, err = output_to(verbosity=QUIET)
    output.info("Blog: 3 files")
    output.summary("Built in 0.1 s.")
    output.detail("timing")
    output.warning("careful")
    output.finding(Finding("a.md", 1, "warning", "w"))
    output.error("bad")
    assert out.getvalue() == "warning: careful\na.md:1: warning: w\n"
    assert err.getvalue() == "bad\n"


def test_verbose_adds_details():
    output, out, _ = output_to(verbosity=VERBOSE)
    output.info("Blog: 3 files")
    output.detail("Articles: a, b")
    assert out.getvalue() == "Blog: 3 files\nArticles: a, b\n"


def test_details_are_left_out_normally():
    output, out, _ = output_to()
    output.detail("Articles: a, b")
    assert out.getvalue() == ""


# ---------------------------------------------------------------- progress


def test_track_passes_items_through_when_no_command_asked_for_progress():
    items = list(range(MANY_ITEMS * 2))
    assert track(items, "Rendering") is items


def test_a_progress_bar_is_drawn_on_a_terminal_for_many_items():
    output, _, err = output_to(Terminal)
    items = list(range(MANY_ITEMS))
    with output.reporting():
        seen = list(track(items, "Rendering blog pages"))
    assert seen == items
    assert "Rendering blog pages" in ANSI.sub("", err.getvalue())


def test_no_progress_bar_for_a_few_items():
    output, _, err = output_to(Terminal)
    items = list(range(MANY_ITEMS - 1))
    with output.reporting():
        assert track(items, "Rendering blog pages") is items
    assert "Rendering" not in err.getvalue()


@pytest.mark.parametrize(
    "stream_class, verbosity", [(io.StringIO, NORMAL), (Terminal, QUIET)], ids=["off a terminal", "quiet"]
)
def test_no_progress_bar_off_a_terminal_or_when_quiet(stream_class, verbosity):
    output, out, err = output_to(stream_class, verbosity=verbosity)
    items = list(range(MANY_ITEMS * 2))
    with output.reporting():
        assert track(items, "Rendering blog pages") is items
    assert out.getvalue() == err.getvalue() == ""


def test_progress_stays_on_the_thread_that_asked_for_it():
    """The preview builds on a background thread: no bar there, even while a command reports."""
    output, _, _ = output_to(Terminal)
    items = list(range(MANY_ITEMS * 2))
    passed_through = []
    with output.reporting():
        worker = threading.Thread(target=lambda: passed_through.append(track(items, "x") is items))
        worker.start()
        worker.join(timeout=10)
    assert passed_through == [True]


# ---------------------------------------------------------------- the command's options


@pytest.fixture
def project(make_project):
    return make_project(with_repo_content=True)


def build(project, *options: str, after: tuple[str, ...] = ()):
    return CliRunner().invoke(main, [*options, "build", "--root", str(project), "--week", "2026-W48", *after])


def test_build_ends_with_a_summary(project):
    result = build(project)
    lines = result.output.splitlines()
    assert lines[0].startswith("Blog: ") and lines[0].endswith("dist/site/")
    assert any(line.startswith("Email 2026-W48") for line in lines)
    assert re.fullmatch(r"Built in \d+\.\d\d s(, \d+ warnings?)?\.", lines[-1])


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_build_prints_warnings_only(project, where):
    result = build(project, "--quiet") if where == "before" else build(project, after=("--quiet",))
    assert result.exit_code == 0
    # a warning about the build ("warning: ...") or about a file in it ("path:line: warning: ...")
    assert all(re.match(r"(\S+:\d+: )?warning: ", line) for line in result.output.splitlines()), result.output


def test_verbose_build_shows_the_emails_details(project):
    result = build(project, "-v")
    assert "  Preview text: " in result.output
    assert "  Articles: " in result.output


def test_quiet_and_verbose_together_are_refused(project):
    result = build(project, "--quiet", after=("--verbose",))
    assert result.exit_code == 2
    assert "--quiet and --verbose cannot be used together" in result.output


@pytest.mark.parametrize(
    "command", ["", "build", "push", "check", "preview", "new", "new article", "new exercise", "export"]
)
def test_every_command_has_help(command):
    result = CliRunner().invoke(main, [*command.split(), "--help"])
    assert result.exit_code == 0
    assert result.output.startswith("Usage: ")
    description = result.output.split("\n\n")[1]
    assert len(description.strip()) > 20

"""What the `newsletter` command says, and how: plain lines off a terminal, colours and progress
bars on one (rich), less with --quiet and more with --verbose.

Pipeline code never prints. Code that walks many items (blog pages, recipients) wraps the loop
in `track(items, "Rendering blog pages")`; that returns the items untouched unless a command has
turned progress on with `Console.reporting()`, so the build path pays nothing for it. Progress is
held in a ContextVar, so a background thread (the preview's rebuilds) never draws a bar. rich is
imported only when output goes to a terminal: piped or in CI, the command starts faster.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator, Sequence

from pipeline.core.model import Finding
from pipeline.tools.progress import active_tracker

QUIET, NORMAL, VERBOSE = 0, 1, 2


def wants_color(stream) -> bool:
    """Colours on a terminal only; NO_COLOR turns them off and FORCE_COLOR on (no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Console:
    """The command's voice. `verbosity` is QUIET (errors, warnings and findings only), NORMAL or
    VERBOSE. `color=None` decides per stream with `wants_color`; True or False forces it (tests).
    `stdout`/`stderr` default to sys.stdout/sys.stderr as they are when something is printed."""

    def __init__(self, verbosity: int = NORMAL, color: bool | None = None, stdout=None, stderr=None):
        self.verbosity = verbosity
        self.color = color
        self._stdout = stdout
        self._stderr = stderr
        self._consoles: dict[int, object] = {}

    @property
    def quiet(self) -> bool:
        return self.verbosity <= QUIET

    @property
    def verbose(self) -> bool:
        return self.verbosity >= VERBOSE

    # -- lines ------------------------------------------------------------------------------

    def info(self, text: str, style: str = "") -> None:
        """A normal line of output; --quiet leaves it out."""
        if not self.quiet:
            self.print((text, style))

    def detail(self, text: str) -> None:
        """Only with --verbose."""
        if self.verbose:
            self.print((text, "dim"))

    def success(self, text: str) -> None:
        self.info(text, style="green")

    def warning(self, text: str) -> None:
        """Shown even with --quiet: the writer should see it."""
        self.print(("warning", "yellow bold"), (": " + text, ""))

    def error(self, text: str) -> None:
        self.print((text, "red"), err=True)

    def finding(self, finding: Finding) -> None:
        style = "red bold" if finding.severity == "error" else "yellow bold"
        self.print(
            (f"{finding.path}:{finding.line}", "bold"),
            (": ", ""),
            (finding.severity, style),
            (": " + finding.message, ""),
        )

    def summary(self, text: str, ok: bool = True) -> None:
        """The closing line of a command: green when all went well."""
        self.info(text, style="green" if ok else "bold")

    def print(self, *parts: tuple[str, str], err: bool = False) -> None:
        """One line made of (text, rich style) parts; the styles apply on a terminal only."""
        stream = self._stream(err)
        if not self._colored(stream):
            stream.write("".join(text for text, _ in parts) + "\n")
            stream.flush()
            return
        from rich.text import Text

        self._console(stream).print(Text.assemble(*parts), soft_wrap=True)

    def _stream(self, err: bool):
        if err:
            return self._stderr or sys.stderr
        return self._stdout or sys.stdout

    def _colored(self, stream) -> bool:
        return wants_color(stream) if self.color is None else self.color

    def _console(self, stream):
        console = self._consoles.get(id(stream))
        if console is None:
            from rich.console import Console

            colored = self._colored(stream)
            console = Console(
                file=stream, force_terminal=True, no_color=not colored, highlight=False, emoji=False, markup=False
            )
            self._consoles[id(stream)] = console
        return console

    # -- progress ---------------------------------------------------------------------------

    @property
    def shows_progress(self) -> bool:
        stream = self._stream(err=True)
        return not self.quiet and bool(getattr(stream, "isatty", None) and stream.isatty()) and self.color is not False

    @contextlib.contextmanager
    def reporting(self) -> Iterator[None]:
        """Inside this block, `track()` draws progress bars (on stderr) if this output shows them."""
        if not self.shows_progress:
            yield
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self._console(self._stream(err=True)),
            transient=True,
        )

        def tracker(items: Sequence, description: str) -> Iterable:
            return progress.track(items, total=len(items), description=description)

        token = active_tracker.set(tracker)
        try:
            with progress:
                yield
        finally:
            active_tracker.reset(token)


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def seconds(elapsed: float) -> str:
    return f"{elapsed:.2f} s" if elapsed < 10 else f"{elapsed:.0f} s"

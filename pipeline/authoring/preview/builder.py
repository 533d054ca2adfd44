"""The preview's builder: runs the build on request on one thread, one build at a time, and keeps
the last good result and the errors of the last failed one (a Snapshot per finished build).
"""

from __future__ import annotations

import secrets
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pipeline.build.emails import BuildResult
from pipeline.core.clock import now as utc_now
from pipeline.core.config import Config, load_config
from pipeline.core.errors import ContentErrors, PipelineError
from pipeline.tools.console import Console, seconds

RunBuild = Callable[[Config, str], BuildResult]  # (config, week) -> the build's result, as `newsletter build` makes it


# ---------------------------------------------------------------- building


@dataclass(frozen=True)
class Snapshot:
    """What the preview shows: the last good build, and the errors of the last build if it failed."""

    tag: str  # changes with every finished build; the pages reload when it does
    errors: list[str] = field(default_factory=list)  # "file:line: message" lines; empty when the last build worked
    good: BuildResult | None = None  # the last build that worked
    config: Config | None = None  # the config of that build
    finished_at: datetime | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors


class Builder:
    """Runs builds on request on one thread, and tells waiting pages when one has finished."""

    def __init__(self, root: Path, week: str, console: Console, run_build: RunBuild):
        self.root = root
        self.run_build = run_build
        self.week = week
        self.console = console
        self._instance = secrets.token_hex(4)  # a restarted server's pages reload too
        self._count = 0
        self._snapshot = Snapshot(tag=self._next_tag())
        self._changed = threading.Condition()
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="preview-builder", daemon=True)

    def _next_tag(self) -> str:
        self._count += 1
        return f"{self._instance}-{self._count}"

    @property
    def snapshot(self) -> Snapshot:
        with self._changed:
            return self._snapshot

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def rebuild(self) -> Snapshot:
        """Build now, on the calling thread; returns the new snapshot."""
        started = time.perf_counter()
        errors, result, config = [], None, None
        try:
            config = load_config(self.root)
            result = self.run_build(config, self.week)
        except ContentErrors as failure:
            errors = [str(error) for error in failure.errors]
        except PipelineError as failure:
            errors = str(failure).splitlines() or [type(failure).__name__]
        except Exception as failure:  # a bug must not stop the preview: show it, keep serving
            errors = [f"internal error: {type(failure).__name__}: {failure} (details in the terminal)"]
            self.console.error(traceback.format_exc())
        elapsed = time.perf_counter() - started
        with self._changed:
            previous = self._snapshot
            self._snapshot = Snapshot(
                tag=self._next_tag(),
                errors=errors,
                good=result or previous.good,
                config=config if result else previous.config,
                finished_at=utc_now().astimezone(),  # the writer's own clock, for the terminal
                seconds=elapsed,
            )
            self._changed.notify_all()
        self._report(self._snapshot)
        return self._snapshot

    def _report(self, snapshot: Snapshot) -> None:
        clock = snapshot.finished_at.strftime("%H:%M:%S")
        if snapshot.ok:
            count = len(snapshot.good.emails)
            emails = (
                f"{count} versions of the {snapshot.good.week} email"
                if count > 1
                else f"the {snapshot.good.week} email"
            )
            what = f"{emails} and the blog" if count else f"the blog ({snapshot.good.week} has no email)"
            self.console.info(f"{clock} built {what} in {seconds(snapshot.seconds)}", style="green")
        else:
            self.console.error(f"{clock} the build failed; the preview shows the last good version and these errors:")
            for line in snapshot.errors:
                self.console.error(f"  {line}")

    def request(self) -> None:
        """Ask for a build soon; requests during a build cause one more build after it."""
        self._wanted.set()

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            if self._wanted.wait(timeout=0.2) and not self._stopping.is_set():
                self._wanted.clear()
                self.rebuild()

    def wait_for_change(self, seen: str | None, timeout: float) -> Snapshot:
        """The snapshot as soon as its tag differs from `seen`, or after `timeout` seconds."""
        with self._changed:
            self._changed.wait_for(lambda: self._snapshot.tag != seen or self._stopping.is_set(), timeout=timeout)
            return self._snapshot

    def stop(self) -> None:
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

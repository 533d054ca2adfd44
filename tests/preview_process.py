"""Run `newsletter preview` as the writer does, in a subprocess on a free port, for the preview
tests and the browser test. Every wait is bounded; `running_preview` always stops the server."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

START_TIMEOUT = 60
REBUILD_TIMEOUT = 20


@dataclass
class Preview:
    root: Path
    url: str
    process: subprocess.Popen
    lines: list[str] = field(default_factory=list)  # what it printed so far

    @property
    def port(self) -> int:
        return int(self.url.rstrip("/").rsplit(":", 1)[1])

    def get(self, path: str = "/") -> tuple[int, dict, str]:
        try:
            with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=10) as response:
                return response.status, dict(response.headers), response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode("utf-8")

    def status(self) -> dict:
        return json.loads(self.get("/_preview/status")[2])

    def wait_for_build_after(self, tag: str) -> dict:
        """The status once a build newer than `tag` has finished."""
        deadline = time.monotonic() + REBUILD_TIMEOUT
        while time.monotonic() < deadline:
            status = self.status()
            if status["tag"] != tag:
                return status
            time.sleep(0.05)
        pytest.fail(f"no rebuild within {REBUILD_TIMEOUT} s; the preview printed:\n" + "".join(self.lines))


def start_preview(
    root: Path, *args: str, as_background_job: bool = False
) -> tuple[subprocess.Popen, list[str], queue.Queue]:
    """`as_background_job`: started with SIGINT ignored, as `command &` in a script starts it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "preview", "--root", str(root), "--port", "0", *args],
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if as_background_job else None,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1"},  # see stop()
    )
    lines: list[str] = []
    fresh: queue.Queue = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.append(line)
            fresh.put(line)

    threading.Thread(target=read, daemon=True).start()
    return process, lines, fresh


def stop(process: subprocess.Popen) -> int:
    """Ctrl+C, as the writer stops it. A preview still running 15 s later gets SIGABRT, on which
    Python's faulthandler prints where every thread was stuck into the output the test shows."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
    return process.returncode


def url_from(fresh: queue.Queue, lines: list[str], process: subprocess.Popen) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            line = fresh.get(timeout=0.2)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        if line.startswith("Preview: http://127.0.0.1:"):
            return line.split()[1]
    stop(process)
    pytest.fail("the preview did not start; it printed:\n" + "".join(lines))


@contextlib.contextmanager
def running_preview(root: Path, *args: str) -> Iterator[Preview]:
    process, lines, fresh = start_preview(root, *args)
    try:
        yield Preview(root, url_from(fresh, lines, process), process, lines)
    finally:
        if stop(process) != 0:
            print("the preview did not stop on Ctrl+C; it printed:\n" + "".join(lines), file=sys.stderr)

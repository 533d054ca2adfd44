"""The preview's watcher (watchfiles): asks for a build when anything under content/ or templates/,
or newsletter.toml, changes.
"""

from __future__ import annotations

import threading
from pathlib import Path

import watchfiles

from pipeline.core.config import CONFIG_FILE

WATCH_STEP_MS = 30  # how long the files must be quiet before a batch of changes is reported


# ---------------------------------------------------------------- watching


class Watcher:
    """Calls `on_change` when a file changes under content/ or templates/, or newsletter.toml."""

    def __init__(self, root: Path, on_change):
        self.root = root
        self.on_change = on_change
        self._stop = threading.Event()
        folders = [root / name for name in ("content", "templates") if (root / name).is_dir()]
        self._threads = [
            threading.Thread(target=self._watch, args=(folders, True, None), name="preview-watch", daemon=True),
            # The project folder itself, not recursively (dist/ and .venv/ are in it), for newsletter.toml only.
            threading.Thread(
                target=self._watch, args=([root], False, self._is_config), name="preview-watch-config", daemon=True
            ),
        ]
        if not folders:
            self._threads.pop(0)

    def _is_config(self, change, path: str) -> bool:
        return Path(path).name == CONFIG_FILE

    def _watch(self, paths: list[Path], recursive: bool, only) -> None:
        watch_filter = only or watchfiles.DefaultFilter()
        for _changes in watchfiles.watch(
            *paths,
            watch_filter=watch_filter,
            step=WATCH_STEP_MS,
            stop_event=self._stop,
            recursive=recursive,
            raise_interrupt=False,
            rust_timeout=500,
        ):
            self.on_change()

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

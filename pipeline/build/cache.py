"""The build cache in .newsletter/cache/: what the last build read and wrote, so the next build
redoes only what changed.

- A no-change rebuild: when the settings (the code, config, templates, the week) and a stat of
  every content file match the last build's and dist/ still holds exactly what that build
  wrote, nothing is parsed, rendered or written.
- A rebuild after a few article bodies changed (pipeline/build/rebuild.py) reads the last build's
  stat of each content file to know which ones changed, and re-renders only what shows them.
- Parse results: each content file's model, keyed by a hash of its text, in an SQLite file so a
  rebuild reads only the models it needs.
- Blog pages: each page's key is a hash of everything the page shows (see render/blog.py); a page
  whose key did not change keeps the file the previous build wrote: dist/site/ is then updated
  in place (output.write_tree with `previous`), only changed files replaced.

Every key starts from `code_fingerprint()` (our code, Python and the libraries that shape the
output) and a fingerprint of the settings and templates, so new code, a template edit or a
config change invalidates what it could change. A cache that cannot be read is ignored, never
trusted. `newsletter build --no-cache` ignores it, builds everything, and leaves a fresh one.
"""

from __future__ import annotations

import os
import pickle
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.tools.cache_store import (
    RESULTS_FILE,
    TEMPLATES_FOLDER,
    CacheDatabase,
    PageCache,
    ResultStore,
)
from pipeline.tools.files import atomic_write
from pipeline.tools.fingerprint import code_fingerprint, output_manifest

SPARE_FOLDER = "spare-dist"  # under Config.state_dir: dist/ as the build before last left it (tools/files.staged)
STATE_FILE = "state.pickle"  # small: fingerprints, the input and output manifests, page keys, the last result


@dataclass(frozen=True)
class BuildInputs:
    """What a build reads: `settings` is a fingerprint of everything but content/ (code, config,
    templates, provider, week, day); `content` the stat of every file under content/."""

    settings: str
    content: dict[str, tuple[int, int]]


@dataclass
class CacheState:
    code: str = ""  # code_fingerprint() of the build that wrote it
    inputs: BuildInputs | None = None  # what that build read
    outputs: dict[str, tuple[int, int]] = field(default_factory=dict)  # output_manifest() after it
    result: object = None  # its BuildResult, returned again by a no-change rebuild
    pages: dict[str, str] = field(default_factory=dict)  # site file -> page key
    facts: object = None  # what a quick rebuild needs to know about the site (rebuild.SiteFacts)


class BuildCache:
    """`use=False` (--no-cache): read nothing, build everything, and leave a fresh cache for the
    next build."""

    def __init__(self, folder: Path, use: bool = True):
        self.folder = folder
        self.enabled = use
        if not use:
            shutil.rmtree(folder, ignore_errors=True)
        self.state = self._load_state() if use else CacheState()
        self.database = CacheDatabase(folder / RESULTS_FILE)
        self.parsed = ResultStore(self.database, "parsed")
        self.feed_entries = ResultStore(self.database, "feed_entries")  # article path -> its feed entry's HTML

    def unchanged_result(self, inputs: BuildInputs, output_folders: Callable[[object], list[Path]]):
        """The last build's result when its inputs and its outputs (`output_folders(result)`) are
        exactly as that build left them; None otherwise."""
        state = self.state
        if not self.enabled or state.result is None or state.inputs != inputs:
            return None
        return state.result if self.outputs_intact(output_folders(state.result)) else None

    def changed_content(self, inputs: BuildInputs) -> list[str] | None:
        """The content files saved since the last build, when nothing else changed: the same
        settings and the same set of files. None when that cannot be said (no usable record, new
        settings, a file added or removed)."""
        previous = self.state.inputs
        if not self.enabled or self.state.result is None or previous is None or previous.settings != inputs.settings:
            return None
        if previous.content.keys() != inputs.content.keys():
            return None
        return sorted(path for path, stat in inputs.content.items() if previous.content[path] != stat)

    def outputs_intact(self, folders: list[Path]) -> bool:
        """Whether `folders` hold exactly what the last build wrote (nobody edited dist/)."""
        return bool(self.state.outputs) and output_manifest(folders) == self.state.outputs

    def previous_files(self, folder: Path) -> set[str] | None:
        """The files the last build wrote under `folder` (relative paths), or None when unknown."""
        if not self.enabled or not self.state.outputs:
            return None
        prefix = f"{folder}{os.sep}"
        return {path[len(prefix) :].replace(os.sep, "/") for path in self.state.outputs if path.startswith(prefix)}

    def pages(self, site_dir: Path) -> PageCache:
        return PageCache(site_dir, self.state.pages, self.state.outputs)

    def save(
        self,
        inputs: BuildInputs,
        output_folders: list[Path],
        result,
        pages: dict[str, str],
        facts=None,
        outputs: dict[str, tuple[int, int]] | None = None,
    ) -> None:
        """Record this build. `outputs`: the manifest of `output_folders` when the caller knows it
        (a quick rebuild that replaced a few files); else they are scanned."""
        self.state = CacheState(
            code=code_fingerprint(),
            inputs=inputs,
            outputs=outputs if outputs is not None else output_manifest(output_folders),
            result=result,
            pages=pages,
            facts=facts,
        )
        (self.folder / TEMPLATES_FOLDER).mkdir(parents=True, exist_ok=True)
        self.database.save(self.parsed, self.feed_entries)
        self._write(STATE_FILE, self.state)

    def close(self) -> None:
        self.database.close()

    def _load_state(self) -> CacheState:
        state = self._read(STATE_FILE)
        if not isinstance(state, CacheState) or state.code != code_fingerprint():
            return CacheState()
        return state

    def _read(self, name: str):
        try:
            with open(self.folder / name, "rb") as handle:
                return pickle.load(handle)
        except Exception:  # missing, truncated or from another version: start afresh
            return None

    def _write(self, name: str, value) -> None:
        atomic_write(self.folder / name, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

"""The build cache in .newsletter/cache/: what the last build read and wrote, so the next build
redoes only what changed.

- A no-change rebuild: when a stat fingerprint of every input (content/, templates/, the code,
  the settings, the week) matches the last build's and dist/ still holds exactly what that build
  wrote, nothing is parsed, rendered or written.
- Parse results: each content file's model, keyed by a hash of its text.
- Blog pages: each page's key is a hash of everything the page shows (see render/blog.py); a page
  whose key did not change keeps the file the previous build wrote: dist/site/ is then updated
  in place (output.write_tree with `previous`), only changed files replaced.

Every key starts from `code_fingerprint()` (our code, Python and the libraries that shape the
output) and a fingerprint of the settings and templates, so new code, a template edit or a
config change invalidates what it could change. A cache that cannot be read is ignored, never
trusted. `newsletter build --no-cache` ignores it, builds everything, and leaves a fresh one.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import sys
from collections.abc import Callable
from importlib import metadata
from dataclasses import dataclass, field
from pathlib import Path

from .output import atomic_write

CACHE_FOLDER = "cache"  # under Config.state_dir (.newsletter/)
STATE_FILE = "state.pickle"  # small: fingerprints, the output manifest, page keys, the last result
PARSED_FILE = "parsed.pickle"  # large: the parse result of every content file
PACKAGE_DIR = Path(__file__).resolve().parent


def digest(*parts: str | bytes) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(part if isinstance(part, bytes) else part.encode("utf-8", "surrogatepass"))
        hasher.update(b"\x00")
    return hasher.hexdigest()


def tree_digest(folder: Path, suffix: str = "") -> str:
    """A hash of the path and content of every file under `folder` whose name ends with `suffix`
    (templates, the code: small, read in full)."""
    parts: list[str | bytes] = []
    for path in sorted(_files(folder)):
        if path.name.endswith(suffix):
            parts += [path.relative_to(folder).as_posix(), path.read_bytes()]
    return digest(*parts)


_code_fingerprint: str | None = None


OUTPUT_LIBRARIES = ("markdown", "markdown-it-py", "jinja2", "mjml-python", "html2text", "pyyaml", "feedgen", "pillow")


def code_fingerprint() -> str:
    """The pipeline's own code, the Python running it and the libraries that shape the output:
    a new version of any of them may render differently."""
    global _code_fingerprint
    if _code_fingerprint is None:
        versions = [f"{name}={_version(name)}" for name in OUTPUT_LIBRARIES]
        _code_fingerprint = digest(sys.version, *versions, tree_digest(PACKAGE_DIR, suffix=".py"))  # .py: not __pycache__
    return _code_fingerprint


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "absent"


def stat_fingerprint(folders: list[Path], extra: list[str]) -> str:
    """Path, size and modification time of every file under `folders`, plus `extra`: cheap
    enough to take on every build, and it changes whenever a file is saved."""
    stats = output_manifest(folders)
    return digest(*extra, *(f"{path}|{size}|{mtime}" for path, (size, mtime) in sorted(stats.items())))


def output_manifest(folders: list[Path]) -> dict[str, tuple[int, int]]:
    """{file: (size, mtime)} of everything under `folders`: what a build left in dist/."""
    manifest: dict[str, tuple[int, int]] = {}
    pending = [str(folder) for folder in folders]
    while pending:  # os.scandir: tens of thousands of files, no Path objects
        try:
            entries = os.scandir(pending.pop())
        except (FileNotFoundError, NotADirectoryError):
            continue
        with entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                else:
                    stat = entry.stat()
                    manifest[entry.path] = (stat.st_size, stat.st_mtime_ns)
    return manifest


@dataclass
class CacheState:
    code: str = ""  # code_fingerprint() of the build that wrote it
    inputs: str = ""  # stat fingerprint of that build's inputs
    outputs: dict[str, tuple[int, int]] = field(default_factory=dict)  # output_manifest() after it
    result: object = None  # its BuildResult, returned again by a no-change rebuild
    pages: dict[str, str] = field(default_factory=dict)  # site file -> page key


class ParseCache:
    """{content path: (hash of text and parse settings, pickled model)}."""

    def __init__(self, entries: dict[str, tuple[str, bytes]] | None = None):
        self.entries = entries or {}
        self.changed = False

    def get(self, path: str, key: str) -> bytes | None:
        entry = self.entries.get(path)
        return entry[1] if entry and entry[0] == key else None

    def put(self, path: str, key: str, pickled: bytes) -> None:
        self.entries[path] = (key, pickled)
        self.changed = True

    def keep_only(self, paths: set[str]) -> None:
        for path in set(self.entries) - paths:
            del self.entries[path]
            self.changed = True


class PageCache:
    """Blog pages the previous build wrote, reused when their key is the same."""

    def __init__(self, site_dir: Path, previous: dict[str, str], outputs: dict[str, tuple[int, int]]):
        self.site_dir = site_dir
        self.previous = previous
        self.outputs = outputs
        self.keys: dict[str, str] = {}  # this build's keys, saved for the next one

    def reuse(self, file: str, key: str) -> Path | None:
        """The previous build's file for this page if its key is unchanged and the file is still
        as that build wrote it; None means: render it."""
        self.keys[file] = key
        if self.previous.get(file) != key:
            return None
        path = self.site_dir / file
        try:
            stat = path.stat()
        except OSError:
            return None
        return path if self.outputs.get(str(path)) == (stat.st_size, stat.st_mtime_ns) else None


class BuildCache:
    """`use=False` (--no-cache): read nothing, build everything, and leave a fresh cache for the
    next build."""

    def __init__(self, folder: Path, use: bool = True):
        self.folder = folder
        self.enabled = use
        if not use:
            shutil.rmtree(folder, ignore_errors=True)
        self.state = self._load_state() if use else CacheState()
        self._parsed: ParseCache | None = None

    def unchanged_result(self, inputs: str, output_folders: Callable[[object], list[Path]]):
        """The last build's result when its inputs and its outputs (`output_folders(result)`) are
        exactly as that build left them; None otherwise."""
        state = self.state
        if not self.enabled or state.result is None or state.inputs != inputs:
            return None
        return state.result if output_manifest(output_folders(state.result)) == state.outputs else None

    @property
    def parsed(self) -> ParseCache:
        if self._parsed is None:
            stored = self._read(PARSED_FILE) if self.enabled else None
            valid = isinstance(stored, tuple) and len(stored) == 2 and stored[0] == code_fingerprint()
            self._parsed = ParseCache(stored[1] if valid else None)
        return self._parsed

    def previous_files(self, folder: Path) -> set[str] | None:
        """The files the last build wrote under `folder` (relative paths), or None when unknown."""
        if not self.enabled or not self.state.outputs:
            return None
        prefix = f"{folder}{os.sep}"
        return {path[len(prefix):].replace(os.sep, "/") for path in self.state.outputs if path.startswith(prefix)}

    def pages(self, site_dir: Path) -> PageCache:
        return PageCache(site_dir, self.state.pages, self.state.outputs)

    def save(self, inputs: str, output_folders: list[Path], result, pages: PageCache | None) -> None:
        self.state = CacheState(
            code=code_fingerprint(), inputs=inputs, outputs=output_manifest(output_folders), result=result,
            pages=pages.keys if pages else {},
        )
        self.folder.mkdir(parents=True, exist_ok=True)
        if self._parsed is not None and self._parsed.changed:
            self._write(PARSED_FILE, (code_fingerprint(), self._parsed.entries))
        self._write(STATE_FILE, self.state)

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


def _files(folder: Path):
    for directory, subfolders, names in os.walk(folder):
        subfolders.sort()
        for name in names:
            yield Path(directory, name)

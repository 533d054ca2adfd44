"""The build cache in .newsletter/cache/: what the last build read and wrote, so the next build
redoes only what changed.

- A no-change rebuild: when the settings (the code, config, templates, the week) and a stat of
  every content file match the last build's and dist/ still holds exactly what that build
  wrote, nothing is parsed, rendered or written.
- A rebuild after a few article bodies changed (pipeline/rebuild.py) reads the last build's
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

import hashlib
import os
import pickle
import shutil
import sqlite3
import sys
from collections.abc import Callable
from importlib import metadata
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from .output import atomic_write

CACHE_FOLDER = "cache"  # under Config.state_dir (.newsletter/)
STATE_FILE = "state.pickle"  # small: fingerprints, the input and output manifests, page keys, the last result
RESULTS_FILE = "results.sqlite3"  # large: the parse result of every content file, feed entries
PACKAGE_DIR = Path(__file__).resolve().parent


TEMPLATES_FOLDER = "templates"  # under the cache folder: compiled Jinja templates


def template_bytecode_cache(state_dir: Path) -> jinja2.BytecodeCache | None:
    """Compiled templates under .newsletter/cache/templates/, so a build does not compile every
    template again (Jinja checks each against its source). Only once a build has made that
    folder: rendering alone never creates anything."""
    folder = state_dir / CACHE_FOLDER / TEMPLATES_FOLDER
    return jinja2.FileSystemBytecodeCache(str(folder)) if folder.is_dir() else None


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
    """{file: (size, mtime)} of everything under `folders`: what a build read from content/, or
    left in dist/."""
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


def file_stats(paths: list[Path]) -> dict[str, tuple[int, int]]:
    """output_manifest() entries for a few files."""
    stats = {}
    for path in paths:
        stat = os.stat(path)
        stats[str(path)] = (stat.st_size, stat.st_mtime_ns)
    return stats


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


class Results:
    """{name: (key, data)}: what was made from an input (a content file's model, a feed entry),
    with the key of what it was made from. Kept in one table of the cache's SQLite file (None:
    in memory only); reads go to the file as needed, writes wait for `save()`."""

    def __init__(self, database: "CacheDatabase | None" = None, table: str = "parsed"):
        self.database = database
        self.table = table
        self._read: dict[str, tuple[str, bytes] | None] = {}
        self._written: dict[str, tuple[str, bytes]] = {}
        self._removed: set[str] = set()

    @property
    def changed(self) -> bool:
        return bool(self._written or self._removed)

    def get(self, name: str, key: str) -> bytes | None:
        entry = self._entry(name)
        return entry[1] if entry and entry[0] == key else None

    def stored(self, name: str) -> bytes | None:
        """What the cache holds for `name`, whatever it was made from."""
        entry = self._entry(name)
        return entry[1] if entry else None

    def put(self, name: str, key: str, data: bytes) -> None:
        self._written[name] = (key, data)
        self._removed.discard(name)

    def keep_only(self, names: set[str]) -> None:
        self._removed = self._stored_names() - names
        for name in [name for name in self._written if name not in names]:
            del self._written[name]

    def save(self) -> None:
        """Write what changed (in the caller's transaction)."""
        if self.database is None or not self.changed:
            return
        connection = self.database.connection()
        connection.executemany(f"DELETE FROM {self.table} WHERE name = ?", [(name,) for name in sorted(self._removed)])
        connection.executemany(
            f"INSERT OR REPLACE INTO {self.table} (name, key, data) VALUES (?, ?, ?)",
            [(name, key, data) for name, (key, data) in sorted(self._written.items())],
        )
        self._written.clear()
        self._removed.clear()

    def _entry(self, name: str) -> tuple[str, bytes] | None:
        if name in self._written:
            return self._written[name]
        if name in self._removed or self.database is None:
            return None
        if name not in self._read:
            row = self.database.connection().execute(f"SELECT key, data FROM {self.table} WHERE name = ?", (name,)).fetchone()
            self._read[name] = (row[0], row[1]) if row else None
        return self._read[name]

    def _stored_names(self) -> set[str]:
        if self.database is None:
            return set()
        return {row[0] for row in self.database.connection().execute(f"SELECT name FROM {self.table}")}




class CacheDatabase:
    """The SQLite file behind `Results`, opened when first needed. One written by other code
    (another code_fingerprint) is emptied: its pickles may not even load; one that cannot be read
    is started afresh."""

    TABLES = ("parsed", "feed_entries")

    def __init__(self, path: Path):
        self.path = path
        self._connection: sqlite3.Connection | None = None

    def connection(self) -> sqlite3.Connection:
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._connection = self._open()
            except sqlite3.DatabaseError:
                self.path.unlink(missing_ok=True)
                self._connection = self._open()
        return self._connection

    def save(self, *results: Results) -> None:
        if not any(result.changed for result in results):
            return
        with self.connection():  # one transaction
            for result in results:
                result.save()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _open(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path)
        try:
            connection.execute("CREATE TABLE IF NOT EXISTS about (code TEXT NOT NULL)")
            for table in self.TABLES:
                connection.execute(f"CREATE TABLE IF NOT EXISTS {table} (name TEXT PRIMARY KEY, key TEXT NOT NULL, data BLOB NOT NULL)")
            if connection.execute("SELECT code FROM about").fetchall() != [(code_fingerprint(),)]:
                with connection:
                    for table in (*self.TABLES, "about"):
                        connection.execute(f"DELETE FROM {table}")
                    connection.execute("INSERT INTO about (code) VALUES (?)", (code_fingerprint(),))
        except sqlite3.DatabaseError:
            connection.close()
            raise
        return connection


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
        self.database = CacheDatabase(folder / RESULTS_FILE)
        self.parsed = Results(self.database, "parsed")
        self.feed_entries = Results(self.database, "feed_entries")  # article path -> its feed entry's HTML

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
        return {path[len(prefix):].replace(os.sep, "/") for path in self.state.outputs if path.startswith(prefix)}

    def pages(self, site_dir: Path) -> PageCache:
        return PageCache(site_dir, self.state.pages, self.state.outputs)

    def save(self, inputs: BuildInputs, output_folders: list[Path], result, pages: dict[str, str], facts=None,
             outputs: dict[str, tuple[int, int]] | None = None) -> None:
        """Record this build. `outputs`: the manifest of `output_folders` when the caller knows it
        (a quick rebuild that replaced a few files); else they are scanned."""
        self.state = CacheState(
            code=code_fingerprint(), inputs=inputs, outputs=outputs if outputs is not None else output_manifest(output_folders),
            result=result, pages=pages, facts=facts,
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


def _files(folder: Path):
    for directory, subfolders, names in os.walk(folder):
        subfolders.sort()
        for name in names:
            yield Path(directory, name)

"""The stores behind the build cache: parse results and feed entries by text hash (SQLite), page
keys, and compiled Jinja templates.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import jinja2

from pipeline.tools.fingerprint import code_fingerprint

CACHE_FOLDER = "cache"  # under Config.state_dir (.newsletter/)
RESULTS_FILE = "results.sqlite3"  # large: the parse result of every content file, feed entries


TEMPLATES_FOLDER = "templates"  # under the cache folder: compiled Jinja templates


def template_bytecode_cache(state_dir: Path) -> jinja2.BytecodeCache | None:
    """Compiled templates under .newsletter/cache/templates/, so a build does not compile every
    template again (Jinja checks each against its source). Only once a build has made that
    folder: rendering alone never creates anything."""
    folder = state_dir / CACHE_FOLDER / TEMPLATES_FOLDER
    return jinja2.FileSystemBytecodeCache(str(folder)) if folder.is_dir() else None


class ResultStore:
    """{name: (key, data)}: what was made from an input (a content file's model, a feed entry),
    with the key of what it was made from. Kept in one table of the cache's SQLite file (None:
    in memory only); reads go to the file as needed, writes wait for `save()`."""

    def __init__(self, database: CacheDatabase | None = None, table: str = "parsed"):
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
            row = (
                self.database.connection()
                .execute(f"SELECT key, data FROM {self.table} WHERE name = ?", (name,))
                .fetchone()
            )
            self._read[name] = (row[0], row[1]) if row else None
        return self._read[name]

    def _stored_names(self) -> set[str]:
        if self.database is None:
            return set()
        return {row[0] for row in self.database.connection().execute(f"SELECT name FROM {self.table}")}


class CacheDatabase:
    """The SQLite file behind `ResultStore`, opened when first needed. One written by other code
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

    def save(self, *results: ResultStore) -> None:
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
                connection.execute(
                    f"CREATE TABLE IF NOT EXISTS {table} (name TEXT PRIMARY KEY, key TEXT NOT NULL, data BLOB NOT NULL)"
                )
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

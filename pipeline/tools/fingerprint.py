"""Fingerprints: hashes of text, of file trees, of the stat of files, and of the code and the
libraries that shape the output.
"""

from __future__ import annotations

import hashlib
import os
import sys
from importlib import metadata
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # pipeline/: every module of the package


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
        _code_fingerprint = digest(
            sys.version, *versions, tree_digest(PACKAGE_DIR, suffix=".py")
        )  # .py: not __pycache__
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


def _files(folder: Path):
    for directory, subfolders, names in os.walk(folder):
        subfolders.sort()
        for name in names:
            yield Path(directory, name)

"""Atomic writes of a finished build.

`write_tree` builds the whole output in a hidden sibling folder on the same filesystem and swaps
it in only when every file was written, so a failed build leaves the previous output untouched
and a reader sees either the old tree or the new one, never a mix. `OutputSet` collects the
files first and refuses two producers claiming one path (Pelican `Writer._open_w`).

Files of a tree are not fsynced one by one: a build can always be run again, and the swap by
rename already protects against a killed process. `atomic_write` (single state files such as
the outbox's campaign.json) does fsync.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import filecmp
import os
import re
import shutil
import stat
import tempfile
import uuid
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from pipeline.core.errors import PipelineError


class Kept:
    """An output that is the file the last build wrote at its path, left as it is (with
    `write_tree(previous=...)` only): cheaper to say than a Path to that file, for thousands of
    pictures named by their content hash."""

    def __repr__(self) -> str:
        return "KEPT"


KEPT = Kept()
FileData = bytes | Path | Kept
TEMP_MARK = ".tmp-"  # hidden sibling being written: .<name>.tmp-<random>
OLD_MARK = ".old-"  # previous tree on its way out: .<name>.old-<random>
SETTLED_NS = 2_000_000_000  # a file's mtime this much older than a copy of it cannot hide a later write (FAT: 2 s)
_PLAIN_PATH = re.compile(r"[^/\\\x00]+(?:/[^/\\\x00]+)*")


class OutputError(PipelineError):
    """Two outputs for one path, an unsafe path, or a file that could not be written."""


def safe_relative_path(path: str) -> str:
    """The normal form of an output path ('a//b/./c' -> 'a/b/c'); refuses anything that could
    leave the output folder."""
    text = str(path)
    if _PLAIN_PATH.fullmatch(text) and "/./" not in f"/{text}/" and "/../" not in f"/{text}/":
        return text  # already normal (nearly every path: a build checks thousands)
    if not text or "\x00" in text or "\\" in text:
        raise OutputError(f"output path {text!r} is not a plain relative path")
    pure = PurePosixPath(text)
    if pure.is_absolute():
        raise OutputError(f"output path {text!r} is absolute: output paths are relative to the output folder")
    if ".." in pure.parts:
        raise OutputError(f"output path {text!r} contains '..': output paths must stay inside the output folder")
    normal = pure.as_posix()
    if normal in ("", ".") or text.endswith("/"):
        raise OutputError(f"output path {text!r} names a folder, not a file")
    return normal


class OutputSet:
    """The files of one build, by normalised relative path."""

    def __init__(self) -> None:
        self._files: dict[str, FileData] = {}
        self._producers: dict[str, str | None] = {}
        self._folders: dict[str, str] = {}  # folder path -> a file that needs it

    @classmethod
    def of(cls, files: Mapping[str, FileData] | OutputSet, producer: str | None = None) -> OutputSet:
        if isinstance(files, OutputSet):
            return files
        outputs = cls()
        outputs.update(files, producer)
        return outputs

    def add(self, path: str, data: FileData, producer: str | None = None) -> None:
        if not isinstance(data, (bytes, Path, Kept)):
            raise TypeError(f"output {path!r}: expected bytes or a Path to copy, not {type(data).__name__}")
        normal = safe_relative_path(path)
        if normal in self._files:
            raise OutputError(
                f"two outputs claim {normal}: {self._describe(normal)} and {producer or 'another output'}"
            )
        if normal in self._folders:
            raise OutputError(f"{normal} is both a file and the folder of {self._folders[normal]}")
        if normal.rpartition("/")[0] not in self._folders:  # else its folders were checked with a sibling
            for folder in _parent_folders(normal):
                if folder in self._files:
                    raise OutputError(f"{folder} is both a file ({self._describe(folder)}) and the folder of {normal}")
            for folder in _parent_folders(normal):
                self._folders.setdefault(folder, normal)
        self._files[normal] = data
        self._producers[normal] = producer

    def update(self, files: Mapping[str, FileData], producer: str | None = None) -> None:
        for path, data in files.items():
            self.add(path, data, producer)

    def items(self) -> Iterator[tuple[str, FileData]]:
        return iter(self._files.items())

    def __len__(self) -> int:
        return len(self._files)

    def __contains__(self, path: str) -> bool:
        return safe_relative_path(path) in self._files

    def _describe(self, path: str) -> str:
        return self._producers.get(path) or "an earlier output"


def _parent_folders(path: str) -> list[str]:
    """'a/b/c' -> ['a/b', 'a'], for a path in normal form (string work: a build has many files)."""
    parts = path.split("/")
    return ["/".join(parts[:end]) for end in range(len(parts) - 1, 0, -1)]


def write_tree(
    target: Path,
    files: Mapping[str, FileData] | OutputSet,
    previous: Collection[str] | None = None,
    keep_identical: bool = False,
) -> None:
    """Replace the folder `target` with exactly `files`; on any error `target` is left as it was.

    `previous` (from the build cache: the files the last build wrote into `target`) asks for an
    update in place instead of a new tree, for rebuilds where few files changed: stale files are
    removed, each changed file is replaced atomically on its own, and a Path pointing at the very
    file it would replace (an unchanged page) is left alone. The build renders everything before
    calling this, so a failed build still never touches `target`; while it runs, a reader may see
    some files new and some old. `keep_identical` (with `previous`: every file `target` holds, for a
    build that kept no record of it) also leaves alone a file whose bytes are already the new
    ones: reading 11,000 pages costs a fraction of writing them again and deleting the old tree."""
    outputs = OutputSet.of(files)  # every path is checked before anything touches the disk
    target = Path(target).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target.parent):
        _clean_leftovers(target)
        if previous is not None and target.is_dir():
            _update_in_place(target, outputs, previous, keep_identical)
            return
        scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}{TEMP_MARK}", dir=target.parent))
        try:
            os.chmod(scratch, _default_mode(folder=True))
            _write_files(scratch, outputs)
            _swap_in(scratch, target)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise


@contextmanager
def staged(target: Path, spare: Path | None = None) -> Iterator[Path]:
    """A copy of the folder `target` to change, put in place of `target` in one step on success.

    The copy is made of hard links (cheap; every writer here replaces a file by renaming a new
    one over it, never writing into it, so the old tree is never touched through a link). When
    the block ends without error, the copy and `target` are exchanged by one `renameat2`
    (RENAME_EXCHANGE), so a reader of `target` - a web server on dist/, the preview - sees the
    whole old tree or the whole new one, and so does whoever looks after a kill -9 at any point.
    What a killed build left beside `target` is swept by the next one.

    `spare` (a path on the same filesystem, in the build's state folder): where the old tree is
    kept after the exchange instead of being deleted, and taken back as the next build's copy.
    It then differs from `target` only in what the last build changed, so bringing it up to date
    (`_mirror`: a read of both trees, a few links) replaces making 22,000 links and folders and
    deleting as many - on a 10,000-article site, seconds of a one-title rebuild."""
    target = Path(target).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target.parent):
        _sweep_staged(target)
        scratch = target.with_name(f".{target.name}{TEMP_MARK}{uuid.uuid4().hex[:12]}")
        done = False
        try:
            if not (_take_spare(spare, scratch) and _mirrored(target, scratch)):
                _link_copy(target, scratch)
            yield scratch
            if target.exists():
                _exchange(scratch, target)  # scratch now holds the old tree
            else:
                os.rename(scratch, target)
            done = True
        finally:
            if not (done and _keep_spare(scratch, spare)):
                shutil.rmtree(scratch, ignore_errors=True)


def _take_spare(spare: Path | None, scratch: Path) -> bool:
    """The spare tree moved to `scratch`; False (and no spare left) when there is none or it
    cannot be moved there (another filesystem)."""
    if spare is None or not spare.is_dir() or spare.is_symlink():
        return False
    try:
        os.rename(spare, scratch)
        return True
    except OSError:
        shutil.rmtree(spare, ignore_errors=True)
        return False


def _keep_spare(old_tree: Path, spare: Path | None) -> bool:
    if spare is None or not old_tree.is_dir():
        return False
    try:
        spare.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(spare, ignore_errors=True)
        os.rename(old_tree, spare)
        return True
    except OSError:
        return False


def _mirrored(source: Path, copy: Path) -> bool:
    """Make `copy` a tree of hard links to `source`'s files, changing only what differs (a file
    whose inode is not the source's, one the source no longer has); False when that fails (the
    caller then starts `copy` afresh)."""
    try:
        if source.is_dir():
            _mirror(os.fspath(source), os.fspath(copy))
        else:
            for entry in os.scandir(copy):
                _remove_entry(entry)
        return True
    except OSError:
        shutil.rmtree(copy, ignore_errors=True)
        return False


def _mirror(source: str, copy: str) -> None:
    with os.scandir(source) as entries:
        wanted = {entry.name: entry for entry in entries if not _leftover(entry.name)}
    with os.scandir(copy) as entries:
        present = {entry.name: entry for entry in entries}
    for name, entry in present.items():
        want = wanted.get(name)
        folder = entry.is_dir(follow_symlinks=False)
        if (
            want is None
            or folder != want.is_dir(follow_symlinks=False)
            or (not folder and entry.inode() != want.inode())
        ):
            _remove_entry(entry)
            present[name] = None
    for name, want in wanted.items():
        here = os.path.join(copy, name)
        if want.is_dir(follow_symlinks=False):
            if present.get(name) is None:
                os.mkdir(here)
            _mirror(want.path, here)
        elif present.get(name) is None:
            os.link(want.path, here, follow_symlinks=False)


def _remove_entry(entry: os.DirEntry) -> None:
    if entry.is_dir(follow_symlinks=False):
        shutil.rmtree(entry.path)
    else:
        os.unlink(entry.path)


def moved_into(files: Mapping[str, FileData] | OutputSet, target: Path, scratch: Path) -> dict[str, FileData]:
    """`files` to write into the staged `scratch`: a file to copy from `target` (an unchanged
    page) is taken from its hard-linked twin in `scratch`, so it is recognised as unchanged."""
    moved: dict[str, FileData] = {}
    prefix = os.path.join(os.fspath(target), "")  # string work: a build has 11,000 files
    for relative, data in files.items():
        if isinstance(data, Path):
            path = os.fspath(data)
            if path.startswith(prefix):
                data = scratch / path[len(prefix) :]
        moved[relative] = data
    return moved


def _sweep_staged(target: Path) -> None:
    prefix = f".{target.name}{TEMP_MARK}"
    for path in target.parent.iterdir():
        if path.name.startswith(prefix):
            shutil.rmtree(path, ignore_errors=True)


def _link_copy(source: Path, copy: Path) -> None:
    """`copy` as a tree of hard links to `source`'s files, leftovers of killed writes left out."""
    copy.mkdir(mode=_default_mode(folder=True))
    if not source.is_dir():
        return
    pending = [(str(source), str(copy))]
    while pending:  # os.scandir and strings: a site with pictures has thousands of files
        here, there = pending.pop()
        with os.scandir(here) as entries:
            for entry in entries:
                if _leftover(entry.name):
                    continue
                twin = os.path.join(there, entry.name)
                if entry.is_dir(follow_symlinks=False):
                    os.mkdir(twin)
                    pending.append((entry.path, twin))
                else:
                    os.link(entry.path, twin, follow_symlinks=False)


def _leftover(name: str) -> bool:
    return name.startswith(".") and (TEMP_MARK in name or OLD_MARK in name)


RENAME_EXCHANGE = 2  # linux/fs.h
AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> None:
    """Swap two folders in one step (Linux renameat2); elsewhere, two renames close together."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        renameat2 = None
    if renameat2 is not None:
        result = renameat2(AT_FDCWD, os.fsencode(first), AT_FDCWD, os.fsencode(second), RENAME_EXCHANGE)
        if result == 0:
            return
        error = ctypes.get_errno()
        if error not in (errno.ENOSYS, errno.EINVAL):  # EINVAL: the filesystem cannot exchange
            raise OSError(error, os.strerror(error), str(second))
    aside = second.with_name(f".{second.name}{TEMP_MARK}{uuid.uuid4().hex[:12]}")
    os.rename(second, aside)
    os.rename(first, second)
    os.rename(aside, first)


def replace_files(target: Path, files: Mapping[str, bytes]) -> None:
    """Replace a few files of the tree `target` the last build wrote, leaving every other file
    alone (the quick rebuild, pipeline/build/rebuild.py): all are written beside their destinations
    first, then each is renamed into place, so a failed write changes nothing."""
    outputs = OutputSet.of(files)
    target = Path(target).absolute()
    with _locked(target.parent):
        _clean_leftovers(target)
        for temporary, destination in _write_changed_files_aside(target, outputs):
            os.replace(temporary, destination)


def remove_tree(target: Path) -> None:
    """Remove the folder `target` that an earlier build wrote and this one no longer makes: moved
    aside in one rename, then deleted, so a reader never sees it half gone."""
    target = Path(target).absolute()
    if not target.exists():
        return
    with _locked(target.parent):
        old = target.with_name(f".{target.name}{OLD_MARK}{uuid.uuid4().hex[:12]}")
        os.rename(target, old)
        shutil.rmtree(old, ignore_errors=True)


def _write_files(root: Path, outputs: OutputSet) -> None:
    made: set[Path] = set()
    for relative, data in outputs.items():
        destination = root / relative
        if destination.parent not in made:
            destination.parent.mkdir(parents=True, exist_ok=True)
            made.add(destination.parent)
        _write_file(destination, relative, data)


def _write_file(destination: Path, relative: str, data: FileData) -> None:
    if isinstance(data, Kept):
        raise OutputError(f"{relative} is to be kept as the last build wrote it, but that build left no such file")
    try:
        if isinstance(data, Path):
            _copy_stamped(data, destination)
        else:
            destination.write_bytes(data)
    except OSError as exc:
        source = f" from {data}" if isinstance(data, Path) else ""
        raise OutputError(f"could not write {relative}{source}: {exc.strerror or exc}") from exc


def _copy_stamped(source: Path, destination: Path) -> None:
    """Copy a file, and give the copy the original's mtime when that is settled (older than the
    copy's own by SETTLED_NS): then the next build can tell by `stat` alone that the copy is current
    (`_copy_is_current`). A file saved just before the copy may be saved again in the same clock
    tick with the same size (git's "racy" case): its copy keeps its own mtime, so the next build
    copies it again."""
    before = os.stat(source)
    shutil.copyfile(source, destination)
    written = os.stat(destination).st_mtime_ns  # the file system's clock, not this machine's (NFS)
    if before.st_mtime_ns < written - SETTLED_NS:
        os.utime(destination, ns=(before.st_atime_ns, before.st_mtime_ns))


def _copy_is_current(source: Path, destination: str) -> bool:
    """Whether `destination` is a copy of `source` as it is now, by `stat` (like git's index):
    the same size and the same settled mtime, which `_copy_stamped` gives only to a copy whose
    original was not saved again since. A file edited since, even to the same size, has a new mtime."""
    try:
        found, original = os.lstat(destination), os.stat(source)
    except OSError:
        return False
    same = found.st_size == original.st_size and found.st_mtime_ns == original.st_mtime_ns
    return stat.S_ISREG(found.st_mode) and same


def files_in(target: Path) -> set[str]:
    """Every file (and link) under `target`, as relative paths with "/"; empty if it is no folder."""
    found: set[str] = set()
    for folder, folders, names in os.walk(target):
        prefix = os.path.relpath(folder, target).replace(os.sep, "/")
        prefix = "" if prefix == "." else prefix + "/"
        found.update(prefix + name for name in names)
        found.update(prefix + name for name in folders if os.path.islink(os.path.join(folder, name)))
    return found


def _update_in_place(target: Path, outputs: OutputSet, previous: Collection[str], keep_identical: bool) -> None:
    """Two phases, so a write that fails (a full disk) leaves `target` untouched: first every
    changed file is written beside its destination, then stale files go and each new one is
    renamed into place. A build killed during the renames is repaired by the next one (its
    files no longer match the cache's record of them, so they are written again)."""
    written_aside = _write_changed_files_aside(target, outputs, keep_identical, previous)
    wanted = {relative for relative, _ in outputs.items()}
    for relative in sorted(set(previous) - wanted, reverse=True):
        stale = target / relative
        if stale.is_file() or stale.is_symlink():
            stale.unlink()
            _remove_empty_folders(stale.parent, target)
    for temporary, destination in written_aside:
        if destination.is_dir() and not destination.is_symlink():
            shutil.rmtree(destination)  # a folder the last build wrote is now a file
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temporary, destination)


def _write_changed_files_aside(
    target: Path, outputs: OutputSet, keep_identical: bool = False, previous: Collection[str] = ()
) -> list[tuple[Path, Path]]:
    written_aside: list[tuple[Path, Path]] = []
    root = str(target)
    try:
        for relative, data in outputs.items():
            if data is KEPT and relative in previous:
                continue
            where = f"{root}/{relative}"  # a string first: most files are left alone
            if isinstance(data, Path) and (str(data) == where or _copy_is_current(data, where)):
                continue  # an unchanged page the last build wrote, or a copy still current
            destination = Path(where)
            if keep_identical and _holds(destination, data):
                continue
            folder = destination.parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                folder = target  # a file the last build wrote stands where this folder goes
            temporary = folder / f".{destination.name}{TEMP_MARK}{uuid.uuid4().hex[:12]}"
            written_aside.append((temporary, destination))  # listed first: a half-written one is removed too
            _write_file(temporary, relative, data)
    except BaseException:
        for temporary, _ in written_aside:
            temporary.unlink(missing_ok=True)
        raise
    return written_aside


def _holds(path: Path, data: FileData) -> bool:
    """Whether `path` is a regular file (not a link) holding exactly `data` (bytes, or a file's)."""
    try:
        found = os.lstat(path)
        if not stat.S_ISREG(found.st_mode):
            return False
        if isinstance(data, Path):
            return found.st_size == data.stat().st_size and filecmp.cmp(data, path, shallow=False)
        if found.st_size != len(data):
            return False
        with open(path, "rb") as handle:
            return handle.read() == data
    except OSError:
        return False


def _remove_empty_folders(folder: Path, root: Path) -> None:
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:  # not empty (or already gone): its parents are not empty either
            return
        folder = folder.parent


def _swap_in(scratch: Path, target: Path) -> None:
    if not target.exists():
        os.rename(scratch, target)
        return
    old = target.with_name(f".{target.name}{OLD_MARK}{uuid.uuid4().hex[:12]}")
    os.rename(target, old)
    try:
        os.rename(scratch, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _clean_leftovers(target: Path) -> None:
    """Remove what a killed build left beside `target`. If it died between moving the old tree
    away and moving the new one in, the old tree goes back first."""
    temp_prefix, old_prefix = f".{target.name}{TEMP_MARK}", f".{target.name}{OLD_MARK}"
    old_trees = sorted(path for path in target.parent.iterdir() if path.name.startswith(old_prefix))
    if old_trees and not target.exists():
        os.rename(old_trees.pop(), target)
    temp_trees = [path for path in target.parent.iterdir() if path.name.startswith(temp_prefix)]
    for path in old_trees + temp_trees:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def _locked(folder: Path):
    """One build at a time per output folder, so cleaning up leftovers never removes the tree
    another running build is writing."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def atomic_write(path: Path, data: bytes) -> None:
    """Write one file so that readers see the old content or the new, never a part: a temporary
    file in the same folder, fsync, then rename over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o7777 if path.exists() else _default_mode(folder=False)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _default_mode(folder: bool) -> int:
    """What open()/mkdir() would give under the current umask (mkstemp/mkdtemp use 0600/0700,
    which would hide the site from a web server or link checker running as another user)."""
    umask = os.umask(0)
    os.umask(umask)
    return (0o777 if folder else 0o666) & ~umask

"""output.py: a build's files reach the disk all at once or not at all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.core.errors import PipelineError
from pipeline.tools.files import (
    KEPT,
    OutputError,
    OutputSet,
    atomic_write,
    replace_files,
    safe_relative_path,
    staged,
    write_tree,
)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()
    }


def siblings(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.parent.iterdir())


@pytest.fixture
def previous_build(tmp_path) -> Path:
    target = tmp_path / "dist" / "site"
    write_tree(target, {"index.html": b"<h1>old</h1>", "articles/a/index.html": b"old a", "feed.xml": b"<feed/>"})
    return target


class ExplodingPath(type(Path())):
    """A file value whose copy fails half-way through a build with an unexpected error."""

    def __fspath__(self):
        raise RuntimeError("disk on fire")


# Writing a tree.
def test_a_copied_file_is_not_copied_again_until_its_original_is_saved_again(tmp_path):
    original, target = tmp_path / "photo.png", tmp_path / "dist" / "site"
    original.write_bytes(b"x" * 1000)
    then = original.stat().st_mtime_ns - 3600 * 10**9  # saved an hour before the build
    os.utime(original, ns=(then, then))
    write_tree(target, {"photo.png": original})
    inode = (target / "photo.png").stat().st_ino
    write_tree(target, {"photo.png": original}, previous={"photo.png"})
    assert (target / "photo.png").stat().st_ino == inode  # left alone: its stat says it is current
    original.write_bytes(b"y" * 1000)  # saved again, the same size
    write_tree(target, {"photo.png": original}, previous={"photo.png"})
    assert (target / "photo.png").read_bytes() == b"y" * 1000


def test_a_file_copied_just_after_it_was_saved_is_copied_again(tmp_path):
    """Saved again within the same tick of the file system's clock, at the same size, a file's
    stat does not change (git's "racy" case): its copy is trusted only once it was settled."""
    original, target = tmp_path / "photo.png", tmp_path / "dist" / "site"
    original.write_bytes(b"x" * 1000)
    write_tree(target, {"photo.png": original})
    stat = original.stat()
    original.write_bytes(b"y" * 1000)
    os.utime(original, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the same tick: the same stat
    write_tree(target, {"photo.png": original}, previous={"photo.png"})
    assert (target / "photo.png").read_bytes() == b"y" * 1000


def test_a_kept_file_stays_as_the_last_build_wrote_it(previous_build):
    written = {"index.html", "feed.xml", "articles/a/index.html"}
    write_tree(previous_build, {"index.html": b"<h1>new</h1>", "feed.xml": KEPT}, previous=written)
    assert snapshot(previous_build) == {"index.html": b"<h1>new</h1>", "feed.xml": b"<feed/>"}


def test_a_kept_file_the_last_build_did_not_write_is_an_error(tmp_path):
    with pytest.raises(OutputError, match="kept as the last build wrote it"):
        write_tree(tmp_path / "site", {"feed.xml": KEPT})


def test_write_tree_writes_bytes_and_copies_path_values(tmp_path):
    image = tmp_path / "photo.jpg"
    image.write_bytes(b"\xff\xd8jpeg")
    target = tmp_path / "out"

    write_tree(target, {"index.html": b"<p>hi</p>", "images/photo.jpg": image, "a/b/c.txt": b"deep"})

    assert snapshot(target) == {"index.html": b"<p>hi</p>", "images/photo.jpg": b"\xff\xd8jpeg", "a/b/c.txt": b"deep"}


def test_write_tree_replaces_the_whole_previous_tree(previous_build):
    write_tree(previous_build, {"index.html": b"new"})

    assert snapshot(previous_build) == {"index.html": b"new"}
    assert siblings(previous_build) == ["site"]


def test_written_tree_is_readable_by_other_users_under_the_usual_umask(tmp_path):
    old_umask = os.umask(0o022)
    try:
        write_tree(tmp_path / "out", {"a/index.html": b"x"})
    finally:
        os.umask(old_umask)

    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "out" / "a" / "index.html").stat().st_mode & 0o777 == 0o644


# Failure half-way.
def test_missing_source_file_leaves_previous_tree_byte_identical(previous_build, tmp_path):
    before = snapshot(previous_build)
    files = {"index.html": b"new", "images/gone.jpg": tmp_path / "does-not-exist.jpg", "z.html": b"later"}

    with pytest.raises(OutputError, match=r"could not write images/gone\.jpg from .*does-not-exist\.jpg"):
        write_tree(previous_build, files)

    assert snapshot(previous_build) == before
    assert siblings(previous_build) == ["site"]


def test_an_in_place_update_failing_half_way_leaves_the_tree_untouched(previous_build, tmp_path):
    before = snapshot(previous_build)
    files = {"index.html": b"new", "articles/a/index.html": b"new a", "images/gone.jpg": tmp_path / "missing.jpg"}

    with pytest.raises(OutputError, match=r"could not write images/gone\.jpg"):
        write_tree(previous_build, files, previous=set(before))

    assert snapshot(previous_build) == before  # no new file in place, no temp file left


def test_an_in_place_update_replaces_changed_files_and_removes_stale_ones(previous_build):
    write_tree(
        previous_build,
        {"index.html": b"new", "articles/b/index.html": b"b"},
        previous={"index.html", "articles/a/index.html", "feed.xml"},
    )

    assert snapshot(previous_build) == {"index.html": b"new", "articles/b/index.html": b"b"}


def test_unexpected_exception_half_way_leaves_previous_tree_and_no_temp_folder(previous_build):
    before = snapshot(previous_build)
    files = {"index.html": b"new", "articles/a/index.html": b"new a", "broken.jpg": ExplodingPath("x.jpg")}

    with pytest.raises(RuntimeError, match="disk on fire"):
        write_tree(previous_build, files)

    assert snapshot(previous_build) == before
    assert siblings(previous_build) == ["site"]


def test_first_build_failing_leaves_nothing_behind(tmp_path):
    target = tmp_path / "dist" / "site"

    with pytest.raises(OutputError):
        write_tree(target, {"index.html": b"x", "gone.png": tmp_path / "gone.png"})

    assert list(target.parent.iterdir()) == []


# Leftovers of a killed build.
def test_leftover_temp_folders_of_a_killed_build_are_removed_on_the_next_run(previous_build):
    leftover = previous_build.parent / ".site.tmp-abc123"
    (leftover / "articles").mkdir(parents=True)
    (leftover / "articles" / "half.html").write_bytes(b"half")
    unrelated = previous_build.parent / ".email.tmp-keep"  # another target's business
    unrelated.mkdir()

    write_tree(previous_build, {"index.html": b"new"})

    assert siblings(previous_build) == [".email.tmp-keep", "site"]


def test_old_tree_is_restored_when_a_build_died_between_the_two_renames(previous_build):
    before = snapshot(previous_build)
    previous_build.rename(previous_build.parent / ".site.old-0123abcd")

    with pytest.raises(OutputError):
        write_tree(previous_build, {"index.html": b"new", "gone.png": previous_build / "gone.png"})

    assert snapshot(previous_build) == before
    assert siblings(previous_build) == ["site"]


# The collector.
def test_two_outputs_for_one_path_are_refused_naming_both_producers():
    outputs = OutputSet()
    outputs.add("articles/a/index.html", b"one", producer="content/articles/a.md")

    with pytest.raises(
        OutputError,
        match=r"two outputs claim articles/a/index\.html: content/articles/a\.md and content/articles/b\.md",
    ):
        outputs.add("articles/a/index.html", b"two", producer="content/articles/b.md")


def test_paths_are_compared_after_normalising():
    outputs = OutputSet()
    outputs.add("tags/core/index.html", b"one")

    with pytest.raises(OutputError, match="two outputs claim tags/core/index.html"):
        outputs.add("./tags//core/index.html", b"two")


def test_a_file_and_a_folder_of_the_same_name_are_refused():
    outputs = OutputSet()
    outputs.add("feed", b"a file", producer="feed")

    outputs.add("images/a.png", b"png")

    with pytest.raises(OutputError, match=r"feed is both a file \(feed\) and the folder of feed/index\.html"):
        outputs.add("feed/index.html", b"a page")
    with pytest.raises(OutputError, match=r"images is both a file and the folder of images/a\.png"):
        outputs.add("images", b"a file")


def test_write_tree_accepts_a_collected_output_set(tmp_path):
    outputs = OutputSet()
    outputs.update({"index.html": b"home", "about/index.html": b"about"}, producer="pages")

    write_tree(tmp_path / "out", outputs)

    assert snapshot(tmp_path / "out") == {"index.html": b"home", "about/index.html": b"about"}
    assert "about//index.html" in outputs and len(outputs) == 2


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        "../outside.html",
        "articles/../../outside.html",
        "a/..",
        "",
        ".",
        "a/",
        "a\\b",
        "a\x00b",
        "a/../b",
    ],
)
def test_unsafe_paths_are_refused(path):
    with pytest.raises(OutputError):
        safe_relative_path(path)


def test_write_tree_refuses_an_unsafe_path_before_touching_the_disk(previous_build):
    before = snapshot(previous_build)

    with pytest.raises(OutputError, match=r"'\.\./escape\.html' contains '\.\.'"):
        write_tree(previous_build, {"index.html": b"new", "../escape.html": b"x"})

    assert snapshot(previous_build) == before
    assert not (previous_build.parent / "escape.html").exists()


def test_output_errors_are_pipeline_errors_for_the_cli():
    assert issubclass(OutputError, PipelineError)


# Single files.
def test_atomic_write_creates_folders_and_replaces_content(tmp_path):
    path = tmp_path / "outbox" / "2026-W48" / "campaign.json"

    atomic_write(path, b"first")
    atomic_write(path, b"second")

    assert path.read_bytes() == b"second"
    assert sorted(p.name for p in path.parent.iterdir()) == ["campaign.json"]


def test_atomic_write_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    path = tmp_path / "private.json"
    path.write_bytes(b"old")
    path.chmod(0o600)

    atomic_write(path, b"new")

    assert path.stat().st_mode & 0o777 == 0o600


def test_atomic_write_failing_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "campaign.json"
    path.write_bytes(b"old")

    def failing_replace(source, destination):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="No space left"):
        atomic_write(path, b"new")

    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["campaign.json"]


# staged(): a whole folder changed as a hard-linked copy and exchanged in one step (README, "Exit codes and bugs").
def test_a_staged_folder_replaces_the_old_one_whole_and_leaves_nothing_beside_it(tmp_path):
    dist = tmp_path / "dist"
    write_tree(dist / "site", {"a.html": b"old a", "b.html": b"old b"})
    with staged(dist) as scratch:
        replace_files(scratch / "site", {"a.html": b"new a"})
        assert (dist / "site" / "a.html").read_bytes() == b"old a"  # readers still see the old build
    assert (dist / "site" / "a.html").read_bytes() == b"new a" and (dist / "site" / "b.html").read_bytes() == b"old b"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["dist"]


def test_a_staged_change_that_fails_leaves_the_folder_untouched(tmp_path):
    dist = tmp_path / "dist"
    write_tree(dist / "site", {"a.html": b"old a"})
    with pytest.raises(RuntimeError), staged(dist) as scratch:
        replace_files(scratch / "site", {"a.html": b"new a"})
        raise RuntimeError("the build failed half-way")
    assert (dist / "site" / "a.html").read_bytes() == b"old a"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["dist"]


def test_what_a_killed_staged_change_left_is_swept_by_the_next(tmp_path):
    dist = tmp_path / "dist"
    write_tree(dist / "site", {"a.html": b"old a"})
    (tmp_path / ".dist.tmp-0123456789ab" / "site").mkdir(parents=True)  # as kill -9 leaves it
    with staged(dist):
        pass
    assert sorted(path.name for path in tmp_path.iterdir()) == ["dist"]


# A staged copy kept as the next build's spare.
def change_in_stage(target: Path, spare: Path, files: dict[str, bytes], removed: tuple[str, ...] = ()) -> None:
    with staged(target, spare=spare) as scratch:
        for relative, data in files.items():
            (scratch / relative).parent.mkdir(parents=True, exist_ok=True)
            temporary = scratch / f"{relative}.new"
            temporary.write_bytes(data)
            os.replace(temporary, scratch / relative)  # the writers' way: a new file renamed over the link
        for relative in removed:
            (scratch / relative).unlink()


def test_the_old_tree_is_kept_as_the_spare_and_becomes_the_next_copy_mirroring_the_target(tmp_path):
    target, spare = tmp_path / "dist", tmp_path / "state" / "spare"
    write_tree(target, {"index.html": b"one", "articles/a/index.html": b"a", "articles/b/index.html": b"b"})
    change_in_stage(target, spare, {"index.html": b"two", "articles/c/index.html": b"c"}, ("articles/b/index.html",))
    assert snapshot(spare) == {"index.html": b"one", "articles/a/index.html": b"a", "articles/b/index.html": b"b"}
    (spare / "stray.html").write_bytes(b"not in the target")  # whatever the spare holds, the copy mirrors the target
    (spare / "articles" / "c").mkdir()
    (spare / "articles" / "c" / "index.html").write_bytes(b"another inode")

    with staged(target, spare=spare) as scratch:
        assert snapshot(scratch) == snapshot(target)
        assert {p.stat().st_ino for p in scratch.rglob("*") if p.is_file()} == {
            p.stat().st_ino for p in target.rglob("*") if p.is_file()
        }
    assert snapshot(target) == {"index.html": b"two", "articles/a/index.html": b"a", "articles/c/index.html": b"c"}
    assert siblings(target) == ["dist", "state"]


def test_a_failed_stage_leaves_the_target_and_no_spare(tmp_path):
    target, spare = tmp_path / "dist", tmp_path / "state" / "spare"
    write_tree(target, {"index.html": b"one"})
    change_in_stage(target, spare, {"index.html": b"two"})
    with pytest.raises(RuntimeError), staged(target, spare=spare) as scratch:
        (scratch / "index.html").unlink()
        raise RuntimeError("render failed")
    assert snapshot(target) == {"index.html": b"two"}
    assert not spare.exists() and siblings(target) == ["dist", "state"]

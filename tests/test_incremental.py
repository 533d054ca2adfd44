"""Incremental builds: a rebuild after a change writes exactly what a cold build would, byte for
byte, and renders only the pages that show what changed (pipeline/cache.py)."""
from __future__ import annotations

import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pipeline import parallel
from pipeline.build import build
from pipeline.config import load_config

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=timezone.utc)
WEEK = "2026-W48"
EDITED = "content/articles/the-first-weeks-after-birth.md"
EDITED_PAGE = "site/articles/the-first-weeks-after-birth/index.html"
FILLER_COUNT = 24  # older articles on their own topic: pages the edits below must not touch


def filler_article(number: int) -> str:
    return (
        f"---\ntitle: Quiet note {number}\ndate: 2025-{1 + number % 12:02}-{1 + number:02}\n"
        f"summary: A short note, number {number}.\ntags: [archive]\n---\n\n"
        f"Some words for note {number}, with a [link](why-your-glutes-grip.md).\n"
    )


@pytest.fixture
def project(make_project):
    root = make_project(with_repo_content=True)
    for number in range(FILLER_COUNT):
        (root / "content" / "articles" / f"quiet-note-{number:02}.md").write_text(filler_article(number), encoding="utf-8")
    return root


def run_build(root: Path, use_cache: bool = True):
    return build(load_config(root), WEEK, now=NOW, use_cache=use_cache)


def dist_snapshot(root: Path) -> dict[str, bytes]:
    dist = root / "dist"
    return {path.relative_to(dist).as_posix(): path.read_bytes() for path in sorted(dist.rglob("*")) if path.is_file()}


def inodes(root: Path) -> dict[str, int]:
    dist = root / "dist"
    return {path.relative_to(dist).as_posix(): path.stat().st_ino for path in dist.rglob("*") if path.is_file()}


def cold_build_of(root: Path, tmp_path: Path) -> dict[str, bytes]:
    """The same project built from nothing with --no-cache, in a copy."""
    copy = tmp_path / "cold"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("dist", ".newsletter"))
    run_build(copy, use_cache=False)
    return dist_snapshot(copy)


def edit(root: Path, relative: str, old: str, new: str) -> None:
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {relative}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def rewritten(before: dict[str, int], after: dict[str, int]) -> set[str]:
    """Files of the new build that are not the previous build's file (left in place) - written again."""
    return {path for path, inode in after.items() if before.get(path) != inode}


def test_a_rebuild_with_no_change_renders_nothing_and_leaves_dist_as_it_was(project, monkeypatch):
    first = run_build(project)
    before, files = inodes(project), dist_snapshot(project)
    monkeypatch.setattr("pipeline.build.render_site", lambda *args, **kwargs: pytest.fail("a no-change rebuild rendered the blog"))
    again = run_build(project)
    assert inodes(project) == before and dist_snapshot(project) == files
    assert (again.week, again.site_files, again.email.email.subject) == (first.week, first.site_files, first.email.email.subject)


def test_a_deleted_output_file_is_written_again(project):
    run_build(project)
    (project / "dist" / EDITED_PAGE).unlink()
    run_build(project)
    assert (project / "dist" / EDITED_PAGE).is_file()


def test_a_changed_body_rebuilds_only_the_pages_that_show_it_byte_identical_to_a_cold_build(project, tmp_path):
    run_build(project)
    before = inodes(project)
    edit(project, EDITED, "The first weeks with a new baby", "The very first weeks with a new baby")
    run_build(project)
    snapshot = dist_snapshot(project)
    assert snapshot == cold_build_of(project, tmp_path)
    pages = {path for path in rewritten(before, inodes(project)) if path.startswith("site/") and path.endswith(".html")}
    showing_it = {path for path, data in snapshot.items() if b"articles/the-first-weeks-after-birth/" in data}
    assert EDITED_PAGE in pages
    assert pages <= showing_it | {"site/tags/index.html"}, pages - showing_it  # the topic index counts it
    assert not any("quiet-note" in path for path in pages)


@pytest.mark.parametrize(
    "old, new",
    [
        ("title: The first weeks after birth, and getting back to walking", "title: Your first weeks after birth"),
        ("date: 2026-11-18", "date: 2026-11-25"),
        ("tags: [postpartum, walking, recovery]", "tags: [postpartum, archive]"),
    ],
    ids=["title", "date", "tags"],
)
def test_a_changed_title_date_or_tags_rebuild_is_byte_identical_to_a_cold_build(project, tmp_path, old, new):
    run_build(project)
    edit(project, EDITED, old, new)
    run_build(project)
    assert dist_snapshot(project) == cold_build_of(project, tmp_path)


def test_a_template_change_reaches_every_page(project, tmp_path):
    run_build(project)
    template = project / "templates" / "site" / "base.html.j2"
    template.write_text(template.read_text(encoding="utf-8").replace("</footer>", "<p>Printed with care</p>\n</footer>", 1), encoding="utf-8")
    run_build(project)
    snapshot = dist_snapshot(project)
    assert snapshot == cold_build_of(project, tmp_path)
    assert b"Printed with care" in snapshot["site/articles/quiet-note-03/index.html"]


def test_a_config_change_reaches_every_page(project, tmp_path):
    run_build(project)
    edit(project, "newsletter.toml", re.search(r'title = "[^"]*"', (project / "newsletter.toml").read_text()).group(), 'title = "Strong Again"')
    run_build(project)
    snapshot = dist_snapshot(project)
    assert snapshot == cold_build_of(project, tmp_path)
    assert b"Strong Again" in snapshot["site/articles/quiet-note-03/index.html"]


def test_a_changed_exercise_card_reaches_the_articles_that_use_it(project, tmp_path):
    run_build(project)
    card = next((project / "content" / "exercises").glob("*.md"))
    card.write_text(card.read_text(encoding="utf-8") + "\nOne more sentence for this card.\n", encoding="utf-8")
    run_build(project)
    assert dist_snapshot(project) == cold_build_of(project, tmp_path)


def test_an_article_with_an_error_leaves_dist_and_the_cache_usable(project, tmp_path):
    run_build(project)
    files = dist_snapshot(project)
    edit(project, EDITED, "date: 2026-11-18", "date: 2026-13-45")
    with pytest.raises(Exception, match="not a real date"):
        run_build(project)
    assert dist_snapshot(project) == files
    edit(project, EDITED, "date: 2026-13-45", "date: 2026-11-19")
    run_build(project)
    assert dist_snapshot(project) == cold_build_of(project, tmp_path)


def test_a_build_on_every_core_writes_the_same_bytes_as_one_in_one_process(project, tmp_path, monkeypatch):
    run_build(project, use_cache=False)
    monkeypatch.setattr(parallel, "MIN_ITEMS", 4)  # small enough that this project uses the pool
    assert cold_build_of(project, tmp_path) == dist_snapshot(project)


def test_a_deleted_article_disappears_from_dist_as_in_a_cold_build(project, tmp_path):
    run_build(project)
    (project / "content" / "articles" / "quiet-note-05.md").unlink()
    run_build(project)
    assert not (project / "dist" / "site" / "articles" / "quiet-note-05").exists()
    assert dist_snapshot(project) == cold_build_of(project, tmp_path)


def test_no_cache_rebuilds_every_page(project):
    run_build(project)
    before = inodes(project)
    run_build(project, use_cache=False)
    assert not any(before.get(path) == inode for path, inode in inodes(project).items())

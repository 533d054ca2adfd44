"""Incremental builds: a rebuild after a change writes exactly what a cold build would, byte for
byte, and renders only the pages that show what changed (pipeline/build/cache.py)."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import build_project, override_template

from pipeline.core.config import load_config
from pipeline.core.errors import ContentError
from pipeline.tools import parallel

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
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
        (root / "content" / "articles" / f"quiet-note-{number:02}.md").write_text(
            filler_article(number), encoding="utf-8"
        )
    return root


def run_build(root: Path, use_cache: bool = True):
    return build_project(load_config(root), WEEK, now=NOW, use_cache=use_cache)


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


def rebuilt_as_cold(root: Path, tmp_path: Path) -> dict[str, bytes]:
    """Rebuild `root`, check dist/ is what a cold build of the same project writes, return it."""
    run_build(root)
    snapshot = dist_snapshot(root)
    assert snapshot == cold_build_of(root, tmp_path)
    return snapshot


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
    monkeypatch.setattr(
        "pipeline.render.blog.render_site", lambda *args, **kwargs: pytest.fail("a no-change rebuild rendered the blog")
    )
    again = run_build(project)
    assert inodes(project) == before and dist_snapshot(project) == files
    assert (again.week, again.site_files, again.email.email.subject) == (
        first.week,
        first.site_files,
        first.email.email.subject,
    )


def test_a_deleted_output_file_is_written_again(project):
    run_build(project)
    (project / "dist" / EDITED_PAGE).unlink()
    run_build(project)
    assert (project / "dist" / EDITED_PAGE).is_file()


def test_a_changed_body_rebuilds_only_the_pages_that_show_it_byte_identical_to_a_cold_build(project, tmp_path):
    run_build(project)
    before = inodes(project)
    edit(project, EDITED, "The first weeks with a new baby", "The very first weeks with a new baby")
    snapshot = rebuilt_as_cold(project, tmp_path)
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


def test_edits_in_a_row_each_rebuilt_from_the_last_builds_spare_tree_are_byte_identical_to_cold_builds(
    project, tmp_path
):
    run_build(project)
    edits = [
        ("title: The first weeks after birth, and getting back to walking", "title: Your first weeks after birth"),
        ("summary: ", "summary: Edited. "),
        ("tags: [postpartum, walking, recovery]", "tags: [postpartum, archive]"),
        ("date: 2026-11-18", "date: 2026-11-25"),
        ("The first weeks with a new baby", "The very first weeks with a new baby"),
    ]
    for old, new in edits:
        edit(project, EDITED, old, new)
        rebuilt_as_cold(project, tmp_path)
    assert (project / ".newsletter" / "spare-dist" / "site" / "index.html").is_file()


def test_a_week_left_with_nothing_to_send_loses_its_email_folder_as_in_a_cold_build(project, tmp_path):
    run_build(project)
    assert (project / "dist" / "email" / WEEK).is_dir()
    for article in ("content/articles/why-your-glutes-grip.md", "content/articles/breathing-and-your-pelvic-floor.md"):
        edit(project, article, "\n---\n", "\ndraft: true\n---\n")
    rebuilt_as_cold(project, tmp_path)
    assert not (project / "dist" / "email" / WEEK).exists()


def test_a_template_change_reaches_every_page(project, tmp_path):
    run_build(project)
    template = override_template(project, "site/base.html.j2")
    template.write_text(
        template.read_text(encoding="utf-8").replace("</footer>", "<p>Printed with care</p>\n</footer>", 1),
        encoding="utf-8",
    )
    snapshot = rebuilt_as_cold(project, tmp_path)
    assert b"Printed with care" in snapshot["site/articles/quiet-note-03/index.html"]


def test_a_config_change_reaches_every_page(project, tmp_path):
    run_build(project)
    edit(
        project,
        "newsletter.toml",
        re.search(r'title = "[^"]*"', (project / "newsletter.toml").read_text()).group(),
        'title = "Strong Again"',
    )
    snapshot = rebuilt_as_cold(project, tmp_path)
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


def test_no_cache_over_a_site_leaves_what_a_cold_build_writes_and_keeps_files_already_right(project, tmp_path):
    run_build(project)
    site = project / "dist" / "site"
    (site / "index.html").write_bytes(b"changed by hand")
    (site / "articles" / "stray.html").write_bytes(b"not a page of this build")
    before = inodes(project)
    run_build(project, use_cache=False)
    assert dist_snapshot(project) == cold_build_of(project, tmp_path)
    after = inodes(project)
    assert after["site/index.html"] != before["site/index.html"]
    rewritten = {path for path in after if path.startswith("site/") and after[path] != before.get(path)}
    assert rewritten == {"site/index.html"}


# -- the quick rebuild (pipeline/build/rebuild.py): only article bodies changed ----------------------

IN_THE_WEEK = "content/articles/why-your-glutes-grip.md"  # 2026-11-26: in the feed and in the W48 email
IN_THE_FEED_ONLY = EDITED  # 2026-11-18: the week before
IN_NEITHER = "content/articles/quiet-note-00.md"  # the oldest article: past the feed's 20 entries
BODY_EDITS = {
    IN_THE_WEEK: ("producing power instead of holding on.", "producing power, not holding on."),
    IN_THE_FEED_ONLY: ("The first weeks with a new baby", "The very first weeks with a new baby"),
    IN_NEITHER: ("Some words for note 0", "A few words for note 0"),
}


def quick_build(root: Path):
    """A rebuild that fails the test if it loads every article - what the quick rebuild must not do."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            "pipeline.content.load.load_content",
            lambda *args, **kwargs: pytest.fail("the rebuild loaded every article"),
        )
        return run_build(root)


def page_of(relative: str) -> str:
    return f"site/articles/{Path(relative).stem}/index.html"


@pytest.mark.parametrize(
    "article, in_feed, in_email",
    [(IN_THE_WEEK, True, True), (IN_THE_FEED_ONLY, True, False), (IN_NEITHER, False, False)],
    ids=["in the week", "in the feed", "in neither"],
)
def test_a_body_edit_rewrites_only_its_page_the_feed_and_the_email_that_show_it(
    project, tmp_path, article, in_feed, in_email
):
    run_build(project)
    before = inodes(project)
    edit(project, article, *BODY_EDITS[article])
    quick_build(project)
    email_files = {path for path in before if path.startswith(f"email/{WEEK}/")}
    assert email_files
    web_copies = {path for path in before if path.startswith(f"site/issues/{WEEK}/")}  # change with the email
    assert web_copies
    shown_with_email = email_files | web_copies if in_email else set()
    expected = {page_of(article)} | ({"site/feed.xml"} if in_feed else set()) | shown_with_email
    assert rewritten(before, inodes(project)) == expected
    assert dist_snapshot(project) == cold_build_of(project, tmp_path)


NOTE = "content/issues/2026-W48.md"


def test_an_edited_issue_note_rewrites_only_the_email_and_its_web_copies(project, tmp_path):
    run_build(project)
    before = inodes(project)
    edit(project, NOTE, "Hello, and welcome to this week's issue.", "Hello again, and welcome to this week's issue.")
    quick_build(project)
    assert rewritten(before, inodes(project)) == {
        path for path in before if path.startswith((f"email/{WEEK}/", f"site/issues/{WEEK}/"))
    }
    assert dist_snapshot(project) == cold_build_of(project, tmp_path)


def test_an_issue_note_ordering_an_unknown_article_is_reported_at_its_line_and_changes_nothing(project):
    run_build(project)
    files = dist_snapshot(project)
    edit(project, NOTE, "order: [why-your-glutes-grip,", "order: [why-your-glutes-grips,")
    with pytest.raises(Exception, match=r"'order' names an unknown article 'why-your-glutes-grips'") as raised:
        run_build(project)
    assert (raised.value.errors[0].path, raised.value.errors[0].line) == (NOTE, 3)
    assert dist_snapshot(project) == files


def test_the_quick_rebuild_leaves_a_cache_the_next_builds_trust(project, tmp_path):
    run_build(project)
    edit(project, IN_THE_WEEK, *BODY_EDITS[IN_THE_WEEK])
    quick_build(project)
    before = inodes(project)
    quick_build(project)  # nothing changed since: the no-change rebuild
    assert inodes(project) == before
    edit(project, IN_NEITHER, *BODY_EDITS[IN_NEITHER])
    quick_build(project)
    assert dist_snapshot(project) == cold_build_of(project, tmp_path)


def test_a_file_saved_without_a_change_rewrites_nothing(project):
    run_build(project)
    before = inodes(project)
    path = project / IN_THE_WEEK
    path.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    quick_build(project)
    assert inodes(project) == before


def test_a_body_edit_that_uses_another_card_updates_that_cards_page(project, tmp_path):
    run_build(project)
    edit(
        project,
        IN_THE_FEED_ONLY,
        "The first weeks with a new baby",
        "```exercise\nref: side-lying-clam\n```\n\nThe first weeks with a new baby",
    )
    snapshot = rebuilt_as_cold(project, tmp_path)
    assert b"articles/the-first-weeks-after-birth/" in snapshot["site/exercises/side-lying-clam/index.html"]


def test_a_body_edit_with_an_error_is_reported_with_its_line_and_changes_nothing(project, tmp_path):
    run_build(project)
    files = dist_snapshot(project)
    edit(
        project,
        IN_THE_WEEK,
        "producing power instead of holding on.",
        "producing power.\n\n```exercise\nref: no-such-card\n```\n",
    )
    with pytest.raises(Exception, match=r"unknown exercise 'no-such-card'") as raised:
        run_build(project)
    assert (raised.value.errors[0].path, raised.value.errors[0].line) == (
        IN_THE_WEEK,
        _line_of(project / IN_THE_WEEK, "no-such-card") - 1,
    )
    assert dist_snapshot(project) == files
    edit(project, IN_THE_WEEK, "```exercise\nref: no-such-card\n```\n", "")
    run_build(project)
    assert dist_snapshot(project) == cold_build_of(project, tmp_path)


def test_a_video_added_to_an_articles_own_exercise_gets_its_thumbnail_as_in_a_cold_build(project, tmp_path):
    run_build(project)
    video = "### Video\n\nhttps://www.youtube.com/watch?v=dQw4w9WgXcQ\n\n### Safety in pregnancy and with prolapse"
    edit(project, IN_THE_WEEK, "### Safety in pregnancy and with prolapse", video)
    snapshot = rebuilt_as_cold(project, tmp_path)
    assert "site/media/video/why-your-glutes-grip/hip-extension.png" in snapshot


def test_a_body_edit_that_breaks_the_email_changes_nothing_in_dist(project):
    run_build(project)
    files = dist_snapshot(project)
    edit(
        project, IN_THE_WEEK, "## Exercise - The hip extension", "::: only pregnant\n\n## Exercise - The hip extension"
    )
    edit(project, IN_THE_WEEK, "pregnancy: safe", "pregnancy: avoid")
    edit(project, IN_THE_WEEK, "## When the hip extension feels easy", ":::\n\n## When the hip extension feels easy")
    with pytest.raises(ContentError, match="marked pregnancy: avoid but sits in a '::: only pregnant' block"):
        quick_build(project)  # the email fails after the article's page rendered: neither is written
    assert dist_snapshot(project) == files


def test_a_body_edit_after_dist_was_changed_by_hand_restores_dist(project, tmp_path):
    run_build(project)
    (project / "dist" / "site" / "tags" / "index.html").unlink()
    edit(project, IN_NEITHER, *BODY_EDITS[IN_NEITHER])
    run_build(project)
    assert dist_snapshot(project) == cold_build_of(project, tmp_path)


def test_body_edits_to_several_articles_at_once(project, tmp_path):
    run_build(project)
    for article, (old, new) in BODY_EDITS.items():
        edit(project, article, old, new)
    quick_build(project)
    assert dist_snapshot(project) == cold_build_of(project, tmp_path)


def _line_of(path: Path, text: str) -> int:
    return next(number for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)

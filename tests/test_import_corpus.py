"""The issue's bar, on real posts (tests/import_corpus/, sources and licences in its SOURCES.md):
for each tool, `newsletter import` of every site then `newsletter build` imports and builds at
least 95% of the posts with no hand edit, lists every file it did not import with the reason,
and leaves no template tag as text on a page without a `newsletter check` finding.

Prints the figures per tool; repeat with
    .venv/bin/python -m pytest -q -s tests/test_import_corpus.py
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO

from pipeline.authoring.check.runner import check_project
from pipeline.authoring.importers.run import import_archive
from pipeline.content.load import load_content
from pipeline.core.config import load_config

CORPUS = REPO / "tests" / "import_corpus"
TOOLS = ("hugo", "jekyll", "pelican", "zola", "ghost", "substack")
BAR = 0.95
TAG_IN_PAGE = re.compile(r"\{\{[<%].*?[>%]\}\}|\{%-?\s*\w.*?%\}|\{\{-?\s*[\w.]+(?:\(.*?\))?\s*(?:\|[^}]*)?-?\}\}")
PRE_BLOCK = re.compile(r"<pre\b.*?</pre>", re.DOTALL)
ARTICLE_TEXT = re.compile(r"<article\b.*?</article>", re.DOTALL)


def newsletter(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args, "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_COLOR": "1"},
    )


@pytest.fixture(scope="module")
def figures():
    table: dict[str, dict] = {}
    yield table
    print("\n\ntool      posts  imported  clean  to look at  not imported  built  other files listed")
    for tool, row in table.items():
        print(
            f"{tool:9} {row['posts']:5}  {row['imported']:8}  {row['clean']:5}  {row['review']:10}  "
            f"{row['not_imported']:12}  {row['built']:5}  {row['other']:18}   "
            f"({row['built'] / row['posts']:.1%} imported and built)"
        )


@pytest.mark.parametrize("tool", TOOLS)
def test_the_real_posts_of_each_tool_import_and_build(tool, make_project, figures):
    root = make_project({})
    results = [
        import_archive(load_config(root), site, tool) for site in sorted((CORPUS / tool).iterdir()) if site.is_dir()
    ]
    outcomes = [outcome for result in results for outcome in result.outcomes]
    posts = [outcome for outcome in outcomes if outcome.is_post]
    imported = [outcome for outcome in posts if outcome.state in ("imported", "review")]
    assert all(outcome.why for outcome in outcomes if outcome.state == "not-imported")  # nothing skipped silently

    built = newsletter(root, "build", "--week", "latest")
    assert built.returncode == 0, built.stdout + built.stderr
    site = root / "dist" / "site" / "articles"
    pages = {outcome.path: site / Path(outcome.path).stem / "index.html" for outcome in imported}
    drafts = {article.source.path for article in load_content(load_config(root)).articles if article.draft}
    built_pages = [
        path for path, page in pages.items() if page.is_file() or path in drafts
    ]  # a draft: loaded, unpublished
    figures[tool] = {
        "posts": len(posts),
        "imported": len(imported),
        "clean": sum(outcome.state == "imported" for outcome in imported),
        "review": sum(outcome.state == "review" for outcome in imported),
        "not_imported": len(posts) - len(imported),
        "built": len(built_pages),
        "other": sum(not outcome.is_post for outcome in outcomes),
    }
    assert len(built_pages) >= BAR * len(posts)

    flagged = {f.path for f in check_project(root, "latest").findings if f.rule == "content.template-tag"}
    shown = [path for path in built_pages if pages[path].is_file() and _template_tags_shown(pages[path])]
    unflagged = [path for path in shown if path not in flagged]
    assert unflagged == []


def _template_tags_shown(page: Path) -> list[str]:
    """Template tags in the article's text on its page (code blocks show code as written)."""
    article = ARTICLE_TEXT.search(page.read_text(encoding="utf-8"))
    text = html.unescape(PRE_BLOCK.sub("", article.group(0) if article else ""))
    return TAG_IN_PAGE.findall(text)


def test_a_second_import_of_the_corpus_writes_nothing_new(make_project):
    root = make_project({})
    site = CORPUS / "hugo" / "luizdepra__hugo-coder"
    first = import_archive(load_config(root), site, "hugo")
    again = import_archive(load_config(root), site, "hugo")
    assert {o.state for o in again.outcomes if o.is_post} == {"unchanged"}
    assert len(list((root / "content" / "articles").iterdir())) == len(first.having("imported", "review"))


REAL_VIDEOS = [  # (tool, site, the imported article's slug, the videos it shows)
    ("hugo", "luizdepra__hugo-coder", "rich-content", ["youtube.com/watch?v=ZJthWmvUzzc", "vimeo.com/48912912"]),
    ("zola", "getzola__after-dark", "shortcodes-demo", ["youtube.com/watch?v=ym3y13nA3ew"]),
    ("pelican", "dhermes__bossylobster-blog", "tailsk8s", ["youtube.com/watch?v=ws3mlpRUc8E"]),
    (
        "ghost",
        "ManchesterYMCAHarriers__manyharrier.co.uk",
        "david-ashton-a-lifetime-in-athletics-part-3",
        ["youtube.com/watch?v=sJE4nvUX9OE"],
    ),
]


def test_real_posts_with_youtube_and_vimeo_get_our_video_block_on_the_blog(make_project):
    root = make_project({})
    for tool, site, _, _ in REAL_VIDEOS:
        import_archive(load_config(root), CORPUS / tool / site, tool)
    built = newsletter(root, "build", "--week", "latest")
    assert built.returncode == 0, built.stdout + built.stderr
    for _, _, slug, videos in REAL_VIDEOS:
        text = (root / "content" / "articles" / f"{slug}.md").read_text(encoding="utf-8")
        page = (root / "dist" / "site" / "articles" / slug / "index.html").read_text(encoding="utf-8")
        for video in videos:
            assert f"```video\nurl: https://www.{video}" in text or f"```video\nurl: https://{video}" in text
            player = re.search(rf'<a class="video-player__play" href="https://(?:www\.)?{re.escape(video)}[^"]*"', page)
            assert player, (slug, video)
        assert "<iframe" not in page.split("<article", 1)[1]  # the host's player only once pressed
        thumbnails = re.findall(r'src="\.\./\.\./(media/video/[^"]+\.png)"', page)
        assert thumbnails and all((root / "dist" / "site" / path).is_file() for path in thumbnails)

"""Every issue on the web: a page per version of each pushed week (and of the week being built),
an archive index and an Atom feed of issues, a "View in browser" link in every email - and each
page shows what was pushed, as the ledger kept it, not the content edited since."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import feedparser
import pytest

from pipeline.core.model import WebCopy
from pipeline.deliver.ledger import Ledger

PINNED_EPOCH = "1795680000"  # 2026-11-26T08:00:00Z, in the sample week
WEEK = "2026-W48"
BASE = "https://strongfromwithin.example/"
VERSIONS = {None: "", "pregnant": "pregnant/", "postpartum-0-6w": "postpartum-0-6w/"}
GLUTES = "content/articles/why-your-glutes-grip.md"
PUSHED_SENTENCE = "Your gluteus maximus is the biggest muscle in your bottom."
EDITED_SENTENCE = "Your gluteus maximus, the biggest muscle you have, sits in your bottom."


def newsletter(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SOURCE_DATE_EPOCH": PINNED_EPOCH}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args, "--root", str(root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )


@pytest.fixture
def project(make_project):
    return make_project(with_repo_content=True)


@pytest.fixture
def built(project):
    result = newsletter(project, "build", "--week", WEEK)
    assert result.returncode == 0, result.stderr
    return project


def page(root: Path, path: str) -> str:
    return (root / "dist" / "site" / path / "index.html").read_text(encoding="utf-8")


def edit_glutes_article(root: Path) -> None:
    article = root / GLUTES
    text = article.read_text(encoding="utf-8")
    assert PUSHED_SENTENCE in text
    article.write_text(text.replace(PUSHED_SENTENCE, EDITED_SENTENCE), encoding="utf-8")


def test_the_week_being_built_has_a_page_for_each_version(built):
    for folder in VERSIONS.values():
        html = page(built, f"issues/{WEEK}/{folder}")
        assert "<h1>Breathe, then wake up your glutes</h1>" in html
        assert PUSHED_SENTENCE in html


def test_each_version_page_links_the_others(built):
    html = page(built, f"issues/{WEEK}/pregnant/")
    versions = re.search(r'<nav class="issue__versions".*?</nav>', html, re.DOTALL).group(0)
    assert '<span aria-current="page">pregnant</span>' in versions
    assert 'href="../../../issues/2026-W48/postpartum-0-6w/"' in versions
    assert 'href="../../../issues/2026-W48/"' in versions


def test_the_email_links_to_its_own_versions_page_in_html_and_text(built):
    for stage, folder in VERSIONS.items():
        email = built / "dist" / "email" / WEEK / (stage or "")
        url = f"{BASE}issues/{WEEK}/{folder}"
        assert re.search(rf'<a href="{re.escape(url)}"[^>]*>View in browser</a>', (email / "index.html").read_text())
        assert (email / "email.txt").read_text().splitlines()[:2] == ["View in browser:", url]


def test_a_web_copy_has_no_token_merge_tag_unsubscribe_link_or_tracking(built):
    for folder in VERSIONS.values():
        html = page(built, f"issues/{WEEK}/{folder}")
        for forbidden in ("unsubscribe", "*|", "{{", "%%", "[[", "utm_", "token", "List-Unsubscribe"):
            assert forbidden.lower() not in html.lower(), (folder, forbidden)


def test_a_web_copy_has_canonical_and_opengraph_tags(built):
    html = page(built, f"issues/{WEEK}/pregnant/")
    url = f"{BASE}issues/{WEEK}/pregnant/"
    assert f'<link rel="canonical" href="{url}">' in html
    assert f'<meta property="og:url" content="{url}">' in html
    assert '<meta property="og:title" content="Breathe, then wake up your glutes">' in html
    assert '<meta property="og:type" content="article">' in html
    assert re.search(r'<meta property="og:description" content="When your deep core', html)


def test_the_archive_lists_issues_newest_first_with_subject_date_and_preview(built, make_project):
    html = page(built, "issues/")
    entry = re.search(r'<article class="summary">.*?</article>', html, re.DOTALL).group(0)
    assert '<a href="../issues/2026-W48/">Breathe, then wake up your glutes</a>' in entry
    assert '<time datetime="2026-11-23">23 November 2026</time>' in entry
    assert "When your deep core is struggling" in entry


def test_the_archive_index_is_newest_first(make_project, tmp_path):
    root = make_project(with_repo_content=True)
    with Ledger(root / ".newsletter" / "ledger.sqlite3") as ledger:
        for week, monday in (("2026-W40", date(2026, 9, 28)), ("2026-W44", date(2026, 10, 26))):
            copy = WebCopy(f"k-{week}", week, None, f"Subject of {week}", "Preview.", monday, "<p>Body.</p>")
            ledger.record_web_copy(copy, "hash", at=datetime(2026, 10, 30, tzinfo=UTC))
    assert newsletter(root, "build", "--week", WEEK).returncode == 0
    subjects = re.findall(r'class="summary__title"><a href="[^"]+">([^<]+)</a>', page(root, "issues/"))
    assert subjects == ["Breathe, then wake up your glutes", "Subject of 2026-W44", "Subject of 2026-W40"]
    feed = feedparser.parse((root / "dist/site/issues/feed.xml").read_bytes())
    assert [entry.title for entry in feed.entries] == subjects
    assert feed.entries[1].link == f"{BASE}issues/2026-W44/"


def test_the_feed_of_issues_links_each_weeks_page(built):
    feed = feedparser.parse((built / "dist/site/issues/feed.xml").read_bytes())
    assert not feed.bozo
    assert feed.feed.title == "Strong From Within: past issues"
    [entry] = feed.entries
    assert entry.link == f"{BASE}issues/{WEEK}/"
    assert entry.summary.startswith("When your deep core is struggling")


def test_the_blog_navigation_and_the_signup_form_link_to_past_issues(built):
    home = page(built, "")
    assert '<a href="issues/">Past issues</a>' in home
    assert '<p class="signup__past"><a href="issues/">See past issues</a>' in home


def test_a_pushed_issue_shows_what_was_pushed_not_what_was_edited_since(project):
    assert newsletter(project, "push", "--week", WEEK).returncode == 0
    edit_glutes_article(project)
    assert newsletter(project, "build", "--week", WEEK).returncode == 0
    for folder in VERSIONS.values():
        shown = page(project, f"issues/{WEEK}/{folder}")
        assert PUSHED_SENTENCE in shown and EDITED_SENTENCE not in shown
    assert EDITED_SENTENCE in page(project, "articles/why-your-glutes-grip/")  # the blog has the edit


def test_a_forced_push_of_an_edited_issue_shows_the_new_content(project):
    assert newsletter(project, "push", "--week", WEEK).returncode == 0
    edit_glutes_article(project)
    assert newsletter(project, "push", "--week", WEEK, "--force").returncode == 0
    assert newsletter(project, "build", "--week", WEEK).returncode == 0
    assert EDITED_SENTENCE in page(project, f"issues/{WEEK}/")


def test_the_ledger_keeps_the_newest_pushed_content_of_each_issue(tmp_path):
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        first = WebCopy("key", WEEK, None, "First", "p", date(2026, 11, 23), "<p>one</p>")
        second = WebCopy("key", WEEK, None, "Second", "p", date(2026, 11, 23), "<p>two</p>")
        ledger.record_web_copy(first, "h1", at=datetime(2026, 11, 24, tzinfo=UTC))
        ledger.record_web_copy(second, "h2", at=datetime(2026, 11, 25, tzinfo=UTC))
        ledger.record_web_copy(
            first, "h1", at=datetime(2026, 11, 26, tzinfo=UTC)
        )  # the same content again: kept as it was
        [kept] = ledger.web_copies()
    assert (kept.subject, kept.body_html, kept.pushed_at) == (
        "Second",
        "<p>two</p>",
        datetime(2026, 11, 25, tzinfo=UTC),
    )


def test_a_build_before_any_push_creates_no_ledger(built):
    assert not (built / ".newsletter" / "ledger.sqlite3").exists()


def test_utm_parameters_are_off_by_default(built):
    assert "utm_" not in (built / "dist/email" / WEEK / "index.html").read_text()


def test_utm_parameters_tag_the_emails_links_to_the_blog_when_turned_on_but_never_the_web_copy(project):
    config = project / "newsletter.toml"
    config.write_text(config.read_text().replace("[email]", "[email]\nutm = true", 1))
    assert newsletter(project, "build", "--week", WEEK).returncode == 0
    html = (project / "dist/email" / WEEK / "index.html").read_text()
    text = (project / "dist/email" / WEEK / "email.txt").read_text()
    tags = "utm_source=newsletter&amp;utm_medium=email&amp;utm_campaign=2026-W48"
    assert f'href="{BASE}articles/why-your-glutes-grip/?{tags}"' in html
    assert f"{BASE}articles/why-your-glutes-grip/?{tags.replace('&amp;', '&')}" in text
    assert re.search(r'src="[^"]*/media/img/[0-9a-f]+-1200\.jpg"', html)  # pictures keep their address
    assert not re.search(r"unsubscribe/\?utm_", html)
    for folder in VERSIONS.values():
        assert "utm_" not in page(project, f"issues/{WEEK}/{folder}")

"""Where each thing lives on the blog. Paths are site-relative without a leading slash;
`absolute()` makes the full URL that emails and feeds need."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import urljoin, urlsplit

CONTENT_ARTICLES = "content/articles/"
CONTENT_EXERCISES = "content/exercises/"
CONTENT_MEDIA = "content/"  # anything else under content/ is copied to the site as is


def article_path(slug: str) -> str:
    return f"articles/{slug}/"


def exercise_path(slug: str) -> str:
    return f"exercises/{slug}/"


def exercise_anchor(slug: str, occurrence: int = 1) -> str:
    """The id of an exercise card on its article's page; a second card of the same slug gets "-2"."""
    return f"exercise-{slug}" if occurrence == 1 else f"exercise-{slug}-{occurrence}"


TAG_SEPARATORS = re.compile(r"[\W_]+")  # anything but letters and digits, of any script


def tag_slug(tag: str) -> str:
    return TAG_SEPARATORS.sub("-", tag.lower()).strip("-") or "tag"


def tag_path(tag: str) -> str:
    return f"tags/{tag_slug(tag)}/"


def index_path(page: int) -> str:
    return "" if page == 1 else f"page/{page}/"


ISSUES_PATH = "issues/"  # the archive of past issues
ISSUES_FEED_PATH = "issues/feed.xml"


def issue_path(week: str, stage: str | None = None) -> str:
    """The web copy of one version of a week's email: issues/2026-W48/ for the one email for
    everyone and for `general`, issues/2026-W48/pregnant/ for a stage's version."""
    return f"{ISSUES_PATH}{week}/" + (f"{stage}/" if stage and stage != "general" else "")


def absolute(base_url: str, path: str) -> str:
    return urljoin(base_url.rstrip("/") + "/", path)


def resolve_content_link(href: str, source_path: str) -> str | None:
    """Map a link written in a content file to a site path, or None if it is external.

    `hip-extension.md`, `../exercises/hip-extension.md`, `images/x.jpg` are resolved from the
    file's folder; `/tags/core/` is taken as a site path. Fragments are kept.
    """
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith(("#", "mailto:", "tel:")):
        return None
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    if parts.path.startswith("/"):
        return parts.path.lstrip("/") + fragment
    target = posixpath.normpath(posixpath.join(posixpath.dirname(source_path), parts.path))
    if target.startswith(CONTENT_ARTICLES) and target.endswith(".md"):
        return article_path(posixpath.basename(target)[:-3]) + fragment
    if target.startswith(CONTENT_EXERCISES) and target.endswith(".md"):
        return exercise_path(posixpath.basename(target)[:-3]) + fragment
    if target.startswith(CONTENT_MEDIA):
        return target[len(CONTENT_MEDIA) :] + fragment
    return target + fragment

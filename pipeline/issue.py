"""Picks and orders one week's articles into an Issue. Pure: no I/O, no rendering."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from .config import Config
from .errors import ContentError
from .model import Article, Content, Issue, IssueNote
from .weeks import week_days, week_of


def is_sendable(article: Article) -> bool:
    return not article.draft and article.newsletter


def assemble_issue(content: Content, config: Config, week: str) -> Issue | None:
    """The issue for `week` (Monday to Sunday), or None when no article of that week goes out.

    The week's issue note, if any, sets the subject, the intro and which articles come first;
    the rest follow newest first.
    """
    monday, sunday = week_days(week)
    articles = [a for a in content.articles if is_sendable(a) and monday <= a.date <= sunday]
    if not articles:
        return None
    note = content.issue_notes.get(week)
    articles = _ordered(articles, note, content)
    first = articles[0]
    return Issue(
        week=week,
        key=issue_key(config, week),
        subject=(note.subject if note and note.subject else first.title),
        preview_text=first.summary,
        intro=note.intro if note else "",
        articles=articles,
        monday=monday,
    )


def latest_week(content: Content) -> str | None:
    """The newest week with at least one article that would go out, or None."""
    days = [a.date for a in content.articles if is_sendable(a)]
    return week_of(max(days)) if days else None


def issue_key(config: Config, week: str) -> str:
    """`strongfromwithin-example-2026-W48`: the site's host and the week, so rebuilding the
    same week always finds the same campaign. A leading "www." is ignored."""
    host = (urlsplit(config.site.base_url).hostname or "site").removeprefix("www.")
    return f"{re.sub(r'[^a-z0-9]+', '-', host.lower()).strip('-')}-{week}"


def _ordered(articles: list[Article], note: IssueNote | None, content: Content) -> list[Article]:
    newest_first = sorted(articles, key=lambda a: a.date, reverse=True)  # stable: ties keep the content order
    if note is None or not note.order:
        return newest_first
    by_slug = {a.slug: a for a in articles}
    for slug in note.order:
        if slug not in by_slug:
            raise ContentError(note.source.path, note.source.line, _order_problem(slug, note.week, content, articles))
    listed = [by_slug[slug] for slug in dict.fromkeys(note.order)]
    return listed + [a for a in newest_first if a.slug not in note.order]


def _order_problem(slug: str, week: str, content: Content, week_articles: list[Article]) -> str:
    known = {a.slug: a for a in content.articles}
    choices = ", ".join(a.slug for a in week_articles)
    if slug not in known:
        why = "there is no article with that slug"
    elif known[slug].draft:
        why = "that article is a draft"
    elif not known[slug].newsletter:
        why = "that article has newsletter: false"
    else:
        why = f"that article is dated {known[slug].date.isoformat()}, outside {week}"
    return f"order lists '{slug}' but {why}; list only articles of this issue ({choices})"

"""The blog's Atom feeds (feedgen): the newest articles, full content with absolute URLs; and the
past issues (issues/feed.xml), each its subject, preview text and web copy's address."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from feedgen.feed import FeedGenerator

from pipeline.core import urls
from pipeline.core.config import Config
from pipeline.core.model import Article

FEED_PATH = "feed.xml"
FEED_SIZE = 20


def article_updated(article: Article) -> datetime:
    """When the article last changed: its date, or a later medical review (`last_reviewed`)."""
    reviewed = article.meta.get("last_reviewed")
    day = max(article.date, reviewed) if isinstance(reviewed, date) else article.date
    return datetime.combine(day, time(0), tzinfo=UTC)


def article_author(article: Article, config: Config) -> str:
    return article.author or config.site.author or config.site.title


def feed_xml(articles: list[Article], config: Config, content_html: Callable[[Article], str], now: datetime) -> bytes:
    """`articles` newest first; `content_html(article)` is the full body with absolute URLs."""
    latest = articles[:FEED_SIZE]
    feed = FeedGenerator()
    feed.id(config.base_url)
    feed.title(config.site.title)
    if config.site.description:
        feed.subtitle(config.site.description)
    feed.link(href=urls.absolute(config.base_url, FEED_PATH), rel="self", type="application/atom+xml")
    feed.link(href=config.base_url, rel="alternate", type="text/html")
    feed.language(config.site.language)
    feed.author(name=config.site.author or config.site.title)
    feed.generator("newsletter")
    feed.updated(max((article_updated(a) for a in latest), default=_aware(now)))
    for article in latest:
        _add_entry(feed, article, config, content_html(article))
    return feed.atom_str(pretty=True)


def _add_entry(feed: FeedGenerator, article: Article, config: Config, html: str) -> None:
    url = urls.absolute(config.base_url, urls.article_path(article.slug))
    entry = feed.add_entry(order="append")
    entry.id(url)
    entry.title(article.title)
    entry.link(href=url, rel="alternate", type="text/html")
    entry.published(
        _aware(article.published) if article.published else datetime.combine(article.date, time(0), tzinfo=UTC)
    )
    entry.updated(article_updated(article))
    entry.author(name=article_author(article, config))
    if article.summary:
        entry.summary(article.summary)
    entry.content(html, type="html")
    for tag in article.tags:
        entry.category(term=urls.tag_slug(tag), label=tag)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class IssueEntry:
    url: str  # absolute: the issue's web copy
    subject: str
    preview_text: str
    sent: datetime


def issues_feed_xml(entries: list[IssueEntry], config: Config, now: datetime) -> bytes:
    """`entries` newest first."""
    feed = FeedGenerator()
    feed.id(urls.absolute(config.base_url, urls.ISSUES_PATH))
    feed.title(f"{config.site.title}: past issues")
    feed.subtitle(f"Every weekly email of {config.site.title}, as it was sent.")
    feed.link(href=urls.absolute(config.base_url, urls.ISSUES_FEED_PATH), rel="self", type="application/atom+xml")
    feed.link(href=urls.absolute(config.base_url, urls.ISSUES_PATH), rel="alternate", type="text/html")
    feed.language(config.site.language)
    feed.author(name=config.site.author or config.site.title)
    feed.generator("newsletter")
    feed.updated(max((entry.sent for entry in entries), default=_aware(now)))
    for item in entries:
        entry = feed.add_entry(order="append")
        entry.id(item.url)
        entry.title(item.subject)
        entry.link(href=item.url, rel="alternate", type="text/html")
        entry.published(item.sent)
        entry.updated(item.sent)
        if item.preview_text:
            entry.summary(item.preview_text)
    return feed.atom_str(pretty=True)

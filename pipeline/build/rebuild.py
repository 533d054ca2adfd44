"""The quick rebuild: when only the bodies of a few articles changed since the last build, render
again just what shows them whole - their own pages, the feed when they are in it, the week's
email when they are in it - and leave every other file in dist/ as the last build wrote it. An
edited issue note (content/issues/) is shown only by the email: that alone is rendered again.

Every other page shows an article only through `shown_elsewhere` (what lists of articles show,
which exercise cards it uses, its video thumbnails), so when that is unchanged nothing else can
differ from a full build. The quick rebuild applies only when the last build's record says all
else is as it was: the same code, settings and templates, the same content files with only
articles saved, and dist/ exactly as that build left it. Anything else - or any error in a
changed article - returns None, and the full build runs (and reports every error).
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pipeline.build.cache import SPARE_FOLDER, BuildCache, BuildInputs
from pipeline.build.images import PreparedPictures, text_picture_uses
from pipeline.content.load import SUFFIXES, content_from_texts, parse_file, parse_key
from pipeline.core.config import Config
from pipeline.core.errors import ContentErrors
from pipeline.core.model import Article, Content, MailingList, Prose
from pipeline.core.weeks import week_days
from pipeline.render import video
from pipeline.render.blog import (
    LISTED_FIELDS,
    collect_tags,
    newest_first,
    render_article_pages,
)
from pipeline.render.feed import FEED_SIZE
from pipeline.render.images import Pictures
from pipeline.tools.files import replace_files, staged
from pipeline.tools.fingerprint import digest, file_stats, output_manifest

ARTICLES_FOLDER = "content/articles/"
NOTES_FOLDER = "content/issues/"
MAX_CHANGED = 50  # more than this and the full build, with its process pool, is no slower


@dataclass
class SiteFacts:
    """What the last full build learnt about the whole site that a quick rebuild, which loads only
    a few articles, needs to know (all of it follows from `shown_elsewhere` of every article)."""

    article_slugs: set[str]
    feed: list[str]  # source paths of the feed's articles
    week: list[str]  # source paths of the articles dated in the built week (the email's candidates)
    tag_names: dict[str, str]  # tag slug -> the name the site shows
    pictures: PreparedPictures  # every picture the site shows, prepared (pipeline/build/images.py)


def site_facts(content: Content, week: str, pictures: PreparedPictures) -> SiteFacts:
    monday, sunday = week_days(week)
    published = newest_first(content)
    return SiteFacts(
        article_slugs={article.slug for article in content.articles},
        feed=[article.source.path for article in published[:FEED_SIZE]],
        week=[article.source.path for article in content.articles if monday <= article.date <= sunday],
        tag_names={slug: tag.name for slug, tag in collect_tags(published).items()},
        pictures=pictures.without_store(),
    )


def shown_elsewhere(article: Article) -> str:
    """A digest of everything pages other than the article's own, the feed and the email show of
    it: its list entry, the cards it uses (exercise pages list their articles), and the video
    thumbnails of its own exercises and of its ```video fences (files of their own, drawn for
    each video), and its old addresses (each a redirect page of its own)."""
    cards = sorted({block.ref for block in article.exercises if block.ref})
    thumbnails = [
        (video.thumbnail_path(block, article.slug), block.name, block.video)
        for block in article.exercises
        if block.ref is None and block.video
    ]
    thumbnails += sorted(video.fence_thumbnails(part.markdown for part in article.parts if isinstance(part, Prose)))
    shown = [getattr(article, name) for name in LISTED_FIELDS]
    return digest(repr(shown), repr(cards), repr(thumbnails), repr(article.aliases))  # aliases: redirect pages


def quick_rebuild(
    config: Config, inputs: BuildInputs, cache: BuildCache, provider: MailingList, now: datetime, archive=()
):
    """The BuildResult of a quick rebuild, or None when only a full build will do."""
    from pipeline.build.emails import output_folders  # build imports this module

    facts, last = cache.state.facts, cache.state.result
    changed = cache.changed_content(inputs)
    if not isinstance(facts, SiteFacts) or changed is None or len(changed) > MAX_CHANGED:
        return None
    paths = [_relative(path, config.root) for path in changed]
    if not all(_in_folder(path, ARTICLES_FOLDER) or _in_folder(path, NOTES_FOLDER) for path in paths):
        return None
    if not cache.outputs_intact(output_folders(config, last.week)):
        return None
    edited = _edited_files(config, paths, cache, facts.pictures.pictures)
    if edited is None:
        return None
    content = _partial_content(config, cache, facts, edited)
    if content is None:
        return None
    return _render_and_write(config, inputs, cache, provider, now, content, set(edited), facts, archive)


def _in_folder(path: str, folder: str) -> bool:
    return path.startswith(folder) and path.endswith(SUFFIXES) and "/" not in path[len(folder) :]


def _edited_files(config: Config, paths: list[str], cache: BuildCache, pictures: Pictures) -> dict[str, str] | None:
    """{path: new text} of the saved articles and notes whose text changed, when each still
    parses and each article shows the same face elsewhere; None when one does not."""
    stages = config.audience.stages
    edited = {}
    for path in paths:
        text = _read(config.root / path)
        stored = cache.parsed.stored(path)
        if text is None or stored is None:
            return None
        if cache.parsed.get(path, parse_key(text, stages)) is not None:
            continue  # saved without a change
        try:
            model = parse_file(path, text, stages)
        except ContentErrors:
            return None
        if isinstance(model, Article) and shown_elsewhere(model) != shown_elsewhere(pickle.loads(stored)):
            return None
        if not all(use.site_path in pictures for use in text_picture_uses(text, path)):
            return None  # a picture the last build did not prepare: the full build prepares it
        cache.parsed.put(path, parse_key(text, stages), pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
        edited[path] = text
    return edited


def _partial_content(config: Config, cache: BuildCache, facts: SiteFacts, edited: dict[str, str]) -> Content | None:
    """The edited articles, those of the feed and of the week, every card and issue note - cross-
    checked like a full load; None when that finds an error (the full build will report it)."""
    wanted = sorted(
        {*edited, *facts.feed, *facts.week, *_content_files(config, "exercises"), *_content_files(config, "issues")}
    )
    files = {}
    for path in wanted:
        text = edited.get(path) or _read(config.root / path)
        if text is None:
            return None
        files[path] = text
    try:
        return content_from_texts(
            files,
            stages=config.audience.stages,
            cache=cache.parsed,
            article_slugs=facts.article_slugs,
            strict=config.content.strict,
        )
    except ContentErrors:
        return None


def _render_and_write(config, inputs, cache, provider, now, content, edited: set[str], facts: SiteFacts, archive):
    from pipeline.build.emails import (
        BuildResult,
        output_folders,
        render_week_emails,
        with_week,
        write_emails,
    )

    last = cache.state.result
    site_dir = config.dist_dir / "site"
    pages = cache.pages(site_dir)
    email_changed = bool(edited & set(facts.week)) or any(_in_folder(path, NOTES_FOLDER) for path in edited)
    rendered_emails = (
        render_week_emails(config, content, last.week, provider, now, facts.pictures.pictures)
        if email_changed
        else None
    )
    # The week's web copies changed with its email: the archive pages are rendered again too.
    shown_archive = with_week(archive, [email for email, _ in rendered_emails]) if rendered_emails else None
    shown = render_article_pages(
        content,
        config,
        provider.signup_form(),
        now,
        pages,
        edited,
        facts.tag_names,
        with_feed=bool(edited & set(facts.feed)),
        feed_entries=cache.feed_entries,
        pictures=facts.pictures.pictures,
        archive=shown_archive,
    )
    changed_files = {
        file: data for file, data in shown.items() if isinstance(data, bytes) and not _written(site_dir / file, data)
    }
    # Everything is rendered: only now does anything reach dist/.
    outputs = dict(cache.state.outputs)
    emails = last.emails
    if changed_files or rendered_emails is not None:
        with staged(
            config.dist_dir, spare=config.state_dir / SPARE_FOLDER
        ) as scratch:  # readers of dist/ see the old build or this one, whole
            if changed_files:
                replace_files(scratch / "site", changed_files)
            if rendered_emails is not None:
                emails = write_emails(config, last.week, rendered_emails, into=scratch)
    if changed_files:
        outputs |= file_stats([site_dir / file for file in changed_files])
    if rendered_emails is not None:
        email_folder = output_folders(config, last.week)[1]
        outputs = {path: stat for path, stat in outputs.items() if not path.startswith(f"{email_folder}{os.sep}")}
        outputs |= output_manifest([email_folder])
    result = BuildResult(week=last.week, site_dir=site_dir, site_files=last.site_files, emails=emails)
    cache.save(
        inputs, output_folders(config, last.week), result, cache.state.pages | pages.keys, facts, outputs=outputs
    )
    return result


def _written(path: Path, data: bytes) -> bool:
    """The file already holds exactly `data` (the feed of issues after a body edit, say)."""
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def _content_files(config: Config, folder: str) -> list[str]:
    directory = config.content_dir / folder
    if not directory.is_dir():
        return []
    return [f"content/{folder}/{path.name}" for suffix in SUFFIXES for path in directory.glob(f"*{suffix}")]


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _relative(path: str, root: Path) -> str:
    return Path(path).relative_to(root).as_posix()

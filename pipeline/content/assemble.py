"""Picks and orders one week's articles into an Issue. Pure: no I/O, no rendering.

A week whose content is the same for every reader is one Issue (stage None). A week with
stage-specific content - a `::: only <stage>` block in an article or the intro, or an exercise
marked `pregnancy: avoid` - is one Issue per stage plus one for readers without a stage tag
(`general`, see pipeline/core/stages.py), each holding only what its readers may see:

- a part inside `::: only a, b` is in the versions for stages a and b, never in `general`;
- an exercise marked `pregnancy: avoid` is never in the pregnant stage's version nor in
  `general` (a reader without a stage tag may be pregnant);
- an article left with nothing to show is dropped from that version, and a version left without
  articles is not made (its readers get no email that week).
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pipeline.content.frontmatter import key_lines
from pipeline.core.config import Config
from pipeline.core.errors import ContentError
from pipeline.core.model import (
    Article,
    Content,
    ExerciseBlock,
    Issue,
    IssueNote,
    Part,
    Prose,
    Review,
    Source,
)
from pipeline.core.stages import GENERAL_STAGE, version_key, versions
from pipeline.core.weeks import week_days, week_of


def is_sendable(article: Article) -> bool:
    return not article.draft and article.newsletter


def assemble_issues(content: Content, config: Config, week: str) -> list[Issue]:
    """Every version of the week's issue: [one Issue for everyone] when nothing in it is
    stage-specific, else one per stage, then `general`; [] when nothing goes out."""
    whole = _week_issue(content, config, week)
    if whole is None:
        return []
    intro = _intro_parts(content.issue_notes.get(week))
    if not _is_staged(whole, intro):
        return [whole]
    _check_avoid_blocks(whole, config)
    made = (_version(whole, intro, stage, config) for stage in versions(config.audience.stages))
    return [issue for issue in made if issue is not None]


def assemble_issue(content: Content, config: Config, week: str, stage: str | None = None) -> Issue | None:
    """One version of the week's issue, or None when it has none: the only one when the week is
    the same for everyone, else the one for `stage` (default: `general`, which holds nothing
    stage-specific and no `avoid` exercise)."""
    issues = assemble_issues(content, config, week)
    if len(issues) == 1 and issues[0].stage is None:
        return issues[0]
    wanted = stage or GENERAL_STAGE
    return next((issue for issue in issues if issue.stage == wanted), None)


def _week_issue(content: Content, config: Config, week: str) -> Issue | None:
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
        reviews=exercise_reviews(articles, content),
    )


def exercise_reviews(articles: list[Article], content: Content) -> tuple[Review, ...]:
    """The review of every exercise the articles show, once per file that holds it."""
    reviews: dict[str, Review] = {}
    for article in articles:
        for block in article.exercises:
            card = content.exercises.get(block.ref) if block.ref else None
            if card is not None:
                meta, path, what = card.meta, card.source.path, f"exercise card '{card.name}'"
            else:
                meta, path, what = article.meta, article.source.path, own_exercises_named(article)
            if path not in reviews:
                reviews[path] = _review(meta, path, what, content.source_texts.get(path, ""))
    return tuple(reviews.values())


def own_exercises_named(article: Article) -> str:
    """How messages name the exercises written in the article itself (not cards it uses)."""
    blocks = [block for block in article.exercises if block.ref is None]
    names = ", ".join(f"'{block.name}'" for block in blocks)
    return f"this article's exercise{'s' * (len(blocks) > 1)} ({names})"


def _review(meta: dict, path: str, what: str, text: str) -> Review:
    reviewed = meta.get("last_reviewed")
    try:
        line = key_lines(text, path).get("last_reviewed", 1) if text else 1
    except ContentError:
        line = 1
    return Review(what, Source(path, line), reviewed if isinstance(reviewed, date) else None)


def visible_to(part: Part, stage: str, config: Config) -> bool:
    """Whether the version for `stage` (a configured stage or `general`) shows this part."""
    if part.stages is not None and stage not in part.stages:
        return False
    avoided = isinstance(part, ExerciseBlock) and part.pregnancy == "avoid"
    return not (avoided and stage in (config.audience.pregnant_stage, GENERAL_STAGE))


def _intro_parts(note: IssueNote | None) -> list[Prose]:
    if note is None:
        return []
    if note.intro_parts or not note.intro:
        return note.intro_parts
    return [Prose(note.intro, note.source)]  # a note made in code, not parsed: one part for everyone


def _is_staged(issue: Issue, intro: list[Prose]) -> bool:
    parts = [part for article in issue.articles for part in article.parts] + list(intro)
    return any(
        part.stages is not None or (isinstance(part, ExerciseBlock) and part.pregnancy == "avoid") for part in parts
    )


def _version(whole: Issue, intro: list[Prose], stage: str, config: Config) -> Issue | None:
    articles = []
    for article in whole.articles:
        parts = [part for part in article.parts if visible_to(part, stage, config)]
        if parts or not article.parts:
            articles.append(dataclasses.replace(article, parts=parts))
    if not articles:
        return None
    return dataclasses.replace(
        whole,
        key=version_key(whole.key, stage),
        preview_text=articles[0].summary,
        intro="\n\n".join(part.markdown for part in intro if visible_to(part, stage, config)),
        articles=articles,
        stage=stage,
    )


def _check_avoid_blocks(issue: Issue, config: Config) -> None:
    """An `avoid` exercise inside `::: only <the pregnant stage>` would reach nobody: say so."""
    pregnant = config.audience.pregnant_stage
    for article in issue.articles:
        for part in article.exercises:
            if part.pregnancy == "avoid" and part.stages and set(part.stages) <= {pregnant}:
                raise ContentError(
                    part.source.path,
                    part.source.line,
                    f"exercise '{part.name}' is marked pregnancy: avoid but sits in a '::: "
                    f"only {pregnant}' block, so no reader "
                    "would see it: move it out of the block, or choose an exercise that suits pregnancy",
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


def resolve_week(content: Content, week: str | None, config: Config, now: datetime) -> str:
    """None means this week (the build's day in the writer's time zone); 'latest' the newest
    week that has something to send, or this week when none has."""
    if week not in (None, "latest"):
        return week
    newest = latest_week(content) if week == "latest" else None
    return newest or week_of(now.astimezone(ZoneInfo(config.email.timezone)).date())

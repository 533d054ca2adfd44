"""Walk content/ into the model, cross-check it, and report every problem at once.

`load_content` only reads files; `content_from_texts` does the rest as a pure function over
{relative path: text}, so tests can feed it a dict.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
from collections.abc import Sequence
from pathlib import Path

from pipeline.content.fields import (
    ARTICLE_FIELDS,
    EXERCISE_FIELDS,
    ISSUE_FIELDS,
    suggestion,
    unknown_key_message,
)
from pipeline.content.frontmatter import key_lines
from pipeline.content.parse import parse_article, parse_exercise, parse_issue_note
from pipeline.content.progressions import find_cycles, order_graph
from pipeline.core.config import Config
from pipeline.core.errors import ContentError, ContentErrors
from pipeline.core.model import WARNING, Article, Content, Exercise, ExerciseBlock, Finding, IssueNote, LoadWarning
from pipeline.core.paths import outside_project_message, resolves_inside
from pipeline.core.stages import DEFAULT_STAGES
from pipeline.core.urls import TAG_SEPARATORS
from pipeline.tools.cache_store import ResultStore
from pipeline.tools.console import plural
from pipeline.tools.fingerprint import digest
from pipeline.tools.parallel import parallel_map

FOLDERS = {"articles": parse_article, "exercises": parse_exercise, "issues": parse_issue_note}
SUFFIXES = (".md", ".markdown")  # .markdown: what Jekyll and many editors name Markdown files
STAGED_FOLDERS = ("articles", "issues")  # where `::: only <stage>` blocks may be written


def load_content(config: Config, cache: ResultStore | None = None) -> Content:
    """`cache`: parse results of earlier builds (pipeline/build/cache.py), reused for unchanged files."""
    files, unreadable = read_content_files(config.root)
    content = content_from_texts(
        files, unreadable, stages=config.audience.stages, cache=cache, strict=config.content.strict
    )
    if cache is not None:
        cache.keep_only(set(files))  # forget deleted files
    return content


def read_content_files(root: Path) -> tuple[dict[str, str], list[ContentError]]:
    """{"content/articles/x.md": text} for the Markdown files of the three content folders,
    and an error for each file that is not UTF-8."""
    files: dict[str, str] = {}
    unreadable: list[ContentError] = []
    for folder in FOLDERS:
        directory = root / "content" / folder
        found = _markdown_files(directory)
        inside = resolves_inside(directory, root)
        for path in sorted(found, key=lambda path: path.name):  # by name: fast
            relative = f"content/{folder}/{path.name}"
            if not (inside and not found[path]) and not resolves_inside(path, root):
                unreadable.append(ContentError(relative, 1, outside_project_message(path)))
                continue
            try:
                files[relative] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                unreadable.append(
                    ContentError(
                        relative, 1, f"not UTF-8 text ({exc.reason} at byte {exc.start}): save the file as UTF-8"
                    )
                )
    return files, unreadable


def _markdown_files(directory: Path) -> dict[Path, bool]:
    """{file: whether it is a symbolic link} for the Markdown files of one folder. A file that is
    no link lies where its folder does: only links and the folder itself need resolving."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return {}
    return {directory / entry.name: entry.is_symlink() for entry in entries if entry.name.endswith(SUFFIXES)}


def content_from_texts(
    files: dict[str, str],
    unreadable: list[ContentError] = (),
    stages: Sequence[str] = DEFAULT_STAGES,
    cache: ResultStore | None = None,
    article_slugs: set[str] | None = None,
    strict: bool = False,
) -> Content:
    """Parse and cross-check {relative path: text}; raises ContentErrors listing every problem.
    `stages` are the reader stages a `::: only <stage>` block may name. `article_slugs`: every
    article's slug, when `files` holds only some articles (pipeline/build/rebuild.py), for the checks
    that name other articles. `strict` ([content] strict): an unknown front matter key is an
    error instead of a warning."""
    errors: list[ContentError] = list(unreadable)
    parsed: dict[str, list] = {folder: [] for folder in FOLDERS}
    for path, model in parse_files(files, stages, cache).items():
        try:
            parsed[path.split("/")[1]].append(model if model is not None else parse_file(path, files[path], stages))
        except ContentErrors as exc:
            errors.extend(exc.errors)
    articles = _unique(parsed["articles"], files, errors, "article")
    exercises = {exercise.slug: exercise for exercise in _unique(parsed["exercises"], files, errors, "exercise card")}
    notes = {note.week: note for note in parsed["issues"]}
    forgiven = [warning for models in parsed.values() for model in models for warning in model.forgiven]
    if strict:
        errors += [strict_error(warning) for warning in forgiven]
    for exercise in exercises.values():
        _resolve_card_links(exercise.block, exercises, errors)
    _check_no_cycles(exercises, errors)
    for article in articles:
        resolve_exercise_refs(article, exercises, errors)
        for block in article.exercises:
            if block.ref is None:
                _resolve_card_links(block, exercises, errors)
    _check_tags(articles, files, errors)
    for note in notes.values():
        _check_order(
            note,
            files[note.source.path],
            {a.slug for a in articles} if article_slugs is None else article_slugs,
            errors,
        )
    if errors:
        raise ContentErrors(errors)
    articles.sort(key=lambda article: article.order_key)
    return Content(
        articles=articles,
        exercises=dict(sorted(exercises.items())),
        issue_notes=dict(sorted(notes.items())),
        source_texts=dict(files),
        warnings=unknown_key_warnings(forgiven),
    )


def _check_tags(articles: list[Article], files: dict[str, str], errors: list[ContentError]) -> None:
    """Each tag gets a page at tags/<slug>/: a tag whose slug is empty has no page of its own,
    and two spellings with one slug ("C++" and "c--") would share one. Case alone may differ."""
    spellings: dict[str, tuple[str, str]] = {}  # slug -> (tag as first written, where)
    for article in sorted(articles, key=lambda article: article.source.path):
        path = article.source.path
        for tag in article.tags:
            slug = TAG_SEPARATORS.sub("-", str(tag).lower()).strip("-")
            if not slug:
                errors.append(
                    ContentError(
                        path,
                        _tags_line(files, path),
                        f"the tag {tag!r} has no letters or digits: name it with words, like glutes",
                    )
                )
                continue
            first = spellings.setdefault(slug, (str(tag), path))
            if first[0].casefold() != str(tag).casefold():
                errors.append(
                    ContentError(
                        path,
                        _tags_line(files, path),
                        f"the tag '{tag}' and the tag '{first[0]}' ({first[1]}) would share one page, "
                        f"tags/{slug}/: spell them the same, or tell them apart with words",
                    )
                )


def _tags_line(files: dict[str, str], path: str) -> int:
    """The line of the `tags` key: parsing the front matter again, which only an error needs."""
    return key_lines(files[path], path).get("tags", 1) if path in files else 1


def unknown_key_warnings(forgiven: list[LoadWarning]) -> list[Finding]:
    """One warning per unknown key, at its first file and line, however many files have it."""
    by_key: dict[str, list[LoadWarning]] = {}
    for warning in sorted(forgiven, key=lambda w: (w.path, w.line)):
        by_key.setdefault(warning.key, []).append(warning)
    findings = []
    for key, seen in by_key.items():
        first = seen[0]
        where = f" (and in {plural(len(seen) - 1, 'more file')})" if len(seen) > 1 else ""
        message = (
            f"unknown key '{key}' ignored{where}{first.hint or ''}; "
            "[content] strict = true in newsletter.toml makes this an error"
        )
        findings.append(Finding(first.path, first.line, WARNING, message, "load.unknown-key"))
    return findings


def strict_error(warning: LoadWarning) -> ContentError:
    folder = warning.path.split("/")[1]
    fields = {"articles": ARTICLE_FIELDS, "exercises": EXERCISE_FIELDS, "issues": ISSUE_FIELDS}[folder]
    return ContentError(warning.path, warning.line, unknown_key_message(warning.key, warning.hint, fields))


def parse_file(path: str, text: str, stages: Sequence[str]):
    folder = path.split("/")[1]
    staged = {"stages": stages} if folder in STAGED_FOLDERS else {}
    return FOLDERS[folder](text, path, **staged)


def parse_files(files: dict[str, str], stages: Sequence[str], cache: ResultStore | None = None) -> dict:
    """{path: model} in path order, None for a file with errors (parse_file raises them again).

    Files are parsed on every core when there are many; the models travel pickled, and the
    pickles are what the cache keeps (unpickling also gives each build its own copies to edit)."""
    cache = cache if cache is not None else ResultStore()
    paths = sorted(files)
    keys = {path: parse_key(files[path], stages) for path in paths}
    missing = [path for path in paths if cache.get(path, keys[path]) is None]

    def pickled_model(path: str) -> bytes | None:
        try:
            return pickle.dumps(parse_file(path, files[path], stages), protocol=pickle.HIGHEST_PROTOCOL)
        except ContentErrors:
            return None

    for path, pickled in zip(missing, parallel_map(pickled_model, missing), strict=True):
        if pickled is not None:
            cache.put(path, keys[path], pickled)
    return {path: _unpickled(cache.get(path, keys[path])) for path in paths}


def parse_key(text: str, stages: Sequence[str]) -> str:
    """What a file's model depends on: its text and the configured stages."""
    return digest(text, *stages)


def _unpickled(pickled: bytes | None):
    return pickle.loads(pickled) if pickled is not None else None


def _unique(items: list[Article | Exercise], files: dict, errors: list[ContentError], what: str) -> list:
    first: dict[str, Article | Exercise] = {}
    for item in items:
        if item.slug in first:
            path = item.source.path
            line = key_lines(files[path], path).get("slug", 1)
            errors.append(
                ContentError(
                    path,
                    line,
                    f"the slug '{item.slug}' is already used by the {what} "
                    f"{first[item.slug].source.path}: rename the file or set a different slug",
                )
            )
        else:
            first[item.slug] = item
    return list(first.values())


def resolve_exercise_refs(article: Article, exercises: dict[str, Exercise], errors: list[ContentError]) -> None:
    for index, part in enumerate(article.parts):
        if not isinstance(part, ExerciseBlock) or part.ref is None:
            continue
        card = exercises.get(part.ref)
        if card is None:
            hint = (
                suggestion(part.ref, exercises)
                or f" (add content/exercises/{part.ref}.md, or use one of: "
                f"{', '.join(sorted(exercises)) or 'no cards yet'})"
            )
            errors.append(ContentError(part.source.path, part.source.line, f"unknown exercise '{part.ref}'{hint}"))
            continue
        article.parts[index] = dataclasses.replace(
            card.block,
            ref=part.ref,
            reps=part.reps,
            sets=part.sets,
            note=part.note,
            rest=part.rest,
            source=part.source,
            stages=part.stages,
        )


def _resolve_card_links(block: ExerciseBlock, exercises: dict[str, Exercise], errors: list[ContentError]) -> None:
    """Every "do this first" / "ready for more?" link must name a card; each gets the card's name."""
    for links in (block.prerequisites, block.progresses_to):
        for index, link in enumerate(links):
            card = exercises.get(link.slug)
            if card is None:
                hint = suggestion(link.slug, exercises) or f" (no card content/exercises/{link.slug}.md)"
                what = f"{link.origin} names" if link.origin.startswith("'") else f"{link.origin} links to"
                errors.append(
                    ContentError(link.source.path, link.source.line, f"{what} an unknown exercise '{link.slug}'{hint}")
                )
            else:
                links[index] = dataclasses.replace(link, name=card.name)


def _check_no_cycles(exercises: dict[str, Exercise], errors: list[ContentError]) -> None:
    graph = order_graph(exercises)
    for cycle in find_cycles(graph):
        link = graph[cycle[0]][cycle[1]]
        loop = " -> ".join(cycle)
        errors.append(
            ContentError(
                link.source.path,
                link.source.line,
                f"{link.origin} makes a loop: {loop}; an exercise cannot come before "
                "itself, so remove one of these links",
            )
        )


def _check_order(note: IssueNote, text: str, article_slugs: set[str], errors: list[ContentError]) -> None:
    path = note.source.path
    for slug in note.order:
        if slug not in article_slugs:
            line = key_lines(text, path).get("order", 1)
            hint = suggestion(slug, article_slugs) or " (order lists article slugs, e.g. the file name without .md)"
            errors.append(ContentError(path, line, f"'order' names an unknown article '{slug}'{hint}"))

"""Walk content/ into the model, cross-check it, and report every problem at once.

`load_content` only reads files; `build_content` does the rest as a pure function over
{relative path: text}, so tests can feed it a dict.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from .config import Config
from .errors import ContentError, ContentErrors
from .frontmatter import key_lines
from .model import Article, Content, Exercise, ExerciseBlock, IssueNote
from .parse import parse_article, parse_exercise, parse_issue_note, suggestion

FOLDERS = {"articles": parse_article, "exercises": parse_exercise, "issues": parse_issue_note}


def load_content(config: Config) -> Content:
    files, unreadable = read_content_files(config.root)
    return build_content(files, unreadable)


def read_content_files(root: Path) -> tuple[dict[str, str], list[ContentError]]:
    """{"content/articles/x.md": text} for the Markdown files of the three content folders,
    and an error for each file that is not UTF-8."""
    files: dict[str, str] = {}
    unreadable: list[ContentError] = []
    for folder in FOLDERS:
        for path in sorted((root / "content" / folder).glob("*.md")):
            relative = path.relative_to(root).as_posix()
            try:
                files[relative] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                unreadable.append(ContentError(relative, 1, f"not UTF-8 text ({exc.reason} at byte {exc.start}): save the file as UTF-8"))
    return files, unreadable


def build_content(files: dict[str, str], unreadable: list[ContentError] = ()) -> Content:
    """Parse and cross-check {relative path: text}; raises ContentErrors listing every problem."""
    errors: list[ContentError] = list(unreadable)
    parsed: dict[str, list] = {folder: [] for folder in FOLDERS}
    for path in sorted(files):
        folder = path.split("/")[1]
        try:
            parsed[folder].append(FOLDERS[folder](files[path], path))
        except ContentErrors as exc:
            errors.extend(exc.errors)
    articles = _unique(parsed["articles"], files, errors, "article")
    exercises = {exercise.slug: exercise for exercise in _unique(parsed["exercises"], files, errors, "exercise card")}
    notes = {note.week: note for note in parsed["issues"]}
    for article in articles:
        _resolve_exercise_refs(article, exercises, errors)
    for exercise in exercises.values():
        _check_exercise_links(exercise, files[exercise.source.path], exercises, errors)
    for note in notes.values():
        _check_order(note, files[note.source.path], {a.slug for a in articles}, errors)
    if errors:
        raise ContentErrors(errors)
    articles.sort(key=lambda article: (-article.date.toordinal(), article.slug))
    return Content(articles=articles, exercises=dict(sorted(exercises.items())), issue_notes=dict(sorted(notes.items())))


def _unique(items: list[Article | Exercise], files: dict, errors: list[ContentError], what: str) -> list:
    first: dict[str, Article | Exercise] = {}
    for item in items:
        if item.slug in first:
            path = item.source.path
            line = key_lines(files[path], path).get("slug", 1)
            errors.append(
                ContentError(path, line, f"the slug '{item.slug}' is already used by the {what} {first[item.slug].source.path}: rename the file or set a different slug")
            )
        else:
            first[item.slug] = item
    return list(first.values())


def _resolve_exercise_refs(article: Article, exercises: dict[str, Exercise], errors: list[ContentError]) -> None:
    for index, part in enumerate(article.parts):
        if not isinstance(part, ExerciseBlock) or part.ref is None:
            continue
        card = exercises.get(part.ref)
        if card is None:
            hint = suggestion(part.ref, exercises) or f" (add content/exercises/{part.ref}.md, or use one of: {', '.join(sorted(exercises)) or 'no cards yet'})"
            errors.append(ContentError(part.source.path, part.source.line, f"unknown exercise '{part.ref}'{hint}"))
            continue
        article.parts[index] = dataclasses.replace(
            card.block, ref=part.ref, reps=part.reps, sets=part.sets, note=part.note, source=part.source
        )


def _check_exercise_links(exercise: Exercise, text: str, exercises: dict[str, Exercise], errors: list[ContentError]) -> None:
    path = exercise.source.path
    for key in ("before", "progresses_to"):
        for slug in exercise.meta.get(key, []):
            if slug not in exercises:
                line = key_lines(text, path).get(key, 1)
                hint = suggestion(slug, exercises) or f" (no card content/exercises/{slug}.md)"
                errors.append(ContentError(path, line, f"'{key}' names an unknown exercise '{slug}'{hint}"))


def _check_order(note: IssueNote, text: str, article_slugs: set[str], errors: list[ContentError]) -> None:
    path = note.source.path
    for slug in note.order:
        if slug not in article_slugs:
            line = key_lines(text, path).get("order", 1)
            hint = suggestion(slug, article_slugs) or " (order lists article slugs, e.g. the file name without .md)"
            errors.append(ContentError(path, line, f"'order' names an unknown article '{slug}'{hint}"))

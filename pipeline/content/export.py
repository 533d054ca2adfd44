"""The loaded content as plain JSON data, for `newsletter export` and for other tools."""

from __future__ import annotations

import dataclasses
from datetime import date

from pipeline.core.model import (
    Article,
    Content,
    Exercise,
    ExerciseBlock,
    IssueNote,
    Prose,
    Source,
)


def content_to_json(content: Content) -> dict:
    return {
        "articles": [article_to_json(article) for article in content.articles],
        "exercises": {
            slug: exercise_to_json(exercise, [a.slug for a in content.articles_using(slug)])
            for slug, exercise in content.exercises.items()
        },
        "issue_notes": {week: issue_note_to_json(note) for week, note in content.issue_notes.items()},
    }


def article_to_json(article: Article) -> dict:
    data = _fields(article, exclude=("parts",))
    data["parts"] = [part_to_json(part) for part in article.parts]
    return data


def part_to_json(part: Prose | ExerciseBlock) -> dict:
    kind = "exercise" if isinstance(part, ExerciseBlock) else "prose"
    return {"type": kind, **_fields(part)}


def exercise_to_json(exercise: Exercise, used_by: list[str]) -> dict:
    return {**_fields(exercise), "name": exercise.name, "used_by": used_by}


def issue_note_to_json(note: IssueNote) -> dict:
    return _fields(note)


def _fields(obj, exclude: tuple[str, ...] = ()) -> dict:
    return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.name not in exclude}


def _plain(value):
    if isinstance(value, Source):
        return {"path": value.path, "line": value.line}
    if dataclasses.is_dataclass(value):
        return _fields(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value

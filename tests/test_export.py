"""`newsletter export`: the whole model as JSON data."""

from __future__ import annotations

import dataclasses
import json

import pytest

from pipeline.content.export import content_to_json
from pipeline.content.load import load_content
from pipeline.core.config import load_config
from pipeline.core.model import Article, Exercise, ExerciseBlock, IssueNote, Prose


@pytest.fixture
def content(make_project):
    return load_content(load_config(make_project(with_repo_content=True)))


@pytest.fixture
def exported(content):
    return json.loads(json.dumps(content_to_json(content)))


def field_names(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def test_it_is_json_serialisable_and_survives_a_round_trip(content):
    data = content_to_json(content)
    assert json.loads(json.dumps(data)) == data


def test_articles_in_order_with_every_field(content, exported):
    assert [a["slug"] for a in exported["articles"]] == [a.slug for a in content.articles]
    for data in exported["articles"]:
        assert set(data) == field_names(Article)


def test_dates_are_iso_strings(content, exported):
    first = exported["articles"][0]
    assert first["date"] == content.articles[0].date.isoformat()
    assert first["meta"]["last_reviewed"] == content.articles[0].meta["last_reviewed"].isoformat()


def test_parts_say_what_they_are_and_carry_every_field(content, exported):
    for article, data in zip(content.articles, exported["articles"], strict=True):
        assert [p["type"] for p in data["parts"]] == [
            "exercise" if isinstance(p, ExerciseBlock) else "prose" for p in article.parts
        ]
        for part in data["parts"]:
            expected = field_names(ExerciseBlock if part["type"] == "exercise" else Prose) | {"type"}
            assert set(part) == expected


def test_an_exercise_block_in_full(content, exported):
    block = content.articles[0].exercises[0]
    data = next(p for p in exported["articles"][0]["parts"] if p["type"] == "exercise")
    assert data["tips"] == block.tips and data["safety"] == block.safety and data["equipment"] == block.equipment
    assert data["source"] == {"path": block.source.path, "line": block.source.line}
    assert data["other_sections"] == [
        {"title": s.title, "markdown": s.markdown, "source": {"path": s.source.path, "line": s.source.line}}
        for s in block.other_sections
    ]


def test_exercises_list_the_articles_that_use_them(content, exported):
    assert set(exported["exercises"]) == set(content.exercises)
    for slug, data in exported["exercises"].items():
        assert data["used_by"] == [a.slug for a in content.articles_using(slug)]
        assert set(data) == field_names(Exercise) | {"name", "used_by"}
        assert data["block"]["pregnancy"] == content.exercises[slug].block.pregnancy
    assert any(data["used_by"] for data in exported["exercises"].values())


def test_issue_notes(content, exported):
    note = content.issue_notes["2026-W48"]
    data = exported["issue_notes"]["2026-W48"]
    assert set(data) == field_names(IssueNote)
    assert (data["week"], data["subject"], data["order"], data["intro"]) == (
        note.week,
        note.subject,
        note.order,
        note.intro,
    )

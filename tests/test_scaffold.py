"""`newsletter new article|exercise`: a correctly named file with complete front matter and the
authoring format's headings, which builds as it is, and is never written over an existing file."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from pipeline.authoring.check.runner import check_project
from pipeline.authoring.scaffold import (
    article_text,
    new_article,
    new_exercise,
    yaml_value,
)
from pipeline.cli.main import main
from pipeline.content.fields import ARTICLE_FIELDS, ARTICLE_IMPORTED_KEYS, EXERCISE_FIELDS
from pipeline.content.frontmatter import read_front_matter
from pipeline.content.parse import parse_article, parse_exercise
from pipeline.core.config import load_config


def new(root, *args: str):
    return CliRunner().invoke(main, ["new", *args, "--root", str(root)])


def test_new_article_is_named_after_its_slug_and_dated_today(make_project):
    root = make_project()
    path = new_article(load_config(root), "Why Your Glutes Grip!", today=date(2026, 11, 25))
    assert path == root / "content" / "articles" / "why-your-glutes-grip.md"
    article = parse_article(path.read_text(encoding="utf-8"), "content/articles/why-your-glutes-grip.md")
    assert (article.title, article.date, article.slug) == (
        "Why Your Glutes Grip!",
        date(2026, 11, 25),
        "why-your-glutes-grip",
    )


def test_new_article_lists_every_front_matter_key(make_project):
    text = article_text("A title", "a-title", date(2026, 11, 25), author="Maren Ellis")
    front = read_front_matter(text, "content/articles/a-title.md")
    assert set(front.meta) == set(ARTICLE_FIELDS) - set(ARTICLE_IMPORTED_KEYS)
    assert front.meta["author"] == "Maren Ellis"


def test_new_article_has_the_headings_of_an_exercise_block(make_project):
    article = parse_article(article_text("A title", "a-title", date(2026, 11, 25)), "content/articles/a-title.md")
    [exercise] = article.exercises
    assert exercise.steps and exercise.tips and exercise.safety and exercise.progression and exercise.benefits
    assert exercise.equipment == []


def test_new_exercise_is_a_card_named_after_its_slug(make_project):
    root = make_project()
    path = new_exercise(load_config(root), "The Side-Lying Clam")
    assert path == root / "content" / "exercises" / "side-lying-clam.md"
    card = parse_exercise(path.read_text(encoding="utf-8"), "content/exercises/side-lying-clam.md")
    assert card.name == "The Side-Lying Clam"
    assert card.block.steps and card.block.tips and card.block.safety and card.block.progression
    assert set(read_front_matter(path.read_text(encoding="utf-8"), "x").meta) == set(EXERCISE_FIELDS)


@pytest.mark.parametrize(
    "title", ["Glutes: why they grip", "2026", "yes", "#1 tip", '"Quoted" words', "Crème brûlée core"]
)
def test_titles_that_yaml_would_misread_are_quoted(title):
    text = article_text(title, "t", date(2026, 11, 25))
    assert read_front_matter(text, "content/articles/t.md").meta["title"] == title
    assert yaml_value(title) in text


def test_a_new_article_builds_and_check_lists_its_todos(make_project):
    root = make_project()
    assert new(root, "article", "A fresh start").exit_code == 0
    assert new(root, "exercise", "Wall push").exit_code == 0
    report = check_project(root, "latest")
    rules = {f.rule for f in report.findings}
    assert not any(rule.startswith(("load", "render")) for rule in rules), report.findings
    assert "content.todo" in rules  # the placeholders, until written
    assert "exercise.no-pregnancy" in rules  # the card's pregnancy value, until set


def test_new_refuses_to_overwrite_a_file(make_project):
    root = make_project({"content/articles/a-fresh-start.md": "mine\n"})
    result = new(root, "article", "A fresh start")
    assert result.exit_code == 2
    assert "content/articles/a-fresh-start.md already exists" in result.output
    assert (root / "content" / "articles" / "a-fresh-start.md").read_text(encoding="utf-8") == "mine\n"


def test_a_title_without_letters_is_refused(make_project):
    result = new(make_project(), "exercise", "!!!")
    assert result.exit_code == 2
    assert "has no letters or digits" in result.output


def test_new_says_what_it_created_and_what_next(make_project):
    result = new(make_project(), "exercise", "Wall push")
    assert result.output.startswith("Created ")
    assert "wall-push.md" in result.output.splitlines()[0]
    assert "newsletter check" in result.output


def test_new_article_is_dated_in_the_writers_time_zone(make_project):
    root = make_project()
    (root / "newsletter.toml").write_text('[email]\ntimezone = "Pacific/Kiritimati"\n', encoding="utf-8")  # UTC+14
    path = new_article(load_config(root), "Late night")
    front = read_front_matter(path.read_text(encoding="utf-8"), "x")
    assert front.meta["date"] == datetime.now(ZoneInfo("Pacific/Kiritimati")).date().isoformat()

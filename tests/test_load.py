"""Loading content/: every file parsed, references resolved, every problem reported at once."""

from __future__ import annotations

import dataclasses

import pytest

from pipeline.content.load import load_content
from pipeline.core.config import load_config
from pipeline.core.errors import ContentErrors
from pipeline.core.model import Prose
from pipeline.core.weeks import week_of


def article(title: str, day: str, body: str = "Text.\n", extra: str = "") -> str:
    return f"---\ntitle: {title}\ndate: {day}\nsummary: About {title}.\n{extra}---\n\n{body}"


def card(name: str, extra: str = "") -> str:
    return (
        f"---\nname: {name}\npregnancy: safe\n{extra}---\n\nSummary of "
        f"{name}.\n\n### Tips\n\n1 - Go slowly.\n\n### Safety\n\nStop if it "
        "hurts.\n"
    )


CLAM = card("Side-lying clam")
HIP = card("Hip extension", extra="cautions: [Keep it small with a prolapse.]\n")
USES_HIP = "Intro.\n\n```exercise\nref: hip-extension\nreps: 10\nnote: Slowly.\n```\n\nOutro.\n"


def load(make_project, files: dict[str, str]):
    return load_content(load_config(make_project(files)))


def load_errors(make_project, files: dict[str, str]) -> list[str]:
    with pytest.raises(ContentErrors) as caught:
        load(make_project, files)
    return [str(error) for error in caught.value.errors]


class TestTheRealContent:
    @pytest.fixture
    def content(self, make_project):
        return load_content(load_config(make_project(with_repo_content=True)))

    def test_loads_without_errors(self, content):
        assert len(content.articles) >= 3
        assert len(content.exercises) >= 4
        assert {"piriformis-stretch", "diaphragmatic-breathing", "heel-slides", "side-lying-clam"} <= set(
            content.exercises
        )

    def test_two_weeks_have_content_and_the_newest_is_in_week_48(self, content):
        weeks = {week_of(a.date) for a in content.articles}
        assert {"2026-W47", "2026-W48"} <= weeks
        assert week_of(content.articles[0].date) == "2026-W48"
        assert content.articles[0].slug == "why-your-glutes-grip"

    def test_the_week_48_note_orders_real_articles(self, content):
        note = content.issue_notes["2026-W48"]
        slugs = {a.slug for a in content.articles if week_of(a.date) == "2026-W48"}
        assert note.subject and note.intro and note.order and set(note.order) <= slugs

    def test_library_exercises_are_used_by_articles(self, content):
        used = {slug for slug in content.exercises if content.articles_using(slug)}
        assert len(used) >= 2
        for article in content.articles:
            for block in article.exercises:
                if block.ref:
                    assert block.safety == content.exercises[block.ref].block.safety
                    assert block.source.path == article.source.path

    def test_every_exercise_readers_see_has_safety_notes(self, content):
        for article in content.articles:
            for block in article.exercises:
                assert block.safety, f"{block.source}: {block.name} has no safety section"


class TestOrdering:
    def test_articles_newest_first_then_by_slug(self, make_project):
        content = load(
            make_project,
            {
                "content/articles/b-old.md": article("Old", "2026-11-17"),
                "content/articles/b-new.md": article("New B", "2026-11-24"),
                "content/articles/a-new.md": article("New A", "2026-11-24"),
            },
        )
        assert [a.slug for a in content.articles] == ["a-new", "b-new", "b-old"]

    def test_exercises_and_notes_are_keyed_by_slug_and_week(self, make_project):
        content = load(
            make_project,
            {
                "content/exercises/side-lying-clam.md": CLAM,
                "content/issues/2026-W47.md": "---\nsubject: Hi\n---\nHello.\n",
            },
        )
        assert list(content.exercises) == ["side-lying-clam"]
        assert content.exercises["side-lying-clam"].name == "Side-lying clam"
        assert content.issue_notes["2026-W47"].intro == "Hello."

    def test_an_empty_project(self, make_project):
        content = load(make_project, {})
        assert (content.articles, content.exercises, content.issue_notes) == ([], {}, {})

    def test_only_the_three_content_folders_are_read(self, make_project):
        content = load(
            make_project,
            {
                "content/README.md": "no front matter here",
                "content/articles/images/notes.md": "nor here",
                "content/articles/photo.txt": "not Markdown",
            },
        )
        assert content.articles == []


class TestExerciseReferences:
    def test_a_fence_becomes_a_copy_of_the_card_with_the_articles_own_details(self, make_project):
        content = load(
            make_project,
            {
                "content/exercises/hip-extension.md": HIP,
                "content/articles/glutes.md": article("Glutes", "2026-11-26", USES_HIP),
            },
        )
        (glutes,) = content.articles
        intro, block, outro = glutes.parts
        assert isinstance(intro, Prose) and isinstance(outro, Prose)
        library = content.exercises["hip-extension"].block
        expected = dataclasses.replace(
            library, ref="hip-extension", reps="10", sets=None, note="Slowly.", source=block.source
        )
        assert block == expected
        assert block is not library
        assert (block.source.path, block.source.line) == ("content/articles/glutes.md", 9)
        assert (library.ref, library.reps, library.source.path) == (None, None, "content/exercises/hip-extension.md")
        assert block.cautions == ["Keep it small with a prolapse."]

    def test_articles_using_an_exercise(self, make_project):
        content = load(
            make_project,
            {
                "content/exercises/hip-extension.md": HIP,
                "content/exercises/side-lying-clam.md": CLAM,
                "content/articles/glutes.md": article("Glutes", "2026-11-26", USES_HIP),
            },
        )
        assert [a.slug for a in content.articles_using("hip-extension")] == ["glutes"]
        assert content.articles_using("side-lying-clam") == []

    def test_an_unknown_ref_suggests_the_closest_slug(self, make_project):
        body = "Intro.\n\n```exercise\nref: hip-extention\n```\n"
        assert load_errors(
            make_project,
            {
                "content/exercises/hip-extension.md": HIP,
                "content/exercises/side-lying-clam.md": CLAM,
                "content/articles/glutes.md": article("Glutes", "2026-11-26", body),
            },
        ) == ["content/articles/glutes.md:9: unknown exercise 'hip-extention': did you mean 'hip-extension'?"]

    def test_an_unknown_ref_with_nothing_close_lists_the_cards(self, make_project):
        body = "```exercise\nref: plank\n```\n"
        assert load_errors(
            make_project,
            {
                "content/exercises/side-lying-clam.md": CLAM,
                "content/articles/glutes.md": article("Glutes", "2026-11-26", body),
            },
        ) == [
            "content/articles/glutes.md:7: unknown exercise 'plank' (add "
            "content/exercises/plank.md, or use one of: side-lying-clam)"
        ]

    def test_before_and_progresses_to_must_name_cards(self, make_project):
        assert load_errors(
            make_project,
            {
                "content/exercises/side-lying-clam.md": card(
                    "Clam", extra="before: [hip-extention]\nprogresses_to: [banded-clam]\n"
                ),
                "content/exercises/hip-extension.md": HIP,
            },
        ) == [
            "content/exercises/side-lying-clam.md:4: 'before' names an unknown "
            "exercise 'hip-extention': did you mean 'hip-extension'?",
            "content/exercises/side-lying-clam.md:5: 'progresses_to' names an "
            "unknown exercise 'banded-clam' (no card "
            "content/exercises/banded-clam.md)",
        ]


class TestDuplicatesAndCrossChecks:
    def test_two_articles_with_one_slug(self, make_project):
        assert load_errors(
            make_project,
            {
                "content/articles/glutes.md": article("Glutes", "2026-11-26"),
                "content/articles/glutes-again.md": article("Again", "2026-11-20", extra="slug: glutes\n"),
            },
        ) == [
            "content/articles/glutes.md:1: the slug 'glutes' is already used by the "
            "article content/articles/glutes-again.md: rename the file or set a "
            "different slug"
        ]

    def test_an_explicit_slug_is_reported_at_its_line(self, make_project):
        assert load_errors(
            make_project,
            {
                "content/articles/a.md": article("A", "2026-11-26", extra="slug: same\n"),
                "content/articles/b.md": article("B", "2026-11-26", extra="slug: same\n"),
            },
        ) == [
            "content/articles/b.md:5: the slug 'same' is already used by the article "
            "content/articles/a.md: rename the file or set a different slug"
        ]

    def test_two_cards_with_one_slug(self, make_project):
        assert load_errors(
            make_project,
            {
                "content/exercises/Hip_Extension.md": HIP,
                "content/exercises/hip-extension.md": HIP,
            },
        ) == [
            "content/exercises/hip-extension.md:1: the slug 'hip-extension' is "
            "already used by the exercise card content/exercises/Hip_Extension.md: "
            "rename the file or set a different slug"
        ]

    def test_an_issue_order_naming_an_unknown_article(self, make_project):
        assert load_errors(
            make_project,
            {
                "content/articles/why-glutes-grip.md": article("Glutes", "2026-11-26"),
                "content/issues/2026-W48.md": "---\nsubject: Hi\norder: [why-glutes-grip, why-glute-grip, "
                "breathing]\n---\n",
            },
        ) == [
            "content/issues/2026-W48.md:3: 'order' names an unknown article "
            "'why-glute-grip': did you mean 'why-glutes-grip'?",
            "content/issues/2026-W48.md:3: 'order' names an unknown article "
            "'breathing' (order lists article slugs, e.g. the file name without .md)",
        ]

    def test_a_bad_week_file_name(self, make_project):
        assert load_errors(make_project, {"content/issues/week-48.md": "---\n---\n"}) == [
            "content/issues/week-48.md:1: the file name 'week-48' is not an ISO "
            "week: name the file like 2026-W48.md (year, W, week number)"
        ]


class TestEveryErrorAtOnce:
    def test_errors_from_every_file_are_collected_and_sorted(self, make_project):
        files = {
            "content/articles/a.md": "---\ntitle: A\ndate: 2026-02-30\nsummary: x\n---\n",
            "content/articles/b.md": "No front matter.\n",
            "content/articles/c.md": article("C", "2026-11-26", "```exercise\nref: nothing\n```\n"),
            "content/exercises/clam.md": "---\nname: Clam\npregnancy: sometimes\n---\n\n### Tips\n",
            "content/issues/2026-W48.md": "---\norder: [missing]\n---\n",
        }
        messages = load_errors(make_project, files)
        assert [m.split(": ", 1)[0] for m in messages] == [
            "content/articles/a.md:3",
            "content/articles/b.md:1",
            "content/articles/c.md:7",
            "content/exercises/clam.md:3",
            "content/exercises/clam.md:6",
            "content/issues/2026-W48.md:2",
        ]

    def test_a_file_that_is_not_utf8(self, make_project):
        root = make_project({})
        (root / "content/articles/latin1.md").write_bytes("---\ntitle: Caf\xe9\n---\n".encode("latin-1"))
        with pytest.raises(ContentErrors) as caught:
            load_content(load_config(root))
        assert [str(e) for e in caught.value.errors] == [
            "content/articles/latin1.md:1: not UTF-8 text (invalid continuation byte "
            "at byte 14): save the file as UTF-8"
        ]

    def test_the_exit_code_is_the_content_error_one(self, make_project):
        with pytest.raises(ContentErrors) as caught:
            load(make_project, {"content/articles/b.md": "No front matter.\n"})
        assert caught.value.exit_code == 2


class TestFilesFromOtherTools:
    """What Hugo, Jekyll, Pelican and Zola write is forgiven: warned about once, or an error only
    with [content] strict = true."""

    FILES = {
        "content/articles/a.md": article("A", "2026-11-24", extra="categories: [core]\nlastmod: 2026-11-25\n"),
        "content/articles/b.md": article("B", "2026-11-25", extra="categories: [rest]\n"),
    }

    def test_an_unknown_key_is_one_warning_however_many_files_have_it(self, make_project):
        content = load(make_project, self.FILES)
        assert [str(w).split(" (")[0] for w in content.warnings] == [
            "content/articles/a.md:5: warning: unknown key 'categories' ignored",
            "content/articles/a.md:6: warning: unknown key 'lastmod' ignored; [content] strict = true in "
            "newsletter.toml makes this an error",
        ]
        assert "(and in 1 more file)" in content.warnings[0].message

    def test_strict_makes_every_unknown_key_an_error(self, make_project):
        root = make_project(self.FILES)
        (root / "newsletter.toml").write_text("[content]\nstrict = true\n")
        with pytest.raises(ContentErrors) as caught:
            load_content(load_config(root))
        assert [str(e).split(" (known")[0] for e in caught.value.errors] == [
            "content/articles/a.md:5: unknown key 'categories' in the front matter",
            "content/articles/a.md:6: unknown key 'lastmod' in the front matter",
            "content/articles/b.md:5: unknown key 'categories' in the front matter",
        ]

    def test_strict_keeps_did_you_mean_for_a_near_miss(self, make_project):
        root = make_project({"content/articles/a.md": article("A", "2026-11-24", extra="tagz: [core]\n")})
        (root / "newsletter.toml").write_text("[content]\nstrict = true\n")
        with pytest.raises(ContentErrors) as caught:
            load_content(load_config(root))
        assert [str(e) for e in caught.value.errors] == [
            "content/articles/a.md:5: unknown key 'tagz' in the front matter: did you mean 'tags'?"
        ]

    def test_a_markdown_file_is_read(self, make_project):
        content = load(make_project, {"content/articles/old-post.markdown": article("Old", "2026-11-24")})
        assert [(a.slug, a.source.path) for a in content.articles] == [
            ("old-post", "content/articles/old-post.markdown")
        ]

    def test_the_time_of_day_orders_articles_of_one_day(self, make_project):
        content = load(
            make_project,
            {
                "content/articles/a-morning.md": article("Morning", "2026-11-24 08:00"),
                "content/articles/b-evening.md": article("Evening", "2026-11-24T20:30:00+01:00"),
                "content/articles/c-day.md": article("Day", "2026-11-24"),
            },
        )
        assert [a.slug for a in content.articles] == ["b-evening", "a-morning", "c-day"]

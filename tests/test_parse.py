"""The authoring format: articles, exercise blocks, library cards and issue notes."""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from helpers import REPO

from pipeline.content.exercise_blocks import section_kind
from pipeline.content.fields import exercise_slug
from pipeline.content.parse import parse_article, parse_exercise, parse_issue_note
from pipeline.core.errors import ContentErrors
from pipeline.core.model import ExerciseBlock, LoadWarning, Prose

ARTICLE_PATH = "content/articles/glutes.md"
CARD_PATH = "content/exercises/side-lying-clam.md"
FRONT = """\
---
title: Glutes
date: 2026-11-26
summary: Why they grip.
---
"""
FRONT_LINES = FRONT.count("\n")
FRONT_KEYS = "title: Glutes\ndate: 2026-11-26\nsummary: Why they grip.\n"
DATE_HELP = "(a time may follow: 2026-11-26 08:30)"


def article_text(body: str, front: str = FRONT) -> str:
    return front + textwrap.dedent(body).lstrip("\n")


def parse_body(body: str):
    return parse_article(article_text(body), ARTICLE_PATH)


def only_exercise(body: str) -> ExerciseBlock:
    exercises = parse_body(body).exercises
    assert len(exercises) == 1
    return exercises[0]


def errors(parse, text: str, path: str) -> list[str]:
    with pytest.raises(ContentErrors) as caught:
        parse(text, path)
    return [str(error) for error in caught.value.errors]


def article_errors(body: str, front: str = FRONT) -> list[str]:
    return errors(parse_article, article_text(body, front), ARTICLE_PATH)


def front_errors(front_lines: str) -> list[str]:
    return errors(parse_article, f"---\n{textwrap.dedent(front_lines).lstrip()}---\n\nBody.\n", ARTICLE_PATH)


def real(path: str) -> str:
    return (REPO / path).read_text(encoding="utf-8")


# ------------------------------------------------------------------ the real content


GLUTE_ARTICLE = "content/articles/why-your-glutes-grip.md"


@pytest.fixture(scope="module")
def article():
    return parse_article(real(GLUTE_ARTICLE), GLUTE_ARTICLE)


@pytest.fixture(scope="module")
def hip_extension(article):
    (block,) = [
        block for block in article.exercises if block.ref is None
    ]  # the other one is a card, for one stage (tests/test_stages.py)
    return block


class TestTheGluteArticle:
    PATH = GLUTE_ARTICLE

    def test_front_matter(self, article):
        assert article.slug == "why-your-glutes-grip"
        assert article.date == date(2026, 11, 26)
        assert article.summary and article.author and not article.draft and article.newsletter
        assert article.meta["last_reviewed"] == date(2026, 11, 10)
        assert article.meta["reviewed_by"]

    def test_prose_then_the_inline_exercise(self, article):
        assert [type(part) for part in article.parts][:2] == [Prose, ExerciseBlock]
        assert "kneel" in article.parts[0].markdown.lower()
        assert (
            article.parts[0].source.line
            == real(self.PATH).splitlines().index(article.parts[0].markdown.splitlines()[0]) + 1
        )

    def test_the_exercise_heading_names_the_block(self, hip_extension):
        assert hip_extension.name == "The hip extension"
        assert hip_extension.slug == "hip-extension"
        assert real(self.PATH).splitlines()[hip_extension.source.line - 1] == "## Exercise - The hip extension"
        assert hip_extension.ref is None

    def test_exactly_four_pasted_tips(self, hip_extension):
        assert len(hip_extension.tips) == 4
        assert all(not tip[0].isdigit() for tip in hip_extension.tips)
        assert "20" in hip_extension.tips[1] and "diaphragmatic breath" in hip_extension.tips[2]

    def test_steps_benefits_progression_safety_and_before(self, hip_extension):
        assert len(hip_extension.steps) >= 4
        assert "TrA" in hip_extension.benefits and "gravity" in hip_extension.benefits
        assert "20" in hip_extension.progression
        assert "pregnancy" in hip_extension.safety and "prolapse" in hip_extension.safety
        assert "(../exercises/piriformis-stretch.md)" in hip_extension.before
        assert hip_extension.equipment == []
        assert hip_extension.summary and hip_extension.other_sections == []


@pytest.mark.parametrize(
    "path", sorted(p.relative_to(REPO).as_posix() for p in (REPO / "content/exercises").glob("*.md"))
)
def test_every_real_card_is_complete(path):
    card = parse_exercise(real(path), path).block
    assert card.pregnancy in ("safe", "modify", "avoid")
    assert card.cautions and card.tips and card.steps and card.progression and card.safety
    assert card.equipment is not None
    meta = parse_exercise(real(path), path).meta
    assert meta["reviewed_by"] and isinstance(meta["last_reviewed"], date)


# ------------------------------------------------------------------ article front matter


class TestArticleFrontMatter:
    def test_defaults(self):
        article = parse_article(article_text("Hello.\n"), "content/articles/why-glutes-grip.md")
        assert article.slug == "why-glutes-grip"
        assert (article.title, article.date, article.summary) == ("Glutes", date(2026, 11, 26), "Why they grip.")
        assert (article.tags, article.author, article.image, article.draft, article.newsletter) == (
            [],
            None,
            None,
            False,
            True,
        )
        assert article.meta == {}
        assert article.source.path == "content/articles/why-glutes-grip.md" and article.source.line == 1

    def test_every_optional_key(self):
        front = """\
            ---
            title: Glutes
            date: 2026-11-26
            summary: Why they grip.
            tags: [glutes, pelvic floor]
            author: Maren Ellis
            image: images/kneeling.jpg
            image_alt: A woman kneeling on a mat
            slug: glutes-that-grip
            draft: true
            newsletter: false
            reviewed_by: A. Physio
            last_reviewed: 2026-11-01
            ---
            """
        article = parse_article(textwrap.dedent(front) + "Body.\n", ARTICLE_PATH)
        assert article.tags == ["glutes", "pelvic floor"]
        assert (article.author, article.image, article.image_alt) == (
            "Maren Ellis",
            "images/kneeling.jpg",
            "A woman kneeling on a mat",
        )
        assert (article.slug, article.draft, article.newsletter) == ("glutes-that-grip", True, False)
        assert article.meta == {"reviewed_by": "A. Physio", "last_reviewed": date(2026, 11, 1)}

    def test_a_file_name_that_is_not_a_slug_gives_a_slug(self):
        assert parse_article(article_text("x\n"), "content/articles/Why Glutes Grip!.md").slug == "why-glutes-grip"

    def test_a_missing_required_key(self):
        assert front_errors("title: Glutes\ndate: 2026-11-26\n") == [
            f"{ARTICLE_PATH}:1: missing required key 'summary' in the front matter: "
            "add a line  summary: One or two sentences; also the email preview text"
        ]

    def test_an_empty_required_key(self):
        assert front_errors("title: Glutes\ndate: 2026-11-26\nsummary:\n") == [
            f"{ARTICLE_PATH}:4: 'summary' is empty: write it like  summary: One or "
            "two sentences; also the email preview text"
        ]

    def test_an_unknown_key_is_forgiven_and_noted_with_its_line(self):
        article = parse_article(f"---\n{FRONT_KEYS}categories: [core]\n---\n\nBody.\n", ARTICLE_PATH)
        assert article.forgiven == [LoadWarning(ARTICLE_PATH, 5, "categories", "")]

    def test_a_near_miss_of_a_key_carries_did_you_mean(self):
        article = parse_article(f"---\n{FRONT_KEYS}tagz: [a]\n---\n\nBody.\n", ARTICLE_PATH)
        assert article.forgiven[0].hint == ": did you mean 'tags'?"

    @pytest.mark.parametrize("key", ["subtitle", "duration", "lastmod", "categories"])
    def test_a_key_that_is_not_a_near_miss_gets_no_did_you_mean(self, key):
        article = parse_article(f"---\n{FRONT_KEYS}{key}: x\n---\n\nBody.\n", ARTICLE_PATH)
        assert article.forgiven == [LoadWarning(ARTICLE_PATH, 5, key, "")]

    @pytest.mark.parametrize(
        "written, tags", [("yoga", ["yoga"]), ("glutes, core", ["glutes", "core"]), ("[a, b]", ["a", "b"])]
    )
    def test_tags_may_be_one_string(self, written, tags):
        article = parse_article(f"---\n{FRONT_KEYS}tags: {written}\n---\n\nBody.\n", ARTICLE_PATH)
        assert article.tags == tags

    def test_tags_must_not_be_a_set_of_keys(self):
        assert front_errors("title: Glutes\ndate: 2026-11-26\nsummary: x\ntags: {a: 1}\n") == [
            f"{ARTICLE_PATH}:5: 'tags' must be a list, not a set of keys: write it like  tags: [glutes, pelvic floor]"
        ]

    def test_draft_must_be_true_or_false(self):
        assert front_errors("title: Glutes\ndate: 2026-11-26\nsummary: x\ndraft: maybe\n") == [
            f"{ARTICLE_PATH}:5: 'draft' must be true or false, not 'maybe'"
        ]

    def test_a_title_must_be_text(self):
        assert front_errors("title: 2026\ndate: 2026-11-26\nsummary: x\n") == [
            f"{ARTICLE_PATH}:2: 'title' must be text, not a number (2026): put the value in quotes"
        ]

    def test_a_date_that_does_not_exist(self):
        assert front_errors("title: Glutes\ndate: 2026-11-31\nsummary: x\n") == [
            f"{ARTICLE_PATH}:3: 'date' 2026-11-31 is not a real date (day is out of "
            "range for month): write it as YYYY-MM-DD, e.g. 2026-11-26"
        ]

    def test_a_date_in_another_format(self):
        assert front_errors("title: Glutes\ndate: 26/11/2026\nsummary: x\n") == [
            f"{ARTICLE_PATH}:3: 'date' must be a date written YYYY-MM-DD {DATE_HELP}, e.g. 2026-11-26, not '26/11/2026'"
        ]

    # Parsed values as Hugo, Jekyll, Pelican and Zola write them (corpus: tests/import_corpus/).
    @pytest.mark.parametrize(
        "written, published",
        [
            ("2021-08-13T03:12:00Z", datetime(2021, 8, 13, 3, 12, tzinfo=UTC)),
            ("2018-01-25 22:22:22 +0530", datetime(2018, 1, 25, 22, 22, 22, tzinfo=timezone(timedelta(hours=5.5)))),
            ("2022-05-10 8:30:00+00:00", datetime(2022, 5, 10, 8, 30, tzinfo=UTC)),
            ("2015-12-29 20:28", datetime(2015, 12, 29, 20, 28)),
            ("2025-06-19T04:26:46.262Z", datetime(2025, 6, 19, 4, 26, 46, tzinfo=UTC)),
        ],
    )
    def test_a_datetime_keeps_its_time(self, written, published):
        article = parse_article(f"---\ntitle: G\ndate: {written}\nsummary: x\n---\n\nBody.\n", ARTICLE_PATH)
        assert (article.date, article.published) == (published.date(), published)

    def test_a_date_alone_has_no_time(self):
        article = parse_article(f"---\n{FRONT_KEYS}---\n\nBody.\n", ARTICLE_PATH)
        assert (article.date, article.published) == (date(2026, 11, 26), None)

    def test_an_impossible_time_is_an_error(self):
        (message,) = front_errors("title: G\ndate: 2026-11-26 25:00\nsummary: x\n")
        assert message.startswith(f"{ARTICLE_PATH}:3: 'date' 2026-11-26 25:00 is not a real date (hour must be")

    def test_a_bad_last_reviewed_date(self):
        assert front_errors("title: G\ndate: 2026-11-26\nsummary: x\nlast_reviewed: November\n") == [
            f"{ARTICLE_PATH}:5: 'last_reviewed' must be a date written YYYY-MM-DD {DATE_HELP}, e.g. 2026-11-01, "
            "not 'November'"
        ]

    @pytest.mark.parametrize("key", ["description", "excerpt"])
    def test_a_description_or_excerpt_is_the_summary_when_there_is_none(self, key):
        article = parse_article(f"---\ntitle: G\ndate: 2026-11-26\n{key}: What it is.\n---\n\nBody.\n", ARTICLE_PATH)
        assert article.summary == "What it is."

    def test_a_summary_wins_over_a_description(self):
        front = "title: G\ndate: 2026-11-26\nsummary: Ours.\ndescription: Theirs.\n"
        assert parse_article(f"---\n{front}---\n\nBody.\n", ARTICLE_PATH).summary == "Ours."

    @pytest.mark.parametrize("marker", ["<!--more-->", "<!-- more -->"])
    def test_the_text_above_a_more_marker_is_the_summary(self, marker):
        body = f"The *first* part, with [a link](x.md).\n\n{marker}\n\nThe rest.\n"
        article = parse_article(f"---\ntitle: G\ndate: 2026-11-26\n---\n\n{body}", ARTICLE_PATH)
        assert article.summary == "The first part, with a link."
        assert "more" not in "".join(part.markdown for part in article.parts)

    def test_a_slug_must_be_a_slug(self):
        assert front_errors("title: G\ndate: 2026-11-26\nsummary: x\nslug: Glutes Grip\n") == [
            f"{ARTICLE_PATH}:5: 'slug' must be a slug (lowercase letters, digits and "
            "hyphens) like 'glutes-grip', not 'Glutes Grip'"
        ]

    def test_an_image_needs_alt_text(self):
        assert front_errors("title: G\ndate: 2026-11-26\nsummary: x\nimage: images/a.jpg\n") == [
            f"{ARTICLE_PATH}:5: 'image' needs 'image_alt' too: describe the picture for readers who cannot see it"
        ]

    def test_every_problem_of_a_file_is_reported_together(self):
        assert front_errors("title: G\ndate: someday\ndraft: 1\n") == [
            f"{ARTICLE_PATH}:1: missing required key 'summary' in the front matter: "
            "add a line  summary: One or two sentences; also the email preview text",
            f"{ARTICLE_PATH}:3: 'date' must be a date written YYYY-MM-DD {DATE_HELP}, e.g. 2026-11-26, not 'someday'",
            f"{ARTICLE_PATH}:4: 'draft' must be true or false, not a number (1)",
        ]

    def test_a_file_without_front_matter(self):
        assert errors(parse_article, "# Glutes\n\nText.\n", ARTICLE_PATH) == [
            f"{ARTICLE_PATH}:1: no front matter: start the file with a '---' line, "
            "then 'key: value' lines, then a closing '---' line"
        ]


# ------------------------------------------------------------------ article parts


class TestArticleParts:
    def test_prose_only(self):
        article = parse_body("Intro.\n\n## A heading\n\nMore.\n")
        assert [(type(p), p.markdown, p.source.line) for p in article.parts] == [
            (Prose, "Intro.\n\n## A heading\n\nMore.", FRONT_LINES + 1)
        ]

    def test_an_exercise_block_runs_to_the_next_level_2_heading(self):
        article = parse_body(
            """
            Intro.

            ## Exercise: heel slides

            Slide a heel.

            ### Tips

            - Slowly.

            ## Afterwards

            Rest.
            """
        )
        intro, exercise, after = article.parts
        assert intro.markdown == "Intro."
        assert (exercise.name, exercise.tips, exercise.source.line) == ("heel slides", ["Slowly."], FRONT_LINES + 3)
        assert (after.markdown, after.source.line) == ("## Afterwards\n\nRest.", FRONT_LINES + 11)

    def test_a_level_1_heading_also_ends_the_block(self):
        article = parse_body("## Exercise - clams\n\nSummary.\n\n# Part two\n\nText.\n")
        assert [type(p) for p in article.parts] == [ExerciseBlock, Prose]
        assert article.parts[1].markdown == "# Part two\n\nText."

    def test_two_exercises_in_a_row(self):
        article = parse_body("## Exercise - clams\n\nOne.\n\n## Exercise - bridges\n\nTwo.\n")
        assert [(e.slug, e.summary) for e in article.exercises] == [("clams", "One."), ("bridges", "Two.")]

    @pytest.mark.parametrize(
        "heading",
        [
            "## Exercise - the hip extension",
            "## Exercise – the hip extension",
            "## Exercise — the hip extension",
            "## Exercise: the hip extension",
            "## Exercise:the hip extension",
            "## exercise - the hip extension",
            "## Exercise 2 - the hip extension",
        ],
    )
    def test_exercise_heading_separators(self, heading):
        block = only_exercise(f"{heading}\n\nSummary.\n")
        assert (block.name, block.slug) == ("the hip extension", "hip-extension")

    @pytest.mark.parametrize(
        "heading", ["## Exercises for week one", "## Exercise and sleep", "### Exercise - not level 2"]
    )
    def test_headings_that_are_not_exercise_blocks(self, heading):
        assert parse_body(f"{heading}\n\nText.\n").exercises == []

    def test_headings_inside_fenced_code_are_ignored(self):
        article = parse_body(
            """
            ```markdown
            ## Exercise - not real
            ```

            ## Exercise - clams

            ~~~
            ### Tips
            ~~~

            ### Tips

            - Real tip.
            """
        )
        (block,) = article.exercises
        assert block.name == "clams"
        assert block.summary == "~~~\n### Tips\n~~~"
        assert block.tips == ["Real tip."]
        assert "## Exercise - not real" in article.parts[0].markdown

    @pytest.mark.parametrize("heading", ["## Exercise", "## Exercise -", "## Exercise:  "])
    def test_an_exercise_heading_with_no_name(self, heading):
        body = f"Intro.\n\n{heading}\n\nText.\n"
        assert article_errors(body) == [
            f"{ARTICLE_PATH}:{FRONT_LINES + 3}: exercise heading '{heading.strip()}' "
            "has no name: write it like  ## Exercise - the hip extension"
        ]

    def test_two_inline_exercises_with_the_same_slug(self):
        assert article_errors("## Exercise - clams\n\nOne.\n\n## Exercise - the clams\n\nTwo.\n") == [
            f"{ARTICLE_PATH}:{FRONT_LINES + 5}: a second exercise with the slug "
            f"'clams' in this article (first on line {FRONT_LINES + 1}): give it a "
            "different name"
        ]


class TestExerciseSlugs:
    @pytest.mark.parametrize(
        "name, slug",
        [
            ("the hip extension", "hip-extension"),
            ("The Side-Lying Clam!", "side-lying-clam"),
            ("Theraband row", "theraband-row"),
            ("Pilates 100s", "pilates-100s"),
            ("Bébé carry", "bebe-carry"),
            ("the  *cat–cow*  stretch", "cat-cow-stretch"),
        ],
    )
    def test_slug_from_name(self, name, slug):
        assert exercise_slug(name) == slug


# ------------------------------------------------------------------ sections


class TestSectionKinds:
    @pytest.mark.parametrize(
        "heading, kind",
        [
            ("Why it helps", "benefits"),
            ("Benefits", "benefits"),
            ("How to do it", "steps"),
            ("Steps", "steps"),
            ("Technique", "steps"),
            ("Hip extension top tips", "tips"),
            ("TIPS", "tips"),
            ("Progression", "progression"),
            ("When to progress", "progression"),
            ("Safety", "safety"),
            ("A word of caution", "safety"),
            ("In pregnancy", "safety"),
            ("If you have a prolapse", "safety"),
            ("Before you start", "before"),
            ("Do this first", "before"),
            ("Prerequisites", "before"),
            ("Equipment", "equipment"),
            ("Video", "video"),
            ("Muscles worked", None),
            ("Multiple sets", None),  # "tip" must start a word
        ],
    )
    def test_each_keyword(self, heading, kind):
        assert section_kind(heading) == kind

    @pytest.mark.parametrize(
        "heading, kind",
        [
            ("Safety tips", "safety"),
            ("Tips for pregnancy", "safety"),
            ("Step-by-step video", "video"),
            ("Before you progress", "progression"),
            ("How to progress", "progression"),
            ("Equipment to get before you start", "equipment"),
            ("First steps", "before"),
            ("Technique tips", "tips"),
            ("Why this technique works", "benefits"),
        ],
    )
    def test_precedence_when_two_kinds_match(self, heading, kind):
        assert section_kind(heading) == kind

    def test_a_heading_picks_its_section(self):
        block = only_exercise("## Exercise - clams\n\n### Before you progress\n\nTwenty good reps.\n")
        assert (block.progression, block.before) == ("Twenty good reps.", "")


PASTED_TIPS = {
    "hyphen": "1 - Breathe out as you lift.\n\n2 - Lift from the hip,\nnot the ribs.\n\n3 - Stop when it slips.",
    "en dash": "1 – Breathe out as you lift.\n\n2 – Lift from the hip,\nnot the ribs.\n\n3 – Stop when it slips.",
    "em dash": "1 — Breathe out as you lift.\n\n2 — Lift from the hip,\nnot the ribs.\n\n3 — Stop when it slips.",
    "no space before the dash": "1- Breathe out as you lift.\n\n2– Lift from the hip,\nnot the "
    "ribs.\n\n3— Stop when it slips.",
    "numbered with a dot": "1. Breathe out as you lift.\n\n2. Lift from the hip,\nnot the "
    "ribs.\n\n3. Stop when it slips.",
    "tight ordered list": "1. Breathe out as you lift.\n2. Lift from the hip,\n   not the "
    "ribs.\n3. Stop when it slips.",
    "ordered list, lazy lines": "1) Breathe out as you lift.\n2) Lift from the hip,\nnot the ribs.\n3) "
    "Stop when it slips.",
    "bullet list": "- Breathe out as you lift.\n- Lift from the hip,\n  not the ribs.\n- Stop when it slips.",
    "pasted, no blank lines": "1 - Breathe out as you lift.\n2 - Lift from the hip,\nnot the ribs.\n3 "
    "- Stop when it slips.",
    "plain paragraphs": "Breathe out as you lift.\n\nLift from the hip,\nnot the ribs.\n\nStop when it slips.",
}
EXPECTED_TIPS = ["Breathe out as you lift.", "Lift from the hip,\nnot the ribs.", "Stop when it slips."]


class TestListSections:
    @pytest.mark.parametrize("style", PASTED_TIPS)
    def test_tips_in_every_style_give_the_same_list(self, style):
        block = only_exercise(f"## Exercise - bridge\n\n### Top tips\n\n{PASTED_TIPS[style]}\n")
        assert block.tips == EXPECTED_TIPS

    @pytest.mark.parametrize("style", ["en dash", "tight ordered list"])
    def test_steps_accept_the_same_styles(self, style):
        block = only_exercise(f"## Exercise - bridge\n\n### How to do it\n\n{PASTED_TIPS[style]}\n")
        assert block.steps == EXPECTED_TIPS

    def test_an_unnumbered_paragraph_continues_the_numbered_tip_before_it(self):
        block = only_exercise("## Exercise - bridge\n\n### Tips\n\n1 - Go slowly.\n\nReally slowly.\n\n2 - Breathe.\n")
        assert block.tips == ["Go slowly.\n\nReally slowly.", "Breathe."]

    def test_a_list_item_with_two_paragraphs(self):
        block = only_exercise("## Exercise - bridge\n\n### Tips\n\n1. Go slowly.\n\n   Really slowly.\n\n2. Breathe.\n")
        assert block.tips == ["Go slowly.\n\nReally slowly.", "Breathe."]

    def test_a_number_inside_a_tip_does_not_start_a_new_one(self):
        block = only_exercise(
            "## Exercise - bridge\n\n### Tips\n\n1 - Rest for\n2 minutes.\n\n2 - Use a 1.5 kg weight.\n"
        )
        assert block.tips == ["Rest for\n2 minutes.", "Use a 1.5 kg weight."]

    def test_an_empty_tips_section(self):
        body = "## Exercise - bridge\n\n### Top tips\n\n### Safety\n\nCareful.\n"
        assert article_errors(body) == [
            f"{ARTICLE_PATH}:{FRONT_LINES + 3}: the tips section '### Top tips' is "
            "empty: write it, or remove the heading"
        ]

    def test_an_empty_safety_section(self):
        body = "## Exercise - bridge\n\n### Safety\n\n## Next\n"
        assert article_errors(body) == [
            f"{ARTICLE_PATH}:{FRONT_LINES + 3}: the safety section '### Safety' is "
            "empty: write it, or remove the heading"
        ]


class TestOtherSections:
    def test_summary_is_the_text_before_the_first_level_3_heading(self):
        block = only_exercise("## Exercise - bridge\n\nA small lift.\n\nFor the glutes.\n\n### Tips\n\n- Slowly.\n")
        assert block.summary == "A small lift.\n\nFor the glutes."

    def test_a_block_without_sections(self):
        block = only_exercise("## Exercise - bridge\n\nJust a summary.\n")
        assert (block.summary, block.tips, block.steps, block.safety, block.equipment, block.video) == (
            "Just a summary.",
            [],
            [],
            "",
            None,
            None,
        )

    def test_unknown_sections_are_kept_as_free_text(self):
        block = only_exercise(
            "## Exercise - bridge\n\n### Muscles worked\n\nGlutes, *hamstrings*.\n\n### Tips\n\n- Slowly.\n"
        )
        (section,) = block.other_sections
        assert (section.title, section.markdown, section.source.line) == (
            "Muscles worked",
            "Glutes, *hamstrings*.",
            FRONT_LINES + 3,
        )
        assert block.tips == ["Slowly."]

    def test_text_sections(self):
        block = only_exercise(
            """
            ## Exercise - bridge

            ### Why it helps

            Wakes up the **glutes**.

            ### Progression

            At 20 reps.

            ### Safety in pregnancy

            Any stage.

            ### Before you start

            Stretch the [piriformis](../exercises/piriformis-stretch.md).
            """
        )
        assert (block.benefits, block.progression, block.safety) == (
            "Wakes up the **glutes**.",
            "At 20 reps.",
            "Any stage.",
        )
        assert block.before == "Stretch the [piriformis](../exercises/piriformis-stretch.md)."

    def test_two_sections_of_one_kind_are_joined(self):
        block = only_exercise("## Exercise - bridge\n\n### Safety\n\nOne.\n\n### If you have a prolapse\n\nTwo.\n")
        assert block.safety == "One.\n\nTwo."

    @pytest.mark.parametrize("text", ["None", "none.", "No equipment needed!", "Nothing, just a floor.", "- none"])
    def test_no_equipment_is_an_empty_list(self, text):
        assert only_exercise(f"## Exercise - bridge\n\n### Equipment\n\n{text}\n").equipment == []

    def test_equipment_bullets_are_a_list(self):
        block = only_exercise("## Exercise - bridge\n\n### Equipment\n\n- a mat\n- a cushion\n")
        assert block.equipment == ["a mat", "a cushion"]

    def test_video_is_the_first_web_address(self):
        block = only_exercise(
            "## Exercise - bridge\n\n### Video\n\nWatch [the demo](https://videos.example.com/bridge?t=3). Also https://other.example.\n"
        )
        assert block.video == "https://videos.example.com/bridge?t=3"

    def test_a_video_section_without_an_address(self):
        assert article_errors("## Exercise - bridge\n\n### Video\n\nComing soon.\n") == [
            f"{ARTICLE_PATH}:{FRONT_LINES + 3}: the video section '### Video' has no "
            "web address: paste the video's https:// link"
        ]


# ------------------------------------------------------------------ ```exercise fences


class TestExerciseFences:
    def test_a_fence_is_an_unresolved_reference(self):
        article = parse_body(
            """
            Warm up first.

            ```exercise
            ref: hip-extension
            reps: 10
            sets: "2"
            note: Slowly today.
            ```

            Then rest.
            """
        )
        before, fence, after = article.parts
        assert (fence.ref, fence.slug, fence.reps, fence.sets, fence.note) == (
            "hip-extension",
            "hip-extension",
            "10",
            "2",
            "Slowly today.",
        )
        assert fence.source.line == FRONT_LINES + 3
        assert (before.markdown, after.markdown, after.source.line) == (
            "Warm up first.",
            "Then rest.",
            FRONT_LINES + 10,
        )

    def test_a_fence_ends_an_inline_exercise_block(self):
        article = parse_body("## Exercise - bridge\n\nSummary.\n\n```exercise\nref: clam\n```\n\nAfter.\n")
        assert [(type(p).__name__, getattr(p, "ref", None)) for p in article.parts] == [
            ("ExerciseBlock", None),
            ("ExerciseBlock", "clam"),
            ("Prose", None),
        ]
        assert article.parts[0].summary == "Summary."

    def test_other_fences_stay_in_the_prose(self):
        article = parse_body("```yaml\nref: hip-extension\n```\n")
        assert article.exercises == []

    def test_a_fence_without_ref(self):
        assert article_errors("```exercise\nreps: 10\n```\n") == [
            f"{ARTICLE_PATH}:{FRONT_LINES + 1}: missing required key 'ref' in the "
            "```exercise block: add a line  ref: hip-extension"
        ]

    def test_an_unknown_key_in_a_fence(self):
        assert article_errors("```exercise\nref: clam\nrep: 10\n```\n") == [
            f"{ARTICLE_PATH}:{FRONT_LINES + 3}: unknown key 'rep' in the ```exercise block: did you mean 'reps'?"
        ]

    def test_invalid_yaml_in_a_fence_is_reported_at_its_file_line(self):
        (message,) = article_errors("Intro.\n\n```exercise\nref: clam\nnote: Slowly: really\n```\n")
        assert message.startswith(
            f"{ARTICLE_PATH}:{FRONT_LINES + 5}: invalid YAML: mapping values are not allowed here"
        )

    def test_an_unclosed_fence(self):
        assert article_errors("```exercise\nref: clam\n\nMore text.\n") == [
            f"{ARTICLE_PATH}:{FRONT_LINES + 1}: the ```exercise block is not closed: add a line ``` after its last key"
        ]


# ------------------------------------------------------------------ library cards

CARD = """\
---
name: Side-lying clam
muscles: [glute medius]
equipment: []
level: beginner
video: https://videos.example.com/clam
pregnancy: safe
cautions: [Keep it small with pelvic girdle pain.]
reviewed_by: A. Physio
last_reviewed: 2026-11-01
before: [diaphragmatic-breathing]
progresses_to: [banded-clam]
---

Opens the hips.

### Top tips

1 - Hand on the hip.

2 - Slowly down.

### Safety

Fine in pregnancy.
"""


class TestExerciseCards:
    def test_a_card(self):
        card = parse_exercise(CARD, CARD_PATH)
        assert (card.slug, card.name, card.source.path) == ("side-lying-clam", "Side-lying clam", CARD_PATH)
        block = card.block
        assert (block.slug, block.summary, block.tips, block.safety) == (
            "side-lying-clam",
            "Opens the hips.",
            ["Hand on the hip.", "Slowly down."],
            "Fine in pregnancy.",
        )
        assert (block.muscles, block.equipment, block.level, block.video) == (
            ["glute medius"],
            [],
            "beginner",
            "https://videos.example.com/clam",
        )
        assert (block.pregnancy, block.cautions, block.ref) == (
            "safe",
            ["Keep it small with pelvic girdle pain."],
            None,
        )
        assert card.meta == {
            "reviewed_by": "A. Physio",
            "last_reviewed": date(2026, 11, 1),
            "before": ["diaphragmatic-breathing"],
            "progresses_to": ["banded-clam"],
        }

    def test_sections_of_a_card_start_at_their_file_line(self):
        card = parse_exercise(CARD.replace("### Safety", "### Muscles"), CARD_PATH)
        assert card.block.other_sections[0].source.line == CARD.splitlines().index("### Safety") + 1

    def test_equipment_unset_is_none(self):
        card = parse_exercise("---\nname: Clam\n---\nOpens the hips.\n", CARD_PATH)
        assert card.block.equipment is None and card.block.pregnancy is None and card.meta == {}

    def test_equipment_from_a_section(self):
        card = parse_exercise("---\nname: Clam\n---\n### Equipment\n\n- a band\n", CARD_PATH)
        assert card.block.equipment == ["a band"]

    def test_equipment_in_front_matter_and_a_section(self):
        text = "---\nname: Clam\nequipment: [band]\n---\n### Equipment\n\n- a band\n"
        assert errors(parse_exercise, text, CARD_PATH) == [
            f"{CARD_PATH}:3: 'equipment' is in the front matter and in a section of the text: keep one"
        ]

    def test_name_is_required(self):
        assert errors(parse_exercise, "---\nlevel: beginner\n---\n", CARD_PATH) == [
            f"{CARD_PATH}:1: missing required key 'name' in the front matter: add a line  name: Piriformis stretch"
        ]

    def test_pregnancy_must_be_one_of_three(self):
        assert errors(parse_exercise, "---\nname: Clam\npregnancy: modifed\n---\n", CARD_PATH) == [
            f"{CARD_PATH}:3: 'pregnancy' must be one of safe, modify, avoid, not 'modifed' - did you mean 'modify'?"
        ]

    def test_video_must_be_a_web_address(self):
        assert errors(parse_exercise, "---\nname: Clam\nvideo: youtube clam\n---\n", CARD_PATH) == [
            f"{CARD_PATH}:3: 'video' must be a full web address starting with https://, not 'youtube clam'"
        ]

    def test_cautions_must_be_a_list(self):
        assert errors(parse_exercise, "---\nname: Clam\ncautions: Go gently\n---\n", CARD_PATH) == [
            f"{CARD_PATH}:3: 'cautions' must be a list, not 'Go gently': write it "
            "like  cautions: [Stop if you feel pins and needles]"
        ]

    def test_before_must_list_slugs(self):
        assert errors(parse_exercise, "---\nname: Clam\nbefore: [Diaphragmatic breathing]\n---\n", CARD_PATH) == [
            f"{CARD_PATH}:3: 'before' must be a slug (lowercase letters, digits and "
            "hyphens) like 'diaphragmatic-breathing', not 'Diaphragmatic breathing'"
        ]

    def test_an_empty_tips_section_in_a_card(self):
        text = "---\nname: Clam\n---\nSummary.\n\n### Tips\n"
        assert errors(parse_exercise, text, CARD_PATH) == [
            f"{CARD_PATH}:6: the tips section '### Tips' is empty: write it, or remove the heading"
        ]


# ------------------------------------------------------------------ issue notes


class TestIssueNotes:
    PATH = "content/issues/2026-W48.md"

    def test_the_real_note(self):
        note = parse_issue_note(real(self.PATH), self.PATH)
        assert note.week == "2026-W48" and note.subject and note.intro and note.order

    def test_a_note(self):
        note = parse_issue_note("---\nsubject: Glutes week\norder: [glutes, breathing]\n---\n\nHello!\n", self.PATH)
        assert (note.week, note.subject, note.order, note.intro) == (
            "2026-W48",
            "Glutes week",
            ["glutes", "breathing"],
            "Hello!",
        )
        assert note.source.path == self.PATH

    def test_everything_is_optional(self):
        note = parse_issue_note("---\n---\n", self.PATH)
        assert (note.subject, note.order, note.intro) == (None, [], "")

    @pytest.mark.parametrize("name", ["2026-48", "week-48", "2027-W53", "2026-w48"])
    def test_a_file_name_that_is_not_an_iso_week(self, name):
        path = f"content/issues/{name}.md"
        assert errors(parse_issue_note, "---\n---\n", path) == [
            f"{path}:1: the file name '{name}' is not an ISO week: name the file like "
            "2026-W48.md (year, W, week number)"
        ]

    def test_order_must_be_a_list(self):
        assert errors(parse_issue_note, "---\norder: glutes\n---\n", self.PATH) == [
            f"{self.PATH}:2: 'order' must be a list, not 'glutes': write it like  "
            "order: [why-glutes-grip, breathing-and-your-pelvic-floor]"
        ]

    def test_an_unknown_key_is_forgiven(self):
        note = parse_issue_note("---\nsubjet: Hi\n---\n", self.PATH)
        assert note.forgiven == [LoadWarning(self.PATH, 2, "subjet", ": did you mean 'subject'?")]

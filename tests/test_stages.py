"""Stage-aware issues: `::: only <stage>` blocks, one email per stage when a week has
stage-specific content, `avoid` exercises never reaching pregnant readers, and each version
pushed to its own audience exactly once.

Provider targeting is tested against each provider's fake in tests/providers/test_stage_versions.py
and over real SMTP in tests/test_stages_smtp.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import REPO, assert_golden, build_project

from pipeline.build.run import build
from pipeline.content.assemble import assemble_issue, assemble_issues
from pipeline.content.load import content_from_texts, load_content
from pipeline.core.config import config_from_dict, load_config
from pipeline.core.errors import ConfigError, ContentError, ContentErrors, PushRefused
from pipeline.core.model import ExerciseBlock, Prose, Source
from pipeline.core.stages import GENERAL_STAGE, targeting, version_for_tags
from pipeline.deliver.ledger import Ledger, ledger_path
from pipeline.deliver.providers import get_provider
from pipeline.deliver.providers.base import Provider
from pipeline.deliver.push import plan, push_issue
from pipeline.render.email import render_email

WEEK = "2026-W48"
STAGES = ("pregnant", "postpartum-0-6w", "postpartum-6w-plus")
VERSIONS = (*STAGES, GENERAL_STAGE)
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
CONFIG = config_from_dict({"site": {"base_url": "https://strongfromwithin.example"}}, Path("."))
ARTICLE = "content/articles/wake-up.md"
ARTICLE_SOURCE = Source(ARTICLE, 20)

SIDE_LYING_CLAM = """\
---
name: Side-lying clam
pregnancy: safe
---
Open your top knee like a clam shell.

### Safety
Comfortable at every stage of pregnancy.
"""
PRONE_LEG_LIFT = """\
---
name: Prone leg lift
pregnancy: avoid
---
Lift one straight leg, lying on your front.

### Safety
Not in pregnancy: you lie on your front.
"""


def article(body: str, day: str = "2026-11-25", slug: str = "wake-up") -> dict[str, str]:
    front = f"---\ntitle: Wake up, {slug}\ndate: {day}\nsummary: About {slug}.\n---\n\n"
    return {f"content/articles/{slug}.md": front + textwrap.dedent(body).lstrip("\n")}


def cards() -> dict[str, str]:
    return {
        "content/exercises/side-lying-clam.md": SIDE_LYING_CLAM,
        "content/exercises/prone-leg-lift.md": PRONE_LEG_LIFT,
    }


def content_of(*files: dict[str, str], stages=STAGES):
    merged = {**cards()}
    for more in files:
        merged |= more
    return content_from_texts(merged, stages=stages)


def versions_of(*files: dict[str, str], config=CONFIG) -> dict[str | None, object]:
    return {issue.stage: issue for issue in assemble_issues(content_of(*files), config, WEEK)}


def words(issue) -> str:
    """Everything an issue holds, as one string: intro, prose and exercise names."""
    texts = [issue.intro]
    for piece in issue.articles:
        texts += [part.markdown if isinstance(part, Prose) else f"[exercise {part.name}]" for part in piece.parts]
    return "\n".join(texts)


def parse_errors(body: str, stages=STAGES) -> list[str]:
    with pytest.raises(ContentErrors) as caught:
        content_of(article(body), stages=stages)
    return [str(error) for error in caught.value.errors]


# --- the syntax ------------------------------------------------------------------------------


class TestStageBlocks:
    def test_a_block_limits_its_prose_to_the_stages_it_names(self):
        content = content_of(
            article("""
            For everyone.

            ::: only pregnant, postpartum-0-6w
            For the bump and the first weeks.
            :::

            For everyone again.
        """)
        )
        parts = content.articles[0].parts
        assert [(part.markdown, part.stages) for part in parts] == [
            ("For everyone.", None),
            ("For the bump and the first weeks.", ("pregnant", "postpartum-0-6w")),
            ("For everyone again.", None),
        ]

    def test_the_source_line_of_a_part_in_a_block_is_where_its_text_starts(self):
        content = content_of(
            article("""
            Intro.

            ::: only pregnant
            Bump note.
            :::
        """)
        )
        assert content.articles[0].parts[1].source.line == 10  # 5 front matter lines, a blank, then the body

    def test_a_block_can_hold_an_exercise_written_in_place_and_a_library_card(self):
        content = content_of(
            article("""
            ::: only postpartum-6w-plus
            ## Exercise - the bridge

            Lift your hips.

            ### Safety

            Stop if your back hurts.

            ```exercise
            ref: prone-leg-lift
            reps: 6
            ```
            :::
        """)
        )
        bridge, lift = content.articles[0].parts
        assert (bridge.slug, bridge.stages) == ("bridge", ("postpartum-6w-plus",))
        assert (lift.ref, lift.pregnancy, lift.reps, lift.stages) == (
            "prone-leg-lift",
            "avoid",
            "6",
            ("postpartum-6w-plus",),
        )

    def test_the_end_of_a_block_ends_an_exercise_written_before_it(self):
        content = content_of(
            article("""
            ## Exercise - the bridge

            ### Safety

            Stop if your back hurts.

            ::: only pregnant
            From the second trimester, prop your shoulders up on pillows.
            :::
        """)
        )
        bridge, note = content.articles[0].parts
        assert isinstance(bridge, ExerciseBlock) and bridge.stages is None
        assert "pillows" not in bridge.safety
        assert (note.markdown, note.stages) == (
            "From the second trimester, prop your shoulders up on pillows.",
            ("pregnant",),
        )

    def test_colons_inside_code_are_code(self):
        content = content_of(
            article("""
            ```
            ::: only nobody
            ```
        """)
        )
        (part,) = content.articles[0].parts
        assert "::: only nobody" in part.markdown and part.stages is None

    def test_the_stages_come_from_newsletter_toml(self, make_project):
        root = make_project(
            {
                "newsletter.toml": (REPO / "newsletter.toml").read_text()
                + '\n[audience]\nstages = ["trying", "pregnant"]\n',
                **article("::: only trying\nFor those trying to conceive.\n:::\n"),
            }
        )
        (part,) = load_content(load_config(root)).articles[0].parts
        assert part.stages == ("trying",)

    def test_an_issue_intro_can_have_blocks_too(self):
        content = content_of(
            article("Text."),
            {
                "content/issues/2026-W48.md": "---\nsubject: Hi\n---\n\nHello all.\n\n::: only postpartum-0-6w\nRest "
                "first.\n:::\n"
            },
        )
        note = content.issue_notes[WEEK]
        assert [(part.markdown, part.stages) for part in note.intro_parts] == [
            ("Hello all.", None),
            ("Rest first.", ("postpartum-0-6w",)),
        ]
        assert note.intro == "Hello all.\n\nRest first."


class TestStageBlockErrors:
    def test_an_unknown_stage_names_the_file_line_and_the_configured_stages(self):
        (error,) = parse_errors("Intro.\n\n::: only pregnent\nText.\n:::\n")
        assert error.startswith(f"{ARTICLE}:9: unknown stage 'pregnent' in '::: only': did you mean 'pregnant'?")
        assert "pregnant, postpartum-0-6w, postpartum-6w-plus" in error and "[audience] stages" in error

    def test_a_block_never_closed_is_an_error_at_its_first_line(self):
        assert parse_errors("::: only pregnant\nText.\n") == [
            f"{ARTICLE}:7: this '::: only' block is never closed: add a line ':::' after its last line"
        ]

    def test_a_closing_line_without_a_block_is_an_error(self):
        (error,) = parse_errors("Text.\n:::\n")
        assert error.startswith(f"{ARTICLE}:8: this ':::' line closes no '::: only' block")

    def test_blocks_do_not_nest(self):
        (error,) = parse_errors("::: only pregnant\nA.\n::: only postpartum-0-6w\nB.\n:::\n")
        assert error.startswith(f"{ARTICLE}:9: a '::: only' block cannot start inside another one (opened on line 7)")

    def test_a_block_must_name_a_stage(self):
        (error,) = parse_errors("::: only\nText.\n:::\n")
        assert error.startswith(f"{ARTICLE}:7: '::: only' names no stage: write it like  ::: only pregnant")

    def test_only_is_the_one_kind_of_block(self):
        (error,) = parse_errors("::: note\nText.\n:::\n")
        assert error.startswith(f"{ARTICLE}:7: unknown block '::: note': write  ::: only <stage>, <stage>")

    def test_an_empty_block_is_an_error(self):
        (error,) = parse_errors("Text.\n\n::: only pregnant\n:::\n")
        assert (
            error
            == f"{ARTICLE}:9: the '::: only pregnant' block is empty: write what those readers should see, or remove it"
        )

    def test_a_stage_of_the_default_list_is_unknown_when_newsletter_toml_changes_the_list(self):
        (error,) = parse_errors("::: only postpartum-0-6w\nText.\n:::\n", stages=("trying", "pregnant"))
        assert "unknown stage 'postpartum-0-6w'" in error and "the stages are trying, pregnant" in error

    def test_an_avoid_exercise_in_a_block_for_the_pregnant_stage_only_is_refused(self):
        content = content_of(article("::: only pregnant\n```exercise\nref: prone-leg-lift\n```\n:::\n"))
        with pytest.raises(ContentError) as caught:
            assemble_issues(content, CONFIG, WEEK)
        assert str(caught.value).startswith(
            f"{ARTICLE}:8: exercise 'Prone leg lift' is marked pregnancy: avoid but sits in a '::: only pregnant' block"
        )


class TestAudienceConfig:
    @pytest.mark.parametrize(
        "audience, message",
        [
            ({"stages": ["Pregnant"]}, "'Pregnant' is not a stage name"),
            ({"stages": ["pregnant", "general"]}, "'general' is reserved for readers with no stage tag"),
            ({"stages": ["pregnant", "pregnant"]}, "lists 'pregnant' twice"),
            (
                {"stages": ["postpartum"], "pregnant_stage": "pregnant"},
                "pregnant_stage 'pregnant' is not one of the stages (postpartum)",
            ),
            ({"stages": "pregnant"}, "[audience] stages must be a list"),
        ],
    )
    def test_bad_stages_are_refused_naming_the_key(self, audience, message):
        with pytest.raises(ConfigError, match=rf"newsletter.toml: .*{re.escape(message)}"):
            config_from_dict({"audience": audience}, Path("."))

    def test_the_defaults_are_the_three_stages_and_pregnant(self):
        assert (CONFIG.audience.stages, CONFIG.audience.pregnant_stage) == (list(STAGES), "pregnant")


# --- assembly --------------------------------------------------------------------------------


class TestVersions:
    def test_a_week_with_nothing_stage_specific_is_one_email_for_everyone(self):
        versions = versions_of(article("Text.\n\n```exercise\nref: side-lying-clam\n```\n"))
        assert list(versions) == [None]
        assert versions[None].key == "strongfromwithin-example-2026-W48"

    def test_a_week_with_a_stage_block_is_one_version_per_stage_then_general(self):
        versions = versions_of(article("Text.\n\n::: only pregnant\nBump note.\n:::\n"))
        assert list(versions) == list(VERSIONS)
        assert [issue.key for issue in versions.values()] == [
            f"strongfromwithin-example-2026-W48-{v}" for v in VERSIONS
        ]
        assert {issue.subject for issue in versions.values()} == {"Wake up, wake-up"}

    def test_a_block_reaches_only_the_stages_it_names(self):
        versions = versions_of(article("Text.\n\n::: only pregnant, postpartum-0-6w\nEarly note.\n:::\n"))
        assert {stage for stage, issue in versions.items() if "Early note." in words(issue)} == {
            "pregnant",
            "postpartum-0-6w",
        }

    def test_an_avoid_exercise_alone_makes_the_week_staged_and_never_reaches_pregnant_or_untagged_readers(self):
        versions = versions_of(article("Text.\n\n```exercise\nref: prone-leg-lift\n```\n"))
        assert list(versions) == list(VERSIONS)
        assert {stage for stage, issue in versions.items() if "Prone leg lift" in words(issue)} == {
            "postpartum-0-6w",
            "postpartum-6w-plus",
        }

    def test_an_inline_exercise_marked_avoid_is_left_out_too(self):
        block = ExerciseBlock(
            name="Plank", slug="plank", source=ARTICLE_SOURCE, safety="Not in pregnancy.", pregnancy="avoid"
        )
        content = content_of(article("Text."))
        content.articles[0].parts.append(block)
        versions = {issue.stage: issue for issue in assemble_issues(content, CONFIG, WEEK)}
        assert "[exercise Plank]" not in words(versions["pregnant"]) and "[exercise Plank]" in words(
            versions["postpartum-6w-plus"]
        )

    def test_the_general_version_holds_nothing_stage_specific(self):
        versions = versions_of(
            article("""
            Everyone.

            ::: only pregnant
            Bump.
            :::

            ::: only postpartum-0-6w, postpartum-6w-plus
            Baby.
            :::

            ```exercise
            ref: prone-leg-lift
            ```
        """)
        )
        assert words(versions[GENERAL_STAGE]).strip() == "Everyone."

    def test_the_intros_blocks_are_filtered_the_same_way(self):
        note = {
            "content/issues/2026-W48.md": "---\nsubject: Hi\n---\n\nHello.\n\n::: only pregnant\nFor the bump.\n:::\n"
        }
        versions = versions_of(article("Text."), note)
        assert versions["pregnant"].intro == "Hello.\n\nFor the bump."
        assert versions["postpartum-0-6w"].intro == versions[GENERAL_STAGE].intro == "Hello."

    def test_an_article_with_nothing_left_for_a_stage_is_left_out_of_its_version(self):
        bump_only = article("::: only pregnant\nOnly for the bump.\n:::\n", slug="bump-only", day="2026-11-26")
        versions = versions_of(article("For all."), bump_only)
        assert [a.slug for a in versions["pregnant"].articles] == ["bump-only", "wake-up"]
        assert [a.slug for a in versions["postpartum-0-6w"].articles] == ["wake-up"]
        assert versions["postpartum-0-6w"].preview_text == "About wake-up."

    def test_a_version_with_no_article_left_is_not_made(self):
        versions = versions_of(article("::: only pregnant\nOnly for the bump.\n:::\n"))
        assert list(versions) == ["pregnant"]

    def test_without_a_pregnant_stage_an_avoid_exercise_is_left_out_of_general_only(self):
        config = config_from_dict(
            {"site": {"base_url": "https://strongfromwithin.example"}, "audience": {"pregnant_stage": ""}}, Path(".")
        )
        versions = versions_of(article("Text.\n\n```exercise\nref: prone-leg-lift\n```\n"), config=config)
        assert {stage for stage, issue in versions.items() if "Prone leg lift" in words(issue)} == set(STAGES)

    def test_assemble_issue_gives_the_general_version_of_a_staged_week_and_the_one_of_a_plain_week(self):
        staged = content_of(article("Text.\n\n::: only pregnant\nBump.\n:::\n"))
        plain = content_of(article("Text."))
        assert assemble_issue(staged, CONFIG, WEEK).stage == GENERAL_STAGE
        assert assemble_issue(staged, CONFIG, WEEK, stage="pregnant").stage == "pregnant"
        assert assemble_issue(plain, CONFIG, WEEK).stage is None
        assert assemble_issue(plain, CONFIG, WEEK, stage="pregnant").stage is None  # the one email everyone gets


class TestWhoGetsWhichVersion:
    @pytest.mark.parametrize(
        "tags, version",
        [
            (("pregnant",), "pregnant"),
            (("postpartum-6w-plus", "newsletter-vip"), "postpartum-6w-plus"),
            (("postpartum-0-6w", "pregnant"), "pregnant"),  # two stage tags: the first in the configured order
            ((), GENERAL_STAGE),
            (("newsletter-vip",), GENERAL_STAGE),
        ],
    )
    def test_a_reader_gets_the_version_of_her_first_stage_tag_or_general(self, tags, version):
        assert version_for_tags(tags, STAGES) == version

    @pytest.mark.parametrize(
        "tags", [(), ("pregnant",), ("pregnant", "postpartum-0-6w"), STAGES, ("postpartum-6w-plus", "x")]
    )
    def test_every_tag_set_matches_exactly_one_versions_audience(self, tags):
        def matches(rule):
            return (rule.include is None or rule.include in tags) and not set(rule.exclude) & set(tags)

        assert [v for v in VERSIONS if matches(targeting(STAGES, v))] == [version_for_tags(tags, STAGES)]


# --- the real content: what reaches each stage -----------------------------------------------


@pytest.fixture(scope="module")
def real_config():
    return load_config(REPO)


@pytest.fixture(scope="module")
def real_emails(real_config):
    """Every version of the real week, rendered."""
    issues = assemble_issues(load_content(real_config), real_config, WEEK)
    return {issue.stage: render_email(issue, real_config, real_config.unsubscribe_url) for issue in issues}


PREGNANT_NOTE = "While you are pregnant, make the hip extension a little harder"
EARLY_NOTE = "In the first six weeks after the birth, stay with the hip extension"
INTRO_EARLY_NOTE = "If your baby arrived in the last few weeks"
AVOID_CARD = "Prone leg lift"


@pytest.mark.parametrize(
    "stage, shown, hidden",
    [
        ("pregnant", [PREGNANT_NOTE], [EARLY_NOTE, INTRO_EARLY_NOTE, AVOID_CARD]),
        ("postpartum-0-6w", [EARLY_NOTE, INTRO_EARLY_NOTE], [PREGNANT_NOTE, AVOID_CARD]),
        ("postpartum-6w-plus", [AVOID_CARD], [PREGNANT_NOTE, EARLY_NOTE, INTRO_EARLY_NOTE]),
        (GENERAL_STAGE, [], [PREGNANT_NOTE, EARLY_NOTE, INTRO_EARLY_NOTE, AVOID_CARD]),
    ],
)
def test_each_stage_of_the_real_week_gets_its_own_content_in_html_and_text(real_emails, stage, shown, hidden):
    email = real_emails[stage]
    for part in (email.html, email.text):
        flat = " ".join(part.split())
        for sentence in shown:
            assert sentence in flat
        for sentence in hidden:
            assert sentence not in flat
    assert "When the hip extension feels easy" in email.text  # the heading for everyone is in every version


def test_the_real_week_has_four_versions_with_one_subject(real_emails):
    assert list(real_emails) == list(VERSIONS)
    assert len({email.subject for email in real_emails.values()}) == 1
    assert len({email.content_hash for email in real_emails.values()}) == 4


def test_no_avoid_exercise_of_any_real_week_reaches_pregnant_or_untagged_readers(real_config):
    content = load_content(real_config)
    avoided = {card.name for card in content.exercises.values() if card.block.pregnancy == "avoid"}
    assert avoided, "the real content should have an exercise marked avoid to test this with"
    weeks = {a.date.isocalendar()[:2] for a in content.articles}
    for year, number in weeks:
        for issue in assemble_issues(content, real_config, f"{year}-W{number:02d}"):
            names = {block.name for a in issue.articles for block in a.exercises}
            if issue.stage in ("pregnant", GENERAL_STAGE) or issue.stage is None:
                assert not names & avoided, (issue.key, names & avoided)


@pytest.mark.parametrize("stage", STAGES)
def test_golden_text_of_each_stage_version_of_the_real_week(real_emails, stage):
    # The general version is the golden email/2026-W48.txt of tests/test_email.py.
    assert_golden(f"email/2026-W48-{stage}.txt", real_emails[stage].text)


# --- build -----------------------------------------------------------------------------------


@pytest.fixture
def staged_project(make_project):
    return make_project({**cards(), **article("Text.\n\n::: only pregnant\nBump note.\n:::\n")})


def test_build_writes_general_at_the_top_and_each_stage_in_its_folder(staged_project):
    result = build_project(load_config(staged_project), WEEK, now=NOW)

    week = staged_project / "dist" / "email" / WEEK
    assert sorted(p.relative_to(week).as_posix() for p in week.rglob("*") if p.is_file()) == sorted(
        f"{folder}{name}"
        for folder in ("", *(f"{stage}/" for stage in STAGES))
        for name in ("email.eml", "email.txt", "index.html")
    )
    assert [built.stage for built in result.emails] == list(VERSIONS)
    assert result.email.stage == GENERAL_STAGE and result.email.directory == week
    assert "Bump note." in (week / "pregnant" / "email.txt").read_text()
    assert "Bump note." not in (week / "email.txt").read_text()
    assert "Bump note." not in (week / "postpartum-0-6w" / "email.txt").read_text()


def test_a_rebuild_without_stage_content_leaves_no_stage_folder_behind(staged_project):
    build_project(load_config(staged_project), WEEK, now=NOW)
    (staged_project / "content" / "articles" / "wake-up.md").write_text(article("Text.")["content/articles/wake-up.md"])

    result = build_project(load_config(staged_project), WEEK, now=NOW)

    week = staged_project / "dist" / "email" / WEEK
    assert sorted(p.name for p in week.iterdir()) == ["email.eml", "email.txt", "index.html"]
    assert [built.stage for built in result.emails] == [None]


def test_the_blog_shows_every_stage_block_labelled(make_project):
    root = make_project(with_repo_content=True)
    build_project(load_config(root), WEEK, now=NOW)

    page = " ".join((root / "dist" / "site" / "articles" / "why-your-glutes-grip" / "index.html").read_text().split())
    lead_in = "Once 20 clean hip extensions feel easy and lying on your front is comfortable"
    for stage, sentence in (
        ("pregnant", PREGNANT_NOTE),
        ("postpartum-0-6w", EARLY_NOTE),
        ("postpartum-6w-plus", lead_in),
    ):
        label = f'<p class="only-stages__label">For: {stage}</p>'
        assert label in page and page.index(label) < page.index(sentence)
    assert page.count('class="only-stages__label"') == 3  # the card and its lead-in share one label
    assert page.index(lead_in) < page.index('id="exercise-prone-leg-lift"')  # the card is on the blog, after its label


# --- push ------------------------------------------------------------------------------------


def push_all(root: Path, **options):
    config = load_config(root)
    provider = get_provider(config)
    result = build(config, WEEK, provider=provider, now=NOW)
    with Ledger(ledger_path(config.state_dir)) as ledger:
        return [push_issue(provider, ledger, built.email, built.eml, **options) for built in result.emails]


def test_each_version_is_pushed_to_the_outbox_as_its_own_campaign_once(staged_project):
    first = push_all(staged_project)
    again = push_all(staged_project)

    assert [r.action for r in first] == ["created"] * 4 and [r.action for r in again] == ["unchanged"] * 4
    assert [r.campaign_id for r in first] == [f"{WEEK}/{v}" for v in VERSIONS]
    for version in VERSIONS:
        campaign = json.loads((staged_project / "outbox" / WEEK / version / "campaign.json").read_text())
        assert (campaign["issue_key"], campaign["stage"]) == (f"strongfromwithin-example-{WEEK}-{version}", version)
    pregnant = json.loads((staged_project / "outbox" / WEEK / "pregnant" / "campaign.json").read_text())
    assert pregnant["audience"] == "readers tagged 'pregnant'" and "Bump note." in pregnant["text"]


def test_a_week_sent_as_one_email_is_not_sent_again_as_versions(make_project):
    root = make_project({**cards(), **article("Text.")})
    push_all(root, send_now=True)
    (root / "content" / "articles" / "wake-up.md").write_text(
        article("Text.\n\n::: only pregnant\nBump note.\n:::\n")["content/articles/wake-up.md"]
    )

    with pytest.raises(
        PushRefused, match=r"already sent by outbox as one email for everyone .* would give readers a second email"
    ):
        push_all(root, send_now=True)
    assert not (root / "outbox" / WEEK / "pregnant").exists()


def test_a_week_sent_as_versions_is_not_sent_again_as_one_email(staged_project):
    push_all(staged_project, send_now=True)
    (staged_project / "content" / "articles" / "wake-up.md").write_text(article("Text.")["content/articles/wake-up.md"])

    with pytest.raises(PushRefused, match=r"already sent by outbox as stage versions"):
        push_all(staged_project, send_now=True)


def test_a_leftover_draft_of_the_other_kind_is_pointed_out(make_project):
    root = make_project({**cards(), **article("Text.")})
    push_all(root)
    (root / "content" / "articles" / "wake-up.md").write_text(
        article("Text.\n\n::: only pregnant\nBump note.\n:::\n")["content/articles/wake-up.md"]
    )

    results = push_all(root)

    assert all("still has a draft from when this week was one email for everyone" in r.message for r in results)


class _EveryoneOnly(Provider):
    """A provider that can only send to its whole list."""

    name = "everyone-only"

    def find_campaign(self, issue_key, known_id):
        return None

    def create_draft(self, email, eml):  # pragma: no cover - must never be reached
        raise AssertionError("a staged version reached a provider that cannot target it")


def test_a_provider_that_cannot_target_a_stage_refuses_before_anything_changes(staged_project):
    config = load_config(staged_project)
    provider = _EveryoneOnly(config)
    built = build_project(config, WEEK, now=NOW).emails[0]
    with Ledger(ledger_path(config.state_dir)) as ledger:
        described = plan(provider, ledger, built.email).describe()
        with pytest.raises(
            PushRefused, match="provider 'everyone-only' cannot send a version of the issue to one stage"
        ):
            push_issue(provider, ledger, built.email, built.eml)
    assert "- refused: provider 'everyone-only' cannot send a version" in described


def test_push_plan_lists_each_version_with_its_key_audience_and_action(staged_project):
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "push", "--plan", "--week", WEEK, "--root", str(staged_project)],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    out = result.stdout
    for version, audience in [
        ("pregnant", "readers tagged 'pregnant'"),
        ("postpartum-0-6w", "readers tagged 'postpartum-0-6w' and not 'pregnant'"),
        ("postpartum-6w-plus", "readers tagged 'postpartum-6w-plus' and not 'pregnant' or 'postpartum-0-6w'"),
        ("general", "readers with no stage tag (not tagged 'pregnant' or 'postpartum-0-6w' or 'postpartum-6w-plus')"),
    ]:
        assert f"Version:      {version} (issue key strongfromwithin-example-{WEEK}-{version})" in out
        assert f"Audience:     {audience}" in out
    assert out.count("- create a new draft") == 4
    assert not (staged_project / "outbox").exists()

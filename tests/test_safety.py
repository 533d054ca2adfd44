"""Safety rules: every exercise states its pregnancy suitability, prolapse and diastasis guidance
and progression rule, and has a current review; no content file makes a claim we never make.

Each test loads a small content tree (pipeline.content.load.content_from_texts, as `newsletter check` does)
and reads the findings of `safety_findings` as `path:line: severity rule`.
"""

from __future__ import annotations

import textwrap
from datetime import date

import pytest
from click.testing import CliRunner

from pipeline.authoring.check.rules.safety import safety_findings
from pipeline.cli.main import main
from pipeline.content.load import content_from_texts, load_content
from pipeline.content.reviews import months_before
from pipeline.core.config import ConfigError, claim_pattern, load_config
from pipeline.core.errors import ContentErrors

TODAY = date(2026, 11, 27)

GOOD_SAFETY = """\
Fine at any stage of pregnancy; prop yourself up if lying flat makes you dizzy.

With a prolapse, keep it small and stop at any heaviness. With a diastasis (tummy gap), watch the
middle of your tummy and stop if it domes."""


def card(
    name="Side-lying clam", front="", safety=GOOD_SAFETY, progression="At 15 easy repetitions, add a band.", review=True
) -> str:
    reviewed = (
        "reviewed_by: Dr Anouk Verhoeven, pelvic health physiotherapist\nlast_reviewed: 2026-11-01\n" if review else ""
    )
    progression_section = f"### Progression\n\n{progression}\n\n" if progression else ""
    return (
        f"---\nname: {name}\npregnancy: safe\n{reviewed}{front}---\n\nA gentle exercise.\n\n"
        f"### How to do it\n\n1. Lie on your side.\n2. Open the top knee.\n\n"
        f"{progression_section}### Safety\n\n{safety}\n"
    )


def article(
    body: str,
    front: str = "reviewed_by: Dr Anouk Verhoeven, pelvic health physiotherapist\nlast_reviewed: 2026-11-01\n",
) -> str:
    return (
        "---\ntitle: Wake up your glutes\ndate: 2026-11-24\nsummary: A short "
        f"summary.\n{front}---\n\n{textwrap.dedent(body).lstrip()}"
    )


INLINE_EXERCISE = """\
Some prose first.

## Exercise - the hip extension

A slow, small bridge.

### How to do it

1. Lie on your back.

### Progression

At 20 clean repetitions, lift one foot.

### Safety

pregnancy: safe

You can do this at any stage of pregnancy. With a prolapse, keep the lift small; with a
diastasis, watch the midline.
"""

CLAM = "content/exercises/side-lying-clam.md"
GLUTES = "content/articles/glutes.md"


def findings(files: dict[str, str], make_project=None, today: date = TODAY, config=None) -> list[str]:
    content = content_from_texts(files)
    config = config or load_config(make_project())
    return sorted(f"{f.path}:{f.line}: {f.severity} {f.rule}" for f in safety_findings(content, config, today=today))


@pytest.fixture
def check(make_project):
    return lambda files, **options: findings(files, make_project, **options)


# ---------------------------------------------------------------- the real content


def test_the_repos_own_content_passes_every_safety_rule(make_project):
    config = load_config(make_project(with_repo_content=True))
    assert safety_findings(load_content(config), config, today=TODAY) == []


def test_a_complete_card_and_article_have_no_findings(check):
    assert check({CLAM: card(), GLUTES: article(INLINE_EXERCISE)}) == []


# ---------------------------------------------------------------- what every exercise states


def test_an_exercise_written_in_an_article_states_pregnancy_suitability_with_a_line(check):
    content = content_from_texts({GLUTES: article(INLINE_EXERCISE)})
    (block,) = content.articles[0].exercises
    assert block.pregnancy == "safe"
    assert "pregnancy: safe" not in block.safety  # the line is data, not text readers see
    assert block.safety.startswith("You can do this at any stage of pregnancy.")


def test_an_exercise_in_an_article_without_a_pregnancy_line_is_an_error(check):
    body = INLINE_EXERCISE.replace("pregnancy: safe\n\n", "")
    assert check({GLUTES: article(body)}) == [f"{GLUTES}:23: error safety.pregnancy"]  # its ### Safety heading


def test_a_pregnancy_line_with_an_unknown_value_is_a_content_error():
    body = INLINE_EXERCISE.replace("pregnancy: safe", "pregnancy: sometimes")
    with pytest.raises(ContentErrors) as error:
        content_from_texts({GLUTES: article(body)})
    assert str(error.value) == f"{GLUTES}:25: 'pregnancy' must be one of safe, modify, avoid, not 'sometimes'"


def test_a_card_cannot_state_pregnancy_twice():
    with pytest.raises(
        ContentErrors, match=r"side-lying-clam.md:3: 'pregnancy' is in the front matter and in a section"
    ):
        content_from_texts({CLAM: card(safety="pregnancy: safe\n\n" + GOOD_SAFETY)})


def test_a_sentence_starting_with_pregnancy_is_still_text():
    safety = "Pregnancy: fine in early pregnancy, then prop yourself up.\n\n" + GOOD_SAFETY.split("\n\n")[1]
    content = content_from_texts({CLAM: card(safety=safety)})
    assert content.exercises["side-lying-clam"].block.safety.startswith("Pregnancy: fine in early pregnancy")


def test_no_prolapse_guidance_is_an_error_at_the_safety_heading(check):
    safety = "Fine in pregnancy. With a diastasis (tummy gap), watch the midline."
    assert check({CLAM: card(safety=safety)}) == [f"{CLAM}:19: error safety.prolapse"]


def test_no_diastasis_guidance_is_an_error(check):
    safety = "Fine in pregnancy. With a prolapse, keep it small."
    assert check({CLAM: card(safety=safety)}) == [f"{CLAM}:19: error safety.diastasis"]


@pytest.mark.parametrize("wording", ["a tummy gap", "abdominal separation", "DIASTASIS recti"])
def test_diastasis_guidance_may_use_everyday_words(check, wording):
    safety = f"Fine in pregnancy. With a prolapse, keep it small. With {wording}, watch the midline."
    assert check({CLAM: card(safety=safety)}) == []


def test_guidance_in_the_cards_cautions_counts(check):
    front = "cautions:\n  - With a prolapse, stop at any heaviness.\n"
    assert check({CLAM: card(front=front, safety="Fine in pregnancy. With a diastasis, watch the midline.")}) == []


def test_a_word_that_only_contains_the_keyword_is_not_guidance(check):
    safety = "Fine in pregnancy. With a diastasis, watch the midline. Nonprolapsed organs are fine."
    assert check({CLAM: card(safety=safety)}) == [f"{CLAM}:19: error safety.prolapse"]


def test_no_progression_rule_is_an_error(check):
    assert check({CLAM: card(progression="")}) == [f"{CLAM}:1: error safety.progression"]


def test_a_card_used_in_an_article_is_checked_once_in_its_own_file(check):
    fence = "```exercise\nref: side-lying-clam\nreps: 10\n```\n"
    files = {CLAM: card(safety="Fine in pregnancy."), GLUTES: article(fence, front="")}
    assert check(files) == [f"{CLAM}:19: error safety.diastasis", f"{CLAM}:19: error safety.prolapse"]


# ---------------------------------------------------------------- reviews


def test_a_card_without_reviewer_or_date_is_an_error_for_each(check):
    assert check({CLAM: card(review=False)}) == [f"{CLAM}:1: error safety.review-missing"] * 2


def test_an_article_with_its_own_exercise_needs_a_review(check):
    assert check({GLUTES: article(INLINE_EXERCISE, front="")}) == [f"{GLUTES}:1: error safety.review-missing"] * 2


def test_an_article_that_only_uses_cards_needs_no_review_of_its_own(check):
    fence = "```exercise\nref: side-lying-clam\n```\n"
    assert check({CLAM: card(), GLUTES: article(fence, front="")}) == []


def test_a_review_older_than_twelve_months_is_a_warning_at_its_line(check):
    files = {CLAM: card()}  # reviewed 2026-11-01; last_reviewed is on line 5
    assert check(files, today=date(2027, 11, 1)) == []
    assert check(files, today=date(2027, 11, 2)) == [f"{CLAM}:5: warning safety.review-stale"]


def test_the_review_age_is_configurable(make_project, check):
    root = make_project(
        {
            "newsletter.toml": (make_project() / "newsletter.toml").read_text()
            + "\n[safety]\nreview_max_age_months = 6\n"
        }
    )
    config = load_config(root)
    assert findings({CLAM: card()}, config=config, today=date(2027, 5, 2)) == [f"{CLAM}:5: warning safety.review-stale"]
    assert findings({CLAM: card()}, config=config, today=date(2027, 5, 1)) == []


def test_a_review_dated_in_the_future_is_a_warning(check):
    assert check({CLAM: card()}, today=date(2026, 10, 1)) == [f"{CLAM}:5: warning safety.review-future"]


@pytest.mark.parametrize(
    "day, months, expected",
    [
        (date(2026, 11, 27), 12, date(2025, 11, 27)),
        (date(2026, 3, 31), 1, date(2026, 2, 28)),
        (date(2024, 3, 31), 1, date(2024, 2, 29)),
        (date(2026, 1, 15), 13, date(2024, 12, 15)),
    ],
)
def test_months_before_counts_calendar_months(day, months, expected):
    assert months_before(day, months) == expected


# ---------------------------------------------------------------- claims we never make


@pytest.mark.parametrize(
    "sentence",
    [
        "This stretch will cure your back pain.",
        "Results guaranteed.",
        "A painless way back to running.",
        "A miracle move for new mums.",
        "Completely safe for everyone.",
        "Snap back after birth!",
        "Get your pre-baby body back.",
        "Lose the mummy tummy in 10 days.",
        "lose your mum tummy in seven days",
        "A flat tummy in 30 days.",
    ],
)
def test_each_default_banned_claim_is_an_error_where_it_is_written(check, sentence):
    body = f"First paragraph.\n\n{sentence}\n"
    assert check({GLUTES: article(body, front="")}) == [f"{GLUTES}:9: error safety.banned-claim"]


@pytest.mark.parametrize(
    "sentence",
    ["Keep your back secure.", "A curated list.", "Safe in every trimester.", "Lose the habit of holding your breath."],
)
def test_ordinary_words_are_not_banned_claims(check, sentence):
    assert check({GLUTES: article(f"{sentence}\n", front="")}) == []


def test_a_claim_over_a_line_break_is_found_at_the_line_it_starts(check):
    body = "Our plan will help you lose the mummy\ntummy in 14 days, promised.\n"
    assert check({GLUTES: article(body, front="")}) == [f"{GLUTES}:7: error safety.banned-claim"]


def test_claims_in_front_matter_cards_and_issue_notes_count_too(check):
    files = {
        GLUTES: article("Body.\n", front="").replace("title: Wake up your glutes", "title: The guaranteed glute fix"),
        CLAM: card().replace("A gentle exercise.", "A painless exercise."),
        "content/issues/2026-W48.md": "---\nsubject: Hello\n---\n\nA miracle week.\n",
    }
    assert check(files) == [
        f"{GLUTES}:2: error safety.banned-claim",
        f"{CLAM}:8: error safety.banned-claim",
        "content/issues/2026-W48.md:5: error safety.banned-claim",
    ]


def test_the_message_quotes_the_claim_and_the_pattern(make_project):
    content = content_from_texts({GLUTES: article("Results GUARANTEED.\n", front="")})
    (finding,) = safety_findings(content, load_config(make_project()), today=TODAY)
    assert str(finding).startswith(
        f"{GLUTES}:7: error: 'GUARANTEED' is a claim we never make ([safety] banned_claims: /\\bguarantee"
    )


def test_the_banned_claims_are_configurable_as_phrases_or_regular_expressions(make_project):
    toml = (
        make_project() / "newsletter.toml"
    ).read_text() + '\n[safety]\nbanned_claims = ["tone up in N weeks", "/\\\\bdetox\\\\w*/"]\n'
    config = load_config(make_project({"newsletter.toml": toml}))
    files = {GLUTES: article("Tone up in 6 weeks.\n\nA detoxing tea.\n\nA miracle.\n", front="")}
    assert findings(files, config=config) == [
        f"{GLUTES}:7: error safety.banned-claim",
        f"{GLUTES}:9: error safety.banned-claim",
    ]


def test_a_banned_claim_that_is_not_a_valid_regular_expression_is_a_config_error(make_project):
    toml = (make_project() / "newsletter.toml").read_text() + '\n[safety]\nbanned_claims = ["/(unclosed/"]\n'
    with pytest.raises(
        ConfigError, match=r"\[safety\] banned_claims: '/\(unclosed/' is not a valid regular expression"
    ):
        load_config(make_project({"newsletter.toml": toml}))


def test_a_phrase_matches_whole_words_in_any_case_and_spacing():
    pattern = claim_pattern("pre-baby body")
    assert pattern.search("your PRE-BABY   body")
    assert pattern.search("your prebaby body")
    assert not pattern.search("a pre-baby bodysuit")


# ---------------------------------------------------------------- through `newsletter check`


def test_newsletter_check_reports_safety_findings_with_file_and_line(make_project):
    clean = make_project({CLAM: card(), GLUTES: article(INLINE_EXERCISE)})
    result = CliRunner().invoke(main, ["check", "--root", str(clean), "--week", "2026-W48"])
    assert result.exit_code == 0, result.output
    (clean / GLUTES).write_text(
        article(INLINE_EXERCISE.replace("Some prose first.", "A guaranteed fix.")), encoding="utf-8"
    )
    (clean / CLAM).write_text(card(safety="Fine in pregnancy.", review=False), encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--root", str(clean), "--week", "2026-W48"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert (
        f"{GLUTES}:9: error: 'guaranteed' is a claim we never make ([safety] "
        "banned_claims: /\\bguarantee(?:s|d)?\\b/): say what the exercise can "
        "do, without promises" in lines
    )
    assert (
        f"{CLAM}:1: error: 'reviewed_by' is missing: exercise card 'Side-lying "
        "clam' must be checked by a professional; add  reviewed_by: Dr Anouk "
        "Verhoeven, pelvic health physiotherapist  to the front matter" in lines
    )
    assert any(
        line.startswith(f"{CLAM}:17: error: exercise card 'Side-lying clam' gives no prolapse guidance")
        for line in lines
    )


def test_newsletter_check_reports_a_card_without_pregnancy_suitability_once(make_project):
    # Cards' `pregnancy` is checked by pipeline/authoring/check/rules/exercises.py; the safety rules do not repeat it.
    root = make_project({CLAM: card().replace("pregnancy: safe\n", "")})
    result = CliRunner().invoke(main, ["check", "--root", str(root), "--week", "2026-W48"])
    assert result.exit_code == 1
    about_pregnancy = [line for line in result.output.splitlines() if line.startswith(CLAM) and "pregnan" in line]
    assert len(about_pregnancy) == 1 and "has no 'pregnancy' value" in about_pregnancy[0]


# ---------------------------------------------------------------- the welcome email (content/welcome.md)

WELCOME = "content/welcome.md"


def welcome(body: str, front: str = "reviewed_by: Dr Anouk Verhoeven, pelvic health physiotherapist\n") -> str:
    return (
        "---\ntitle: Welcome\ndate: 2026-11-24\nsummary: What to expect.\n"
        f"last_reviewed: 2026-11-01\n{front}---\n\n{textwrap.dedent(body).lstrip()}"
    )


def check_lines(root) -> list[str]:
    result = CliRunner().invoke(main, ["check", "--root", str(root), "--week", "2026-W48"])
    assert "Traceback" not in result.output
    return result.output.splitlines()


def test_an_exercise_in_the_welcome_email_gets_the_safety_rules_at_its_lines(make_project):
    unsafe = INLINE_EXERCISE.replace("pregnancy: safe\n", "").replace(
        "With a prolapse, keep the lift small; with a\ndiastasis, watch the midline.", "Go gently."
    )
    root = make_project({CLAM: card(), GLUTES: article(INLINE_EXERCISE), WELCOME: welcome(unsafe)})
    lines = check_lines(root)
    # welcome.md: 7 front-matter lines, a blank line, then the body: its "### Safety" heading is line 23
    assert any(
        line.startswith(f"{WELCOME}:23: error: exercise 'the hip extension' gives no prolapse guidance")
        for line in lines
    ), lines
    assert any(
        line.startswith(f"{WELCOME}:23: error: exercise 'the hip extension' gives no diastasis guidance")
        for line in lines
    )
    assert any(
        line.startswith(f"{WELCOME}:23: error: exercise 'the hip extension' does not say whether it suits pregnancy")
        for line in lines
    )


def test_a_welcome_exercise_without_a_review_or_progression_is_an_error(make_project):
    no_progression = INLINE_EXERCISE.replace("### Progression\n\nAt 20 clean repetitions, lift one foot.\n\n", "")
    root = make_project({CLAM: card(), WELCOME: welcome(no_progression, front="")})
    lines = check_lines(root)
    assert any(line.startswith(f"{WELCOME}:1: error: 'reviewed_by' is missing") for line in lines)
    assert any(f"{WELCOME}:" in line and "has no progression rule" in line for line in lines)


def test_a_banned_claim_in_the_welcome_email_is_an_error_where_it_is_written(make_project):
    root = make_project({CLAM: card(), WELCOME: welcome("Hello.\n\nThis programme is a guaranteed fix.\n")})
    lines = check_lines(root)
    assert any(line.startswith(f"{WELCOME}:11: error: 'guaranteed' is a claim we never make") for line in lines)


def test_an_avoid_card_in_the_welcomes_pregnant_part_is_an_error(make_project):
    avoid = card(name="Plank").replace("pregnancy: safe", "pregnancy: avoid")
    body = "Hello.\n\n::: only pregnant\n```exercise\nref: plank\n```\n:::\n"
    root = make_project({"content/exercises/plank.md": avoid, WELCOME: welcome(body)})
    lines = check_lines(root)
    assert any(
        line.startswith(
            f"{WELCOME}:12: error: exercise 'Plank' is marked pregnancy: avoid but sits in a '::: only pregnant' part"
        )
        for line in lines
    )


def test_a_safe_welcome_email_adds_no_findings(make_project):
    root = make_project({CLAM: card(), GLUTES: article(INLINE_EXERCISE), WELCOME: welcome(INLINE_EXERCISE)})
    assert not [line for line in check_lines(root) if line.startswith(f"{WELCOME}:") and ": error: " in line]

"""Safety rules for `newsletter check`: exercise content treated as data that can be checked.

Our readers are pregnant or recovering from birth, so every exercise a reader may follow (a
library card, or an exercise block written in an article) must:

- say whether it suits pregnancy (a card's `pregnancy:` front matter, checked by
  checks/exercises.py; a block's `pregnancy: safe|modify|avoid` line in its safety section);
- give prolapse guidance and diastasis guidance in its safety section or cautions;
- have a progression rule;
- have been reviewed: `reviewed_by` and `last_reviewed` in the card's front matter, or in the
  front matter of the article the block is written in. A missing one is an error; a review older
  than `[safety] review_max_age_months` is a warning.

And no content file may make a claim from `[safety] banned_claims`, wherever it is written.

`safety_findings(content, config)` is pure: it reads only the model (the files' texts are in
`content.source_texts`, for the file:line of each claim).
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from typing import TYPE_CHECKING

from pipeline.content.assemble import own_exercises_named
from pipeline.content.exercise_blocks import section_kind
from pipeline.content.frontmatter import key_lines
from pipeline.content.reviews import review_date_findings
from pipeline.core.clock import build_date
from pipeline.core.config import claim_pattern
from pipeline.core.model import (
    ERROR,
    PREGNANCY_VALUES,
    Article,
    Content,
    Exercise,
    ExerciseBlock,
    Finding,
    Review,
    Source,
)

if TYPE_CHECKING:
    from pipeline.core.config import Config, SafetyConfig


# Words that show the safety text speaks to each condition (matched at the start of a word).
PROLAPSE_WORDS = ("prolapse",)
DIASTASIS_WORDS = ("diastasis", "tummy gap", "abdominal separation", "separated tummy", "separated abdominal")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def safety_findings(content: Content, config: Config, today: date | None = None) -> list[Finding]:
    today = today or build_date(config.email.timezone)
    findings: list[Finding] = []
    for exercise in content.exercises.values():
        findings += card_findings(exercise, content, config.safety, today)
    for article in content.articles:
        findings += article_findings(article, content, config.safety, today)
    findings += banned_claim_findings(content.source_texts, config.safety.banned_claims)
    return findings


def welcome_safety_findings(
    welcome: Article, text: str, content: Content, config: Config, today: date | None = None
) -> list[Finding]:
    """The same rules for content/welcome.md, the welcome email of `newsletter serve` (it is no
    article of a week, so safety_findings does not see it): its own exercises' guidance,
    pregnancy line and review, the claims we never make, and an `avoid` exercise in a part only
    pregnant readers see. `text` is the file as written, for the lines."""
    today = today or build_date(config.email.timezone)
    path = welcome.source.path
    with_text = dataclasses.replace(content, source_texts={**content.source_texts, path: text})
    findings = article_findings(welcome, with_text, config.safety, today)
    findings += banned_claim_findings({path: text}, config.safety.banned_claims)
    findings += avoided_for_pregnancy_findings(welcome, config.audience.pregnant_stage)
    return findings


def avoided_for_pregnancy_findings(article: Article, pregnant_stage: str) -> list[Finding]:
    """An exercise marked `pregnancy: avoid` (her own block or a card) inside `::: only <the
    pregnant stage>`: the versions leave it out, so nobody gets it, and the text around it was
    written for readers it must not reach."""
    return [
        Finding(
            block.source.path,
            block.source.line,
            ERROR,
            f"exercise '{block.name}' is marked pregnancy: avoid but sits in a '::: only {pregnant_stage}' part: "
            "move it out of that part, or choose an exercise that suits pregnancy",
            "safety.avoid-for-pregnant",
        )
        for block in article.exercises
        if block.pregnancy == "avoid" and block.stages and set(block.stages) <= {pregnant_stage}
    ]


# ---------------------------------------------------------------- exercises


def card_findings(exercise: Exercise, content: Content, safety: SafetyConfig, today: date) -> list[Finding]:
    what = f"exercise card '{exercise.name}'"
    text = content.source_texts.get(exercise.source.path, "")
    findings = guidance_findings(exercise.block, what, text)
    findings += review_findings(exercise.meta, exercise.source.path, text, what, safety, today)
    return findings


def article_findings(article: Article, content: Content, safety: SafetyConfig, today: date) -> list[Finding]:
    """The exercises written in the article itself; a card used with ```exercise is checked in its own file."""
    blocks = [block for block in article.exercises if block.ref is None]
    if not blocks:
        return []
    text = content.source_texts.get(article.source.path, "")
    findings: list[Finding] = []
    for block in blocks:
        what = f"exercise '{block.name}'"
        findings += guidance_findings(block, what, text)
        if block.pregnancy not in PREGNANCY_VALUES:
            findings.append(
                Finding(
                    block.source.path,
                    _section_line(text, block, "safety"),
                    ERROR,
                    f"{what} does not say whether it suits pregnancy: add a line  pregnancy: "
                    f"{' | '.join(PREGNANCY_VALUES)}  "
                    "to its safety section",
                    "safety.pregnancy",
                )
            )
    findings += review_findings(article.meta, article.source.path, text, own_exercises_named(article), safety, today)
    return findings


def guidance_findings(block: ExerciseBlock, what: str, text: str) -> list[Finding]:
    path = block.source.path
    safety_text = " ".join([block.safety, *block.cautions])
    findings = []
    if not mentions(safety_text, PROLAPSE_WORDS):
        findings.append(
            Finding(
                path,
                _section_line(text, block, "safety"),
                ERROR,
                f"{what} gives no prolapse guidance: say in its safety section whether it suits someone with a pelvic "
                "organ prolapse, and how to adapt it",
                "safety.prolapse",
            )
        )
    if not mentions(safety_text, DIASTASIS_WORDS):
        findings.append(
            Finding(
                path,
                _section_line(text, block, "safety"),
                ERROR,
                f"{what} gives no diastasis guidance: say in its safety section how to do it with a diastasis "
                "(tummy gap), e.g. what to watch for along the midline",
                "safety.diastasis",
            )
        )
    if not block.progression.strip():
        findings.append(
            Finding(
                path,
                block.source.line,
                ERROR,
                f"{what} has no progression rule: add a '### Progression' section saying "
                "when and how to make it harder",
                "safety.progression",
            )
        )
    return findings


def mentions(text: str, words: tuple[str, ...]) -> bool:
    lowered = " ".join(text.lower().split())
    return any(re.search(r"\b" + re.escape(word), lowered) for word in words)


# ---------------------------------------------------------------- reviews


def review_findings(meta: dict, path: str, text: str, what: str, safety: SafetyConfig, today: date) -> list[Finding]:
    lines = _key_lines(text, path)
    findings = []
    for key, example in (
        ("reviewed_by", "Dr Anouk Verhoeven, pelvic health physiotherapist"),
        ("last_reviewed", today.isoformat()),
    ):
        if not meta.get(key):
            findings.append(
                Finding(
                    path,
                    1,
                    ERROR,
                    f"'{key}' is missing: {what} must be checked by a professional; add  "
                    f"{key}: {example}  to the front matter",
                    "safety.review-missing",
                )
            )
    reviewed = meta.get("last_reviewed")
    if isinstance(reviewed, date):
        findings += review_date_findings(
            Review(what, Source(path, lines.get("last_reviewed", 1)), reviewed), safety, today
        )
    return findings


# ---------------------------------------------------------------- claims we never make


def banned_claim_findings(texts: dict[str, str], patterns: list[str]) -> list[Finding]:
    compiled = [(pattern, claim_pattern(pattern)) for pattern in patterns]
    findings = []
    for path in sorted(texts):
        # Same length, so offsets stay line-exact; a phrase may run over a line break.
        flat = texts[path].replace("\n", " ")
        for pattern, regex in compiled:
            for match in regex.finditer(flat):
                line = texts[path].count("\n", 0, match.start()) + 1
                claim = " ".join(match.group(0).split())
                findings.append(
                    Finding(
                        path,
                        line,
                        ERROR,
                        f"'{claim}' is a claim we never make ([safety] banned_claims: {pattern}): "
                        "say what the exercise "
                        "can do, without promises",
                        "safety.banned-claim",
                    )
                )
    return findings


# ---------------------------------------------------------------- where to point


def _section_line(text: str, block: ExerciseBlock, kind: str) -> int:
    """The line of the block's `### <kind>` heading in its file, else the block's own line."""
    lines = text.splitlines()
    start = block.source.line  # the `## Exercise` heading, or line 1 of a card
    if start == 1 and lines and lines[0].strip() == "---":  # a card: its body starts after the front matter
        start = next((number for number in range(2, len(lines) + 1) if lines[number - 1].strip() == "---"), 1)
    in_fence = False
    for number in range(start, len(lines) + 1):
        line = lines[number - 1]
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        heading = None if in_fence else _HEADING.match(line)
        if heading is None:
            continue
        level = len(heading.group(1))
        if level <= 2 and number > start:
            break  # the next exercise or section of the article
        if level == 3 and section_kind(heading.group(2)) == kind:
            return number
    return block.source.line


def _key_lines(text: str, path: str) -> dict[str, int]:
    if not text:
        return {}
    try:
        return key_lines(text, path)
    except Exception:  # an unreadable front matter is the loader's error, reported there
        return {}

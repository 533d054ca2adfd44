"""Exercise rules: every exercise a reader may follow has tips and a safety section, and every
library card says whether it suits pregnancy."""

from __future__ import annotations

from pipeline.core.config import Config
from pipeline.core.model import PREGNANCY_VALUES, Article, Content, ExerciseBlock, Finding


def exercise_findings(content: Content, config: Config) -> list[Finding]:
    findings: list[Finding] = []
    for article in content.articles:
        findings += article_exercise_findings(article)
    for exercise in content.exercises.values():
        findings += _block_findings(exercise.block, f"exercise card '{exercise.name}'")
        if exercise.block.pregnancy is None:
            findings.append(
                Finding(
                    exercise.source.path,
                    exercise.source.line,
                    "error",
                    f"exercise card '{exercise.name}' has no 'pregnancy' value: add  pregnancy: "
                    f"{' | '.join(PREGNANCY_VALUES)}  to its front matter, so readers know whether it suits pregnancy",
                    "exercise.no-pregnancy",
                )
            )
    return findings


def article_exercise_findings(article: Article) -> list[Finding]:
    """The exercises written in the article (or the welcome email) itself."""
    findings: list[Finding] = []
    for block in article.exercises:
        if block.ref is None:  # a card used with ```exercise is checked once, in its own file
            findings += _block_findings(block, f"exercise '{block.name}'")
    return findings


def _block_findings(block: ExerciseBlock, what: str) -> list[Finding]:
    path, line = block.source.path, block.source.line
    findings = []
    if not block.tips:
        findings.append(
            Finding(
                path,
                line,
                "warning",
                f"{what} has no tips: add a '### Tips' section with the cues that keep it safe and effective",
                "exercise.no-tips",
            )
        )
    if not block.safety.strip():
        findings.append(
            Finding(
                path,
                line,
                "warning",
                f"{what} has no safety section: add '### Safety' (when to stop, how to adapt it in pregnancy "
                "and after birth); the email cannot show an exercise without one",
                "exercise.no-safety",
            )
        )
    return findings

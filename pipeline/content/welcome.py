"""The welcome email a reader gets when she confirms: `content/welcome.md`, written like an
article (front matter `title` = the subject, `summary` = the preview text, `date`), with
`::: only <stage>` parts and exercise blocks or cards, and made into one Issue per stage
version like a weekly issue. Pure apart from reading that one file.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pipeline.content.assemble import visible_to
from pipeline.content.load import resolve_exercise_refs
from pipeline.content.parse import parse_article
from pipeline.core.config import Config
from pipeline.core.errors import ContentError, ContentErrors
from pipeline.core.model import Article, Content, Issue
from pipeline.core.stages import GENERAL_STAGE

WELCOME_FILE = "content/welcome.md"


def welcome_path(config: Config) -> Path:
    return config.root / WELCOME_FILE


def load_welcome(config: Config, content: Content) -> Article | None:
    """The welcome article, its exercise cards resolved from the library; None without the file.
    Raises ContentErrors naming content/welcome.md and the line of each problem."""
    path = welcome_path(config)
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ContentErrors(
            [ContentError(WELCOME_FILE, 1, f"not UTF-8 text ({error.reason}): save it as UTF-8")]
        ) from None
    article = parse_article(text, WELCOME_FILE, config.audience.stages)
    errors: list[ContentError] = []
    resolve_exercise_refs(article, content.exercises, errors)
    if errors:
        raise ContentErrors(errors)
    return article


def welcome_issue(article: Article, config: Config, stage: str | None) -> Issue:
    """The welcome for a reader of `stage` (a configured stage, `general`, or None: not given,
    which gets the general version): only the parts her version may show."""
    version = stage if stage in config.audience.stages else GENERAL_STAGE
    parts = [part for part in article.parts if visible_to(part, version, config)]
    return Issue(
        week="welcome",
        key=f"welcome-{version}",
        subject=article.title,
        preview_text=article.summary,
        intro="",
        articles=[dataclasses.replace(article, parts=parts)],
        monday=article.date,
        stage=version,
        label="Welcome",
        on_blog=False,
    )

"""Safety notes reach every channel: for every exercise in every week of the real content, its
safety text, cautions and pregnancy suitability are in its card on the blog article page, in the
HTML email before the point where Gmail clips it, and in the plain-text part.

Text is compared after normalising: Markdown rendered the way the site renders it, tags removed,
whitespace collapsed, the text part's "!! " safety markers and spelled-out links dropped.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

import lxml.html
import pytest
from helpers import REPO

from pipeline.content.assemble import assemble_issues, is_sendable
from pipeline.content.load import load_content
from pipeline.core.config import load_config
from pipeline.core.model import Article, ExerciseBlock, SignupForm
from pipeline.core.urls import exercise_anchor
from pipeline.core.weeks import week_of
from pipeline.render import blog, email
from pipeline.render.email import GMAIL_CLIP_BYTES, render_email
from pipeline.render.markdown import MarkdownRenderer

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
SIGNUP = SignupForm(action="https://lists.example/subscribe", method="post", email_field="email")


@dataclass
class Delivery:
    """One exercise as one email version delivered it."""

    id: str
    article: Article
    block: ExerciseBlock
    anchor: str
    email_html_before_clip: str
    email_text: str
    excerpted: bool


def words(text: str) -> str:
    return " ".join(text.split())


def plain(markdown: str) -> str:
    html = MarkdownRenderer("https://strongfromwithin.example/").convert(markdown)
    return words(lxml.html.fromstring(f"<div>{html}</div>").text_content())


def safety_snippets(block: ExerciseBlock) -> list[str]:
    """Each paragraph of the safety note and each caution, as readers see the words."""
    paragraphs = [plain(paragraph) for paragraph in re.split(r"\n\s*\n", block.safety) if paragraph.strip()]
    return paragraphs + [plain(caution) for caution in block.cautions]


def text_part_words(text: str) -> str:
    without_markers = re.sub(r"(?m)^!!\s?", "", text)
    without_links = re.sub(r" \(https?://[^)\s]+\)", "", without_markers)
    return words(without_links)


def html_words(html: str) -> str:
    return words(lxml.html.fromstring(html).text_content()) if html.strip() else ""


@pytest.fixture(scope="module")
def real():
    root = REPO  # read only: the real content, templates and settings
    config = load_config(root)
    content = load_content(config)
    site = blog.render_site(content, config, SIGNUP, NOW)
    return config, content, site


def deliveries(config, content) -> list[Delivery]:
    weeks = sorted({week_of(article.date) for article in content.articles if is_sendable(article)})
    found = []
    for week in weeks:
        for issue in assemble_issues(content, config, week):
            rendered = render_email(issue, config, "https://strongfromwithin.example/unsubscribe/")
            before_clip = rendered.html.encode("utf-8")[:GMAIL_CLIP_BYTES].decode("utf-8", "ignore")
            for article in issue.articles:
                seen: Counter[str] = Counter()
                for block in article.exercises:
                    seen[block.slug] += 1
                    found.append(
                        Delivery(
                            id=f"{week}-{issue.stage or 'all'}-{article.slug}-{block.slug}",
                            article=article,
                            block=block,
                            anchor=exercise_anchor(block.slug, seen[block.slug]),
                            email_html_before_clip=before_clip,
                            email_text=rendered.text,
                            excerpted=article.slug in rendered.excerpted,
                        )
                    )
    return found


def _deliveries() -> list[Delivery]:
    config = load_config(REPO)
    return deliveries(config, load_content(config))


DELIVERIES = _deliveries()


def test_the_real_content_has_exercises_to_check():
    assert len({(d.article.slug, d.block.slug) for d in DELIVERIES}) >= 5
    assert not any(d.excerpted for d in DELIVERIES)  # every week fits whole, so every safety note is in the email


@pytest.mark.parametrize("delivery", DELIVERIES, ids=[d.id for d in DELIVERIES])
def test_the_safety_note_is_in_the_exercise_card_on_the_blog(real, delivery):
    _, _, site = real
    page = lxml.html.fromstring(site[f"articles/{delivery.article.slug}/index.html"])
    card = words(page.get_element_by_id(delivery.anchor).text_content())
    for snippet in safety_snippets(delivery.block):
        assert snippet in card
    assert blog.PREGNANCY_LABELS[delivery.block.pregnancy] in card


@pytest.mark.parametrize("delivery", DELIVERIES, ids=[d.id for d in DELIVERIES])
def test_the_safety_note_is_in_the_html_email_before_gmail_clips_it(delivery):
    visible = html_words(delivery.email_html_before_clip)
    for snippet in safety_snippets(delivery.block):
        assert snippet in visible
    assert email.PREGNANCY_LABELS[delivery.block.pregnancy] in visible


@pytest.mark.parametrize("delivery", DELIVERIES, ids=[d.id for d in DELIVERIES])
def test_the_safety_note_is_in_the_plain_text_part(delivery):
    text = text_part_words(delivery.email_text)
    for snippet in safety_snippets(delivery.block):
        assert snippet in text
    assert email.PREGNANCY_LABELS[delivery.block.pregnancy] in text


def test_a_safety_note_cut_off_by_gmail_would_be_caught(real):
    """The check itself can fail: a note that only appears after the clipping point is missed."""
    delivery = DELIVERIES[0]
    snippet = safety_snippets(delivery.block)[0]
    late = "x" * GMAIL_CLIP_BYTES + f"<p>{snippet}</p>"
    assert snippet not in html_words(late.encode("utf-8")[:GMAIL_CLIP_BYTES].decode("utf-8", "ignore"))

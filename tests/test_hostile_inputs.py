"""Arbitrary text, front matter and settings - control characters, CR/LF, deep nesting, raw HTML,
Markdown and YAML syntax in the wrong places - driven through the loader, the renderers and the
MIME builder (issue #16). The property: each either works or raises a PipelineError (a message
for the writer, exit 2); anything else would be a traceback, a bug.

The number of examples comes from the hypothesis profile (tests/conftest.py): `default` in
`make test`, `thorough` (10,000 examples per test) in `make test-hostile`, with
HYPOTHESIS_PROFILE=thorough."""

from __future__ import annotations

import contextlib
import email
import email.policy
from datetime import UTC, datetime
from pathlib import Path

import yaml
from hypothesis import event, given
from hypothesis import strategies as st

from pipeline.content.assemble import assemble_issues
from pipeline.content.load import content_from_texts
from pipeline.core.config import config_from_dict
from pipeline.core.errors import PipelineError
from pipeline.core.model import SignupForm
from pipeline.render.blog import render_site
from pipeline.render.email import render_email
from pipeline.render.mime import make_eml

WEEK = "2026-W48"
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # the sample week's Thursday: the articles below are in it
ROOT = Path(__file__).resolve().parent.parent

# Pieces that mean something to one of the parsers, mixed into otherwise arbitrary text.
TRICKY = [
    "\r\n",
    "\r",
    "\n",
    "\x00",
    "\x07",
    "\x1b[31m",
    "\x0c",
    "\u2028",
    "\u200b",
    "\ufeff",
    "\x85",
    "---",
    "...",
    ": ",
    "- ",
    "#",
    "## Exercise - Bridge",
    "### Safety",
    "### Tips",
    "1 - ",
    "```",
    "```exercise",
    "::: only pregnant",
    ":::",
    "<script>alert(1)</script>",
    "<iframe src=x>",
    "<b onmouseover=x>",
    "&amp;",
    "&#0;",
    "[link](javascript:alert(1))",
    "![x](../../../../etc/passwd)",
    "{{ 7*7 }}",
    "{% raw %}",
    "%%newsletter-fragment-0%%",
    "NEWSLETTER-UNSUBSCRIBE-TOKEN",
    "\t",
    "  ",
    "*",
    "_",
    "|",
    "> ",
    "[^1]",
    "[^1]: note",
    "*[HTML]: x",
]
TEXT = st.lists(st.one_of(st.sampled_from(TRICKY), st.text(max_size=30)), max_size=12).map("".join)
NESTED = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT, st.dates()),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(TEXT, children, max_size=4)),
    max_leaves=20,
)
DEEP = st.integers(min_value=1, max_value=4000).flatmap(
    lambda depth: st.sampled_from(["[" * depth + "]" * depth, "{a: " * depth + "1" + "}" * depth, "- " * depth + "x"])
)


def front_matter_value():
    return st.one_of(NESTED, DEEP, TEXT)


@st.composite
def article_text(draw) -> str:
    """An article: usually well-formed enough to get past the first checks, with hostile values."""
    meta = {
        "title": draw(st.one_of(TEXT, st.just("A walk"))),
        "date": draw(st.sampled_from(["2026-11-24", "2026-11-31", "yesterday", "2026-11-24T25:00"])),
        "summary": draw(st.one_of(TEXT, st.just("Out of the door."))),
    }
    extra = draw(
        st.dictionaries(
            st.sampled_from(["tags", "slug", "author", "draft", "image", "newsletter", "x"]),
            front_matter_value(),
            max_size=3,
        )
    )
    meta.update(extra)
    try:
        header = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, RecursionError):
        header = "title: A walk\n"
    if draw(st.booleans()):
        header += draw(TEXT) + "\n"  # a line YAML may not like
    body = "\n\n".join(draw(st.lists(TEXT, max_size=8)))
    if draw(st.integers(0, 9)) == 0:
        depth = draw(st.integers(1, 1200))
        body += "\n" + "".join("  " * level + "- x\n" for level in range(depth))
    return f"---\n{header}---\n\n{body}\n"


CONFIG_SECTIONS = {
    "site": ["title", "base_url", "description", "language", "author", "per_page"],
    "email": [
        "sender_name",
        "sender_address",
        "reply_to",
        "postal_address",
        "content",
        "unsubscribe_url",
        "timezone",
        "why_you_get_this",
        "disclaimer",
    ],
    "audience": ["stages", "pregnant_stage"],
    "safety": ["review_max_age_months", "banned_claims"],
    "provider": ["name", "base_url", "signup_url"],
}


@st.composite
def config_dict(draw) -> dict:
    raw: dict = {}
    for section, keys in CONFIG_SECTIONS.items():
        chosen = draw(st.lists(st.sampled_from(keys), max_size=3, unique=True))
        raw[section] = {key: draw(st.one_of(TEXT, NESTED)) for key in chosen}
    if draw(st.booleans()):
        raw[draw(TEXT)] = draw(NESTED)
    return raw


def config_or_none(raw: dict):
    try:
        return config_from_dict(raw, ROOT)
    except PipelineError:
        return None


@given(article_text(), st.one_of(st.none(), article_text()))
def test_the_loader_gives_content_or_a_clear_error(first, second):
    files = {"content/articles/first.md": first}
    if second is not None:
        files["content/exercises/card.md"] = second
    with contextlib.suppress(PipelineError):
        content_from_texts(files)


@given(config_dict())
def test_any_settings_are_a_config_or_a_clear_error(raw):
    config_or_none(raw)


@given(article_text(), config_dict())
def test_an_article_that_loads_renders_to_a_blog_an_email_and_a_message_or_a_clear_error(text, raw):
    config = config_or_none(raw) or config_from_dict({}, ROOT)
    try:
        content = content_from_texts({"content/articles/first.md": text})
    except PipelineError:
        event("the article did not load")
        return
    event("the article loaded")
    try:
        render_site(content, config, SignupForm(action="mailto:hello@example.com"), NOW)
        for issue in assemble_issues(content, config, WEEK):
            rendered = render_email(issue, config, config.unsubscribe_url)
            eml = make_eml(rendered, config, NOW)
            message = email.message_from_bytes(eml, policy=email.policy.default)
            assert len(message.get_all("From")) == 1 and len(message.get_all("Subject")) == 1
    except PipelineError:
        event("a render refused it")

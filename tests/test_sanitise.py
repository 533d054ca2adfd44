"""Raw HTML in Markdown (README, "Raw HTML in Markdown"): kept on the blog, where the writer is
trusted; sanitised (nh3) in the email and the feed, body and summary alike."""

from __future__ import annotations

import email
import email.policy
import random
from urllib.parse import urlsplit

import feedparser
import lxml.html
import pytest
from helpers import build_project

from pipeline.core.config import load_config
from pipeline.render import sanitise
from pipeline.render.sanitise import email_safe

HOSTILE = (
    '<script>alert("body")</script>\n\n'
    '<iframe src="https://evil.example/"></iframe>\n\n'
    '<p onclick="steal()" style="position:fixed;text-align:center">Tap me</p>\n\n'
    "[a trap](javascript:alert(1)) and [another](JaVa&#115;cript:alert(2)) and [a fine link](https://example.com/)\n"
)
ARTICLE = f"""---
title: A walk
date: 2026-11-24
summary: 'Out <script>alert("summary")</script> of the <img src=x onerror=alert(3)> door.'
---

Breathe out.

{HOSTILE}
"""
DANGEROUS = ("<script", "<iframe", "onclick", "onerror", "position:fixed", "steal()")


def link_schemes(page: str) -> set[str]:
    tree = lxml.html.fromstring(page)
    return {urlsplit(value.strip()).scheme.lower() for value in tree.xpath("//@href | //@src")}


@pytest.fixture
def built(make_project):
    root = make_project({"content/articles/a.md": ARTICLE})
    return root, build_project(load_config(root), "2026-W48")


def test_the_email_html_and_text_carry_no_script_frame_handler_or_javascript_link(built):
    root, _ = built
    week = root / "dist" / "email" / "2026-W48"
    page = (week / "index.html").read_text(encoding="utf-8")
    message = email.message_from_bytes((week / "email.eml").read_bytes(), policy=email.policy.default)
    html_part = message.get_body(("html",)).get_content()
    for text in (page, html_part):
        lowered = text.lower()
        assert not [word for word in DANGEROUS if word.lower() in lowered]
        assert link_schemes(text) <= {"https", "mailto", ""}
    assert "Tap me" in page and 'href="https://example.com/"' in page and "text-align:center" in page
    plain = message.get_body(("plain",)).get_content()
    assert 'alert("body")' not in plain and 'alert("summary")' not in plain and "evil.example" not in plain


def test_the_feed_is_sanitised_like_the_email(built):
    root, _ = built
    feed = (root / "dist" / "site" / "feed.xml").read_text(encoding="utf-8")
    entry = feedparser.parse(feed).entries[0]
    content = entry.content[0].value.lower()
    assert not [word for word in DANGEROUS if word.lower() in content]
    assert link_schemes(entry.content[0].value) <= {"https", ""}
    assert "tap me" in content


def test_the_blog_keeps_the_writers_raw_html(built):
    root, _ = built
    page = (root / "dist" / "site" / "articles" / "a" / "index.html").read_text(encoding="utf-8")
    assert '<iframe src="https://evil.example/"></iframe>' in page  # trusted: documented in the README


@pytest.mark.parametrize(
    "fragment",
    ["<p>Plain &amp; simple &rsquo;quotes&rsquo;</p>", '<p><a href="https://example.com/a?b=1&amp;c=2">x</a></p>'],
)
def test_html_markdown_made_with_safe_links_is_left_byte_for_byte(fragment):
    assert email_safe(fragment, had_raw_html=False) == fragment


def test_an_unsafe_link_in_markdown_made_html_is_removed_even_without_raw_html():
    cleaned = email_safe('<p><a href="vbscript:run()">x</a> <img src="data:image/svg+xml,abc" alt="y"></p>', False)
    assert "vbscript" not in cleaned and "data:" not in cleaned and ">x</a>" in cleaned


URL_PIECES = [
    '<a href="https://x.example/a?b=c&amp;d=e">',
    "<img src='javascript:x'>",
    "href",
    "src",
    "HREF",
    "\u017frc",
]
URL_PIECES += [
    " = ",
    "=",
    '"',
    "'",
    "xhref=",
    "data-src=",
    "href =\n 'a'",
    "src=javascript:alert(1)",
    "hrefsrc=",
    "a",
    " ",
]
URL_PIECES += [">", "<", 'href="src=java:x"', "mailto:a@b", "=src=", "\u00a0"]


def test_the_url_attributes_found_from_each_equals_sign_are_those_the_regex_finds():
    rng = random.Random(2026)
    for _ in range(20000):
        text = "".join(rng.choice(URL_PIECES) for _ in range(rng.randint(1, 15)))
        expected = [match.span() for match in sanitise._URL_ATTRIBUTE.finditer(text)]
        assert [match.span() for match in sanitise._url_attributes(text)] == expected, text

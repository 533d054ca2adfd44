"""Markdown as writers write it (GitHub, other tools), the same in the blog, the email's HTML and
its plain text: nested lists at two or four spaces, a list straight after a paragraph, heading
ids, strikethrough, task lists, bare URLs, Markdown inside <details>, callouts; and no <iframe>
or <script> in an email."""

from __future__ import annotations

import random

import pytest
from helpers import REPO

from pipeline.core.errors import ContentError
from pipeline.render import lists
from pipeline.render.markdown import MarkdownRenderer
from pipeline.render.text import html_to_text

BLOG = MarkdownRenderer("https://example.com/", site_root="../../")
EMAIL = MarkdownRenderer("https://example.com/", absolute=True)


def blog(text: str) -> str:
    return BLOG.convert(text, "content/articles/a.md")


def email(text: str) -> str:
    return EMAIL.convert(text, "content/articles/a.md")


@pytest.mark.parametrize("indent", ["  ", "    "])
def test_a_list_nested_by_two_or_four_spaces_is_nested(indent):
    html = blog(f"- hips\n{indent}- glutes\n{indent}{indent}- deep\n- core\n")
    assert html == (
        "<ul>\n<li>hips<ul>\n<li>glutes<ul>\n<li>deep</li>\n</ul>\n</li>\n</ul>\n</li>\n<li>core</li>\n</ul>"
    )


def test_a_list_straight_after_a_paragraph_is_a_list():
    assert blog("You need:\n- a mat\n- a towel\n") == "<p>You need:</p>\n<ul>\n<li>a mat</li>\n<li>a towel</li>\n</ul>"


def test_an_item_with_two_paragraphs_keeps_the_next_item_apart():
    html = blog("- one\n\n  more about one\n- two\n")
    assert html.count("<li>") == 2 and "more about one</p>\n</li>" in html


def test_headings_have_ids_for_in_page_links():
    assert blog("## Where to start\n\nSee [below](#where-to-start).") == (
        '<h2 id="where-to-start">Where to start</h2>\n<p>See <a href="#where-to-start">below</a>.</p>'
    )


def test_a_toc_marker_becomes_a_table_of_contents_and_its_text_elsewhere_stays():
    html = blog("## Warm up\n\n[TOC]\n\n## Lift\n\nWrite [TOC] on its own line for one.\n")
    assert '<div class="toc">' in html and '<a href="#lift">Lift</a>' in html
    assert "<p>Write [TOC] on its own line for one.</p>" in html
    assert '<div class="toc">' not in blog("## Warm up\n\nNo marker here.\n")


def test_strikethrough_task_lists_and_bare_addresses():
    html = blog("~~old~~ new, see https://example.org/pelvic-floor\n\n- [x] breathe\n- [ ] lift\n")
    assert "<del>old</del>" in html
    assert '<a href="https://example.org/pelvic-floor">https://example.org/pelvic-floor</a>' in html
    assert '<li class="task-list-item">\u2611 breathe</li>' in html and "\u2610 lift" in html
    assert "<input" not in html  # no form field: not in a page, not in an email


def test_markdown_inside_details_is_rendered():
    html = blog("<details>\n<summary>Why?</summary>\n\nBecause **the breath** comes first.\n\n</details>\n")
    assert (
        html
        == "<details>\n<summary>Why?</summary>\n<p>Because <strong>the breath</strong> comes first.</p>\n</details>"
    )


def test_a_callout_is_a_labelled_box():
    assert blog("> [!WARNING]\n> Stop if it hurts.\n") == (
        '<div class="admonition warning">\n<p class="admonition-title">Warning</p>\n<p>Stop if it hurts.</p>\n</div>'
    )


def test_typography_leaves_code_alone():
    assert blog('"Hi" and `{{< x "y" >}}`') == '<p>&ldquo;Hi&rdquo; and <code>{{&lt; x "y" &gt;}}</code></p>'


def test_the_email_gets_the_same_and_its_text_part_reads_well():
    source = "You need:\n- a mat\n  - a thick one\n\nThen:\n\n- [x] breathe\n"
    html = email(source)
    assert html == blog(source)
    assert html_to_text(html) == "You need:\n\n  - a mat\n    - a thick one\n\nThen:\n\n  - \u2611 breathe"


def test_a_video_player_becomes_a_link_in_the_email_and_stays_on_the_blog():
    frame = '<iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ" allowfullscreen></iframe>\n'
    assert email(frame) == '<p><a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ">Watch the video on YouTube</a></p>'
    assert "<iframe" in blog(frame)


def test_no_other_iframe_or_script_reaches_an_email():
    html = email('Map:\n\n<iframe src="https://maps.example/x"></iframe>\n\n<script>track()</script>\n\nEnd.\n')
    assert "<iframe" not in html and "<script" not in html and "track()" not in html
    assert html.startswith("<p>Map:</p>") and html.endswith("<p>End.</p>")


@pytest.mark.parametrize("text", ["> - a\n>   - b\n", "> Quote\n- a\n", "- a\n\t- tab\n"])
def test_lists_in_quotes_and_after_them_and_tab_indents_render(text):
    assert "<li>" in blog(text)


def test_a_conversion_that_failed_half_way_leaves_the_next_one_right():
    with pytest.raises(ContentError):
        blog("".join("    " * depth + "- deeper\n" for depth in range(800)))  # too deep: RecursionError
    html = blog("- one\n\n  more about one\n- two\n")
    assert html.count("<li>") == 2 and "more about one</p>\n</li>" in html


LIST_LINES = ["", "text", "- a", "* b", "+ c", "1. one", "2. two", "3) three", "  - two in", "    - four in", "\t- tab"]
LIST_LINES += ["- - x", "- > q", "> - q", "---", "* * *", "-", "1.", "# head", "```", "- ```", "<div>", "10. ten"]


def test_lists_skipped_as_already_alike_are_those_the_full_reading_leaves_unchanged():
    rng = random.Random(2026)
    skipped = 0
    for _ in range(20000):
        text = "\n".join(rng.choice(LIST_LINES) for _ in range(rng.randint(1, 12)))
        if lists.read_alike(text):
            skipped += 1
            assert lists.reindented(text) == text, text
    assert skipped > 1000
    for path in sorted((REPO / "content").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        assert not lists.read_alike(text) or lists.reindented(text) == text, path

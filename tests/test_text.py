"""The plain-text part: wrapping at 72 columns, keeping what each line starts with."""

from __future__ import annotations

import random
import textwrap
from xml.etree import ElementTree

import pytest
from helpers import REPO

from pipeline.render.markdown import MarkdownRenderer
from pipeline.render.text import WIDTH, _fill, html_to_text, tree_to_text, wrap_text

NOTE = "Stop if you feel heaviness or dragging in your pelvis, and rest before you try again. " * 2
LONG_URL = "https://strongfromwithin.example/articles/a-very-long-address-that-is-longer-than-one-line-of-text/"


def test_wraps_every_line_at_72_columns():
    lines = wrap_text(NOTE + "\nA short line.\n" + NOTE).splitlines()
    assert len(lines) > 4
    assert all(len(line) <= WIDTH for line in lines)
    assert " ".join(" ".join(lines).split()) == " ".join((NOTE + " A short line. " + NOTE).split())


def test_repeats_the_safety_mark_on_every_line_of_a_note():
    lines = wrap_text("!! " + NOTE).splitlines()
    assert len(lines) >= 3
    assert all(line.startswith("!! ") and not line.startswith("!!  ") for line in lines)


def test_hangs_the_lines_of_a_list_item_under_its_text():
    lines = wrap_text("12. " + NOTE).splitlines()
    assert lines[0].startswith("12. Stop")
    assert all(line.startswith("    ") and line[4] != " " for line in lines[1:])


def test_repeats_quote_and_safety_marks_and_hangs_a_list_item_inside_them():
    lines = wrap_text("> !! - " + NOTE).splitlines()
    assert lines[0].startswith("> !! - Stop")
    assert all(line.startswith("> !!   ") and line[7] != " " for line in lines[1:])


def test_keeps_a_url_longer_than_a_line_whole_on_a_line_of_its_own():
    text = wrap_text(f"Read this piece ({LONG_URL}) before you start, it is a good one.")
    assert text.splitlines() == ["Read this piece", f"({LONG_URL})", "before you start, it is a good one."]


def test_leaves_at_most_one_blank_line_in_a_row_and_ends_with_one_newline():
    assert wrap_text("\n\nFirst\n\n\n\nSecond   \n\n\n") == "First\n\nSecond\n"


def test_long_lines_wrap_as_textwrap_wraps_them_words_kept_whole():
    rng = random.Random(2026)
    words = ["a", "bb", "word", "longerword", "https://example.com/" + "x" * 80, " ", "  ", "\t", "\u00a0", "—", ""]
    for _ in range(3000):
        text = "".join(rng.choice(words) + rng.choice([" ", "", "  "]) for _ in range(rng.randint(0, 40)))
        width, first, rest = rng.choice([10, 20, 72]), rng.choice(["", "> ", "- "]), rng.choice(["", "  ", ">   "])
        expected = textwrap.wrap(
            text, width, initial_indent=first, subsequent_indent=rest, break_long_words=False, break_on_hyphens=False
        )
        assert _fill(text, width, first, rest) == expected, (text, width, first, rest)


# --- the text part from Python-Markdown's tree ------------------------------------------------

EMAIL_MARKDOWN = MarkdownRenderer("https://strongfromwithin.example/", absolute=True, sanitise=True, for_email=True)
REAL_MARKDOWN = sorted([*(REPO / "content").rglob("*.md"), *(REPO / "tests" / "import_corpus").rglob("*.md")])


def _tree_and_html2text(markdown: str) -> tuple[str, str]:
    html, text = EMAIL_MARKDOWN.convert_with_text(markdown, "content/articles/example.md")
    return text, html_to_text(html)


def test_the_text_written_from_the_tree_is_what_html2text_makes_of_the_html_for_every_real_file():
    assert len(REAL_MARKDOWN) > 300
    for path in REAL_MARKDOWN:
        for piece in path.read_text(encoding="utf-8", errors="replace").split("\n## "):
            text, expected = _tree_and_html2text(piece)
            assert text == expected, path


@pytest.mark.parametrize(
    "markdown",
    [
        "See [the guide](other.md), and [https://x.example/](https://x.example/) and [top](#top).",
        "Write to [me](mailto:me@x.example) or [me@x.example](mailto:me@x.example).",
        'Wait... ![](p.png) then -- after a pause -- ![the bridge](bridge.png) "again".',
        "Mum & baby, 1 < 2 > 0, `a < b & c`, *soft* and **firm**.",
        "- one\n  - two, two spaces in\n    - three\n- four\n\n1. first\n2. second\n   - inside a number",
        "> A quote\n> over two lines  \n> with a break\n\n> - in a quote",
        "# Title\n\nText\n\n---\n\nTerm\n:   its definition\n\n3. starts at three\n4. then four",
    ],
)
def test_the_text_written_from_the_tree_matches_html2text(markdown):
    text, expected = _tree_and_html2text(markdown)
    assert text == expected


def test_raw_html_a_backslash_or_a_reference_goes_to_html2text():
    for markdown in ("Some <b>raw</b> HTML.", r"A \*starred\* word.", "&copy; 2026", "- [x] done"):
        html, text = EMAIL_MARKDOWN.convert_with_text(markdown, "content/articles/example.md")
        assert text == html_to_text(html)
    root = ElementTree.fromstring("<div><p>a <span>b</span></p></div>")  # an element Markdown does not make
    assert tree_to_text(root) is None
    assert tree_to_text(ElementTree.fromstring("<div><p>a <em>b</em></p></div>")) == "a b"

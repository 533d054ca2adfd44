"""The plain-text part: wrapping at 72 columns, keeping what each line starts with."""

from __future__ import annotations

import random
import textwrap

from pipeline.render.text import WIDTH, _fill, wrap_text

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

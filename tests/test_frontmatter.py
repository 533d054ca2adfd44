"""Front matter: split exactly, keep line numbers, and explain every mistake at its line."""

from __future__ import annotations

import pytest

from pipeline.content.frontmatter import (
    key_lines,
    read_front_matter,
    split_front_matter,
)
from pipeline.core.errors import ContentError

PATH = "content/articles/example.md"

ARTICLE = """\
---
title: Why your glutes grip
date: 2026-11-26
tags: [glutes, core]
---

First paragraph.
"""


def error_of(text: str) -> str:
    with pytest.raises(ContentError) as caught:
        split_front_matter(text, PATH)
    return str(caught.value)


class TestSplitting:
    def test_returns_the_meta_the_body_and_the_line_the_body_starts_on(self):
        meta, body, body_start_line = split_front_matter(ARTICLE, PATH)
        assert meta == {"title": "Why your glutes grip", "date": "2026-11-26", "tags": ["glutes", "core"]}
        assert body == "\nFirst paragraph.\n"
        assert body_start_line == 6
        assert ARTICLE.splitlines()[body_start_line - 1 + 1] == "First paragraph."

    def test_dates_stay_text_so_the_parser_can_check_them(self):
        meta, _, _ = split_front_matter("---\ndate: 2026-13-40\n---\n", PATH)
        assert meta["date"] == "2026-13-40"

    def test_key_lines_are_file_lines(self):
        assert key_lines(ARTICLE, PATH) == {"title": 2, "date": 3, "tags": 4}

    def test_the_line_of_a_key_after_a_multi_line_value(self):
        text = "---\ncautions:\n  - one\n  - two\nname: Clam\n---\n"
        assert read_front_matter(text, PATH).line_of("name") == 5

    def test_an_empty_front_matter_is_an_empty_mapping(self):
        assert split_front_matter("---\n---\nIntro.\n", PATH) == ({}, "Intro.\n", 3)

    def test_a_byte_order_mark_and_windows_line_ends_are_accepted(self):
        meta, body, start = split_front_matter("\ufeff---\r\ntitle: Hello\r\n---\r\nBody\r\n", PATH)
        assert (meta, body, start) == ({"title": "Hello"}, "Body\r\n", 4)

    def test_a_horizontal_rule_in_the_body_is_not_a_boundary(self):
        _, body, _ = split_front_matter("---\ntitle: x\n---\nabove\n\n---\n\nbelow\n", PATH)
        assert body == "above\n\n---\n\nbelow\n"


class TestErrors:
    def test_a_file_without_front_matter_is_told_to_add_it(self):
        assert error_of("# Just a heading\n") == (
            f"{PATH}:1: no front matter: start the file with a '---' line, then 'key: "
            "value' lines, then a closing '---' line"
        )

    def test_an_unclosed_front_matter(self):
        assert (
            error_of("---\ntitle: x\n\nBody\n")
            == f"{PATH}:1: front matter is not closed: add a '---' line after the last key"
        )

    def test_malformed_yaml_is_reported_at_its_line_in_the_file(self):
        text = "---\ntitle: fine\nsummary: Glutes: why they grip\n---\n"
        assert error_of(text) == (
            f"{PATH}:3: invalid YAML: mapping values are not allowed here: "
            "check the indentation, and put quotes around text containing ': ' or starting with a symbol"
        )

    @pytest.mark.parametrize("character", ["\x0b", "\x07"], ids=["vertical tab", "bell"])
    def test_a_control_character_pasted_into_a_value_is_reported_at_its_line(self, character):
        text = f"---\ntitle: fine\nsummary: Glutes{character} and why they grip\n---\n"
        assert error_of(text) == (
            f"{PATH}:3: invalid character U+{ord(character):04X} (special characters "
            "are not allowed): delete it, or retype the text around it"
        )

    def test_an_unclosed_quote_is_reported_where_it_opens(self):
        text = '---\ntitle: "Why your glutes grip\ndate: 2026-11-26\n---\n'
        assert error_of(text).startswith(
            f"{PATH}:2: invalid YAML: found unexpected end of stream (while scanning a quoted scalar)"
        )

    def test_an_unclosed_list_is_reported_where_it_opens(self):
        text = "---\ntitle: fine\ntags: [glutes, core\ndraft: false\n---\n"
        assert error_of(text).startswith(
            f"{PATH}:3: invalid YAML: expected ',' or ']', but got ':' (while parsing a flow sequence)"
        )

    def test_front_matter_that_is_not_key_value_lines(self):
        assert error_of("---\n- title\n- date\n---\n") == f"{PATH}:2: expected 'key: value' lines here"

    def test_a_key_given_twice(self):
        text = "---\ntitle: One\ndate: 2026-11-26\ntitle: Two\n---\n"
        assert error_of(text) == f"{PATH}:4: 'title' is given twice (also on line 2): keep one"

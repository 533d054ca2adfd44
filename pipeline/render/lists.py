"""Lists as writers write them, made into what Python-Markdown reads.

Writers (and other tools: CommonMark, GitHub) nest a list by two spaces or by four, and start a
list on the line after a paragraph. Python-Markdown wants four spaces per level and a blank line
before a list, so it flattened the first and ran the second into the paragraph. CommonMark's
reading of the text (markdown-it-py, which content/blocks.py uses already) says which item sits
in which; each item's lines are re-indented to four spaces per level, and a blank line is put
before a list that follows a paragraph. Text with no list is returned as it is.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

PARSER = MarkdownIt("commonmark").disable(["inline", "text_join"])
LIST_LINE = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)", re.MULTILINE)
INDENT = re.compile(r"^[ \t]*")


def as_python_markdown(text: str) -> str:
    if not LIST_LINE.search(text) or read_alike(text):
        return text
    return reindented(text)


def reindented(text: str) -> str:
    """The text with CommonMark's reading of its lists spelt out for Python-Markdown."""
    lines = text.split("\n")
    shifts = [0] * len(lines)  # spaces to add (or remove) at the start of each line
    blank_before: set[int] = set()
    depth = 0
    for token in PARSER.parse(text):
        if token.type in ("bullet_list_open", "ordered_list_open"):
            start = token.map[0]
            if start > 0 and lines[start - 1].strip() and token.level == 0:  # a list of its own, after text
                blank_before.add(start)
            depth += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
        elif token.type == "paragraph_open" and depth and not token.hidden:  # a loose list's paragraph
            end = token.map[1]
            if end < len(lines) and MARKER_ONLY.match(lines[end]):
                blank_before.add(end)  # else Python-Markdown reads the next item as more of the paragraph
        elif token.type == "list_item_open":
            start, end = token.map
            if not MARKER.match(lines[start]) or _in_quote(lines[start]):
                continue  # an item inside a quote (`> - x`): Python-Markdown's own reading stays
            shifts[start] = 4 * (depth - 1) - _width(lines[start])  # the marker: four spaces per level
            content = 4 * depth - _content_column(lines[start])  # its text: four spaces past the marker
            for number in range(start + 1, end):
                shifts[number] = content  # a nested item's own lines come later and win
    out = []
    for number, line in enumerate(lines):
        if number in blank_before:
            out.append("")
        out.append(_shifted(line, shifts[number]))
    return "\n".join(out)


MARKER_ONLY = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+\S")
MARKER = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]*")


def _content_column(line: str) -> int:
    """Where CommonMark's item text starts: after the marker and its spaces."""
    return len(MARKER.match(line).group(0).expandtabs(4))


def _width(line: str) -> int:
    return len(INDENT.match(line).group(0).expandtabs(4))


def _shifted(line: str, shift: int) -> str:
    if shift == 0 or not line.strip():
        return line
    width = _width(line)
    return " " * max(0, width + shift) + line.lstrip(" \t")


def _in_quote(line: str) -> bool:
    return line.lstrip().startswith(">")


NESTED_ITEM = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
PLAIN_ITEM = re.compile(r"(?:([-*+])|\d{1,9}([.)]))(?: |$)")  # a marker at the start of the line, no tab


def read_alike(text: str) -> bool:
    """True for the usual shape of lists, which both readers read alike (so no CommonMark parse):
    every item one line at the start of its line, each list after a blank line, items of one list
    next to each other with the same marker, and no line of the text indented. Anything else is
    left to the parse, which is what decides."""
    previous = ""  # the line before
    last_item = None  # the marker of the last item, while the lines since it are items or blank
    after_blank = False
    for line in text.split("\n"):
        if not line.strip():
            previous, after_blank = "", True
            continue
        if line[0] in " \t":
            return False
        item = PLAIN_ITEM.match(line)
        if item:
            if NESTED_ITEM.match(line, item.end()) or line.startswith(">", item.end()):
                return False  # an item that starts with a list or a quote of its own ("- - a", "- > q")
            marker = item.group(1) or item.group(2)
            if previous and last_item != marker:  # a list right after text, or a new kind of item
                return False
            if after_blank and last_item == marker:  # a loose list: Python-Markdown needs its blank lines
                return False
            last_item = marker
        elif LIST_LINE.match(line):
            return False  # a marker followed by a tab
        else:
            if previous and last_item is not None and not after_blank:
                return False  # a lazy continuation line of an item
            last_item = None
        previous, after_blank = line, False
    return True

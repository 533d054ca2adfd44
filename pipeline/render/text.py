"""Plain text for the email's text/plain part: HTML -> readable text, then wrapping at 72 columns.

Links become `text (https://...)` so they survive any mail client; URLs are never broken across
lines, even when they are longer than a line.
"""

from __future__ import annotations

import html
import re
import textwrap

import html2text

WIDTH = 72

_LINK = re.compile(r"<a\b[^>]*?\bhref=(['\"])(.*?)\1[^>]*>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_BLOCK_TAG = re.compile(r"</?(?:p|div|br|hr|li|ul|ol|h[1-6]|blockquote|pre|table|tr|td|th)\b[^>]*>", re.IGNORECASE)
# What a wrapped line repeats on every line ("> " quotes, "!! " safety notes) and the list marker
# whose width the following lines indent by.
_LINE_START = re.compile(r"^((?:[ \t]*(?:>|!!)[ \t]?)*)([ \t]*(?:(?:[-*+]|\d+[.)])[ \t]+)?)")
_LIST_MARKER = re.compile(r"[-*+]|\d+[.)]")
# html2text writes Markdown, so it puts a backslash before text that would read as Markdown
# ("2\. ", "\- ") and before each backslash that precedes such a character; undo exactly that.
_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!])")


def html_to_line(fragment: str) -> str:
    """The words of an HTML snippet on one line, without markup or links (subjects, previews)."""
    words = _TAG.sub("", _BLOCK_TAG.sub(" ", fragment))
    return " ".join(html.unescape(words).split())


def html_to_text(fragment: str) -> str:
    """Readable plain text of an HTML fragment, one line per paragraph (wrap it afterwards)."""
    converter = html2text.HTML2Text()
    converter.body_width = 0  # wrap_text() wraps the whole message at once
    converter.unicode_snob = True
    converter.images_to_alt = True
    converter.ignore_links = True  # _spell_out_links already wrote them as "text (url)"
    converter.ignore_emphasis = True  # "*hip* , not" reads worse than "hip, not"
    converter.ul_item_mark = "-"
    text = converter.handle(_spell_out_links(fragment))
    return _tidy(_MARKDOWN_ESCAPE.sub(r"\1", text))


def wrap_text(text: str, width: int = WIDTH) -> str:
    """Wrap every long line at `width`, keeping quote/safety prefixes and list indents, and
    leave at most one blank line in a row. Words longer than a line (URLs) stay whole."""
    lines: list[str] = []
    for line in text.splitlines():
        lines.extend(_wrap_line(line, width))
    return _tidy("\n".join(lines)) + "\n"


def _wrap_line(line: str, width: int) -> list[str]:
    line = line.rstrip()
    if len(line) <= width:
        return [line]
    match = _LINE_START.match(line)
    repeated, marker = match.group(1), match.group(2)
    hanging = repeated + _LIST_MARKER.sub(lambda m: " " * len(m.group()), marker)
    return _fill(line[match.end() :], width, repeated + marker, hanging)


def _fill(text: str, width: int, first_indent: str, indent: str) -> list[str]:
    """textwrap.wrap(text, width, initial_indent=first_indent, subsequent_indent=indent,
    break_long_words=False, break_on_hyphens=False), at about twice its speed for the usual
    line of words one space apart (the email's text part wraps a hundred lines); anything else
    (runs of spaces, tabs, a word of blanks) goes to textwrap itself."""
    words = text.split(" ")
    if "\t" in text or not all(word and word.strip() == word for word in words):
        return textwrap.wrap(
            text,
            width,
            initial_indent=first_indent,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
    lines: list[str] = []
    line: list[str] = []
    length, room = 0, width - len(first_indent)
    for word in words:
        if line and length + 1 + len(word) > room:
            lines.append((indent if lines else first_indent) + " ".join(line))
            line, length, room = [], 0, width - len(indent)
        length += len(word) + (1 if line else 0)
        line.append(word)
    if line:
        lines.append((indent if lines else first_indent) + " ".join(line))
    return lines


def _spell_out_links(fragment: str) -> str:
    def spelled(match: re.Match) -> str:
        href, inner = html.unescape(match.group(2)), match.group(3)
        words = html_to_line(inner)
        if href.startswith("#") or not href or href in (words, f"mailto:{words}"):
            return inner
        return f"{inner} ({html.escape(href)})"

    return _LINK.sub(spelled, fragment)


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")

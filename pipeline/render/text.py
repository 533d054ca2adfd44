"""Plain text for the email's text/plain part: HTML -> readable text, then wrapping at 72 columns.

Links become `text (https://...)` so they survive any mail client; URLs are never broken across
lines, even when they are longer than a line.

Markdown's own HTML is written as text straight from Python-Markdown's element tree
(`tree_to_text`), without parsing the HTML again: the same text html2text makes of that HTML,
by the same rules, for the elements Markdown makes from plain text. Anything else (raw HTML, an
element it does not know, a backslash, a character reference) goes to html2text (`html_to_text`).
"""

from __future__ import annotations

import html
import re
import textwrap
from xml.etree.ElementTree import Element

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


# --- the text of an element tree, as html2text writes its HTML --------------------------------
#
# html2text with the options html_to_text sets, restricted to these elements: a port of its
# HTML2Text.handle_tag / o / handle_data state machine, fed the tree's elements instead of the
# parser's events. Links are spelled out as _spell_out_links does; emphasis, as there, writes nothing.

_TREE_TAGS = frozenset(
    {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "br", "hr", "img", "a"}
    | {"em", "i", "u", "strong", "b", "code", "dl", "dt", "dd"}
)
_VOID_TAGS = frozenset({"br", "hr", "img"})  # html.parser sees a start tag only
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_LINE_BLOCK_TAGS = frozenset(  # what _BLOCK_TAG matches: html_to_line makes them spaces
    {"p", "div", "br", "hr", "li", "ul", "ol", "blockquote", "pre", "table", "tr", "td", "th", *_HEADINGS}
)
_WHITESPACE = re.compile(r"\s+")
# Characters the HTML holds as references (&amp; &lt; &gt;, and typography's &rsquo; and the
# rest, private-use characters in the tree): html.parser hands each over as a piece of its own,
# so blanks after the last of them, before a tag, are a pending space, not text.
_BLANKS_AFTER_REFERENCE = re.compile(r"[&<>\ue000-\ue0ff](\s+)\Z")
_REFERENCE = re.compile(r"&#?\w+;")  # text the HTML serializer would leave as a character reference
_NOT_PLAIN = ("\\", "\x02", "\x03")  # a backslash (html2text's escapes), Python-Markdown's placeholders


class _NotPlain(Exception):
    """The tree holds something only html2text knows how to write."""


def tree_to_text(root: Element, characters: dict[str, str] | None = None) -> str | None:
    """What `html_to_text` makes of the HTML Python-Markdown serialises from `root` (its `<div>`
    document root), or None when the tree holds something it leaves to html2text.
    `characters`: private-use characters in the text and the characters they stand for."""
    writer = _TreeText(characters or {})
    try:
        writer.data(root.text)
        for child in root:
            writer.element(child)
    except (_NotPlain, RecursionError):
        return None
    return _tidy(writer.finish())


class _TreeText:
    def __init__(self, characters: dict[str, str]):
        self.characters = list(characters.items())
        self.pieces: list[str] = []
        self.pending = ""  # text not yet written: html.parser hands text between two tags over in one piece
        self.p_p = 0  # line breaks to write before the next text
        self.start = True
        self.space = False
        self.last_was_newline = False
        self.last_was_list = False
        self.blockquote = 0
        self.lists: list[list] = []  # [tag, number of the last item]
        self.br_toggle = ""

    # -- the tree, as events
    def element(self, element: Element) -> None:
        tag = element.tag
        if tag not in _TREE_TAGS:
            raise _NotPlain(tag)
        spelled = None
        if tag == "a" and element.get("href") is not None:
            spelled = self._spelled_link(element)  # _spell_out_links: no <a> left for html2text
        else:
            self.tag(tag, element, True)
        self.data(element.text)
        for child in element:
            self.element(child)
        if spelled is None and tag not in _VOID_TAGS:
            self.tag(tag, element, False)
        elif spelled:
            self.data(spelled)
        self.data(element.tail)

    def data(self, text: str | None) -> None:
        if not text:
            return
        if "\\" in text or "\x02" in text or "\x03" in text or ("&" in text and _REFERENCE.search(text)):
            raise _NotPlain(text)
        self.pending += text

    def _spelled_link(self, link: Element) -> str:
        href = self._translated(link.get("href"))
        if any(mark in href for mark in _NOT_PLAIN) or ("&" in href and _REFERENCE.search(href)):
            raise _NotPlain(href)
        words = " ".join(self._line_text(link).split())
        if href.startswith("#") or not href or href in (words, f"mailto:{words}"):
            return ""
        return f" ({href})"

    def _line_text(self, element: Element) -> str:
        """html_to_line's words of a link's content: block tags as spaces, other tags as nothing."""
        pieces = [element.text or ""]
        for child in element:
            gap = " " if child.tag in _LINE_BLOCK_TAGS else ""
            pieces += [gap, self._line_text(child), gap, child.tail or ""]
        return self._translated("".join(pieces))

    def _translated(self, text: str) -> str:
        for marker, character in self.characters:  # str.translate looks up every character: slower
            if marker in text:
                text = text.replace(marker, character)
        return text

    # -- html2text's handle_tag, for the elements above
    def tag(self, tag: str, element: Element, start: bool) -> None:
        self._flush()
        heading = _HEADINGS.get(tag)
        if heading:
            self.p()
            if not start:
                return  # html2text returns here, before the list bookkeeping below
            self.o("#" * heading + " ")
        elif tag in ("p", "div"):
            self.p()
        elif tag == "br" and start:
            self.o("  \n> " if self.blockquote > 0 else "  \n")
        elif tag == "hr" and start:
            self.p()
            self.o("* * *")
            self.p()
        elif tag == "blockquote":
            self._blockquote(start)
        elif tag == "code":
            self.o("`")
        elif tag == "img" and start and element.get("src") is not None:
            alt = self._translated(element.get("alt") or "")
            if "\\" in alt:
                raise _NotPlain(alt)
            self.o(alt)
        elif tag == "dl" and start:
            self.p()
        elif (tag == "dt" and not start) or (tag == "dd" and not start):
            self.pbr()
        elif tag == "dd":
            self.o("    ")
        if tag in ("ol", "ul"):
            self._list(tag, element, start)
        else:
            self.last_was_list = False
        if tag == "li":
            self._item(start)

    def _blockquote(self, start: bool) -> None:
        if start:
            self.p()
            self.o("> ", force=True)
            self.start = True
            self.blockquote += 1
        else:
            self.blockquote -= 1
            self.p()

    def _list(self, tag: str, element: Element, start: bool) -> None:
        if not self.lists and not self.last_was_list:
            self.p()
        if start:
            try:
                first = int(element.get("start")) - 1 if element.get("start") is not None else 0
            except ValueError:
                first = 0
            self.lists.append([tag, first])
        elif self.lists:
            self.lists.pop()
            if not self.lists:
                self.o("\n")
        self.last_was_list = True

    def _item(self, start: bool) -> None:
        self.pbr()
        if not start:
            return
        item = self.lists[-1] if self.lists else ["ul", 0]
        indent, parent = "", None
        for tag, _ in self.lists:
            indent += "   " if parent == "ol" else "  "
            parent = tag
        self.o(indent)
        if item[0] == "ul":
            self.o("- ")
        else:
            item[1] += 1
            self.o(f"{item[1]}. ")
        self.start = True

    # -- html2text's output: pbr, p, o
    def pbr(self) -> None:
        if self.p_p == 0:
            self.p_p = 1

    def p(self) -> None:
        self.p_p = 2

    def _flush(self) -> None:
        if not self.pending:
            return
        text, self.pending = self.pending, ""
        blanks = _BLANKS_AFTER_REFERENCE.search(text) if text[-1].isspace() else None
        text = self._translated(text)  # one character for one: the positions stay
        if blanks is None:
            self.o(text, puredata=True)
        else:
            self.o(text[: blanks.start(1)], puredata=True)
            self.space = True

    def o(self, data: str, puredata: bool = False, force: bool | str = False) -> None:
        if puredata:
            if "  " in data or not data.isprintable():  # else no blank to squeeze: skip the regex
                data = _WHITESPACE.sub(" ", data)
            if data and data[0] == " ":
                self.space = True
                data = data[1:]
        if not data and not force:
            return
        quote = ">" * self.blockquote
        if not (force and data and data[0] == ">") and self.blockquote:
            quote += " "
        if self.start:
            self.space = False
            self.p_p = 0
            self.start = False
        if force == "end":
            self.p_p = 0
            self._out("\n")
            self.space = False
        if self.p_p:
            self._out((self.br_toggle + "\n" + quote) * self.p_p)
            self.space = False
            self.br_toggle = ""
        if self.space:
            if not self.last_was_newline:
                self._out(" ")
            self.space = False
        self.p_p = 0
        self._out(data)

    def _out(self, text: str) -> None:
        self.pieces.append(text)
        if text:
            self.last_was_newline = text[-1] == "\n"

    def finish(self) -> str:
        self._flush()
        self.pbr()
        self.o("", force="end")
        return "".join(self.pieces)


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

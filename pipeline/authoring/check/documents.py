"""What the link and accessibility rules look at in one content file: its links, images and
headings, each at the file line where it was written.

markdown-it gives every block its line range; inside a paragraph the line is found by counting
the line breaks before the link. Links and images in raw HTML (`<a href>`, `<img>`) count too.
Fenced code (and so the ```exercise fences) is skipped: it is not rendered as links.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from markdown_it import MarkdownIt

from pipeline.content.frontmatter import read_front_matter
from pipeline.core.errors import ContentError
from pipeline.render.images import DECORATIVE_CLASS

_MARKDOWN = MarkdownIt("commonmark").enable("table")
_HTML_TAG = re.compile(r"<(a|img)\b([^>]*)>", re.IGNORECASE)
_HTML_ATTRIBUTE = re.compile(r"""([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
# ![](divider.png){: .decorative} (Python-Markdown's attribute list) marks a picture as decorative.
_DECORATIVE_MARK = re.compile(r"\{:?\s*\." + DECORATIVE_CLASS + r"\b[^}]*\}")
_BARE_HTTP = re.compile(r"(?<![\w(<\[])http://[^\s<>()\[\]\"']+")


@dataclass(frozen=True)
class Link:
    href: str
    text: str  # what the reader sees (for an image: its alt text)
    line: int
    in_html: bool = False  # written as an HTML tag: the text of an <a> is not known here
    decorative: bool = False  # a picture marked as adding nothing to the text: alt="" is right for it


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    line: int


@dataclass
class Document:
    path: str
    links: list[Link] = field(default_factory=list)
    images: list[Link] = field(default_factory=list)  # text = the alt text, "" when there is none
    headings: list[Heading] = field(default_factory=list)
    bare_http: list[Link] = field(default_factory=list)  # http:// addresses written as plain text


def scan_document(text: str, path: str) -> Document | None:
    """The links, images and headings of a content file's body; None when its front matter is
    unreadable (the loader reports that)."""
    try:
        front = read_front_matter(text, path)
    except ContentError:
        return None
    document = Document(path)
    tokens = _MARKDOWN.parse(front.body)
    for index, token in enumerate(tokens):
        if not token.map:
            continue
        line = front.body_start_line + token.map[0]
        if token.type == "inline":
            _scan_inline(token.children or [], line, document)
        elif token.type == "heading_open":
            document.headings.append(Heading(int(token.tag[1]), tokens[index + 1].content.strip(), line))
        elif token.type == "html_block":
            _scan_html(token.content, line, document)
    return document


def _scan_inline(children, line: int, document: Document) -> None:
    open_link: tuple[str, int, list[str]] | None = None
    previous_type = ""
    for child in children:
        after_image, previous_type = previous_type == "image", child.type
        if child.type in ("softbreak", "hardbreak"):
            line += 1
        elif child.type == "link_open":
            open_link = (str(child.attrs.get("href", "")), line, [])
        elif child.type == "link_close" and open_link:
            href, start, words = open_link
            document.links.append(Link(href, "".join(words).strip(), start))
            open_link = None
        elif child.type == "image":
            document.images.append(Link(str(child.attrs.get("src", "")), child.content.strip(), line))
            if open_link:
                open_link[2].append(child.content)
        elif child.type in ("text", "code_inline"):
            if after_image and _DECORATIVE_MARK.match(child.content):
                document.images[-1] = replace(document.images[-1], decorative=True)
            if open_link:
                open_link[2].append(child.content)
            elif child.type == "text":
                document.bare_http.extend(
                    Link(m.group(0).rstrip(".,;:!?"), "", line) for m in _BARE_HTTP.finditer(child.content)
                )
        elif child.type == "html_inline":
            _scan_html(child.content, line, document)


def _scan_html(html: str, first_line: int, document: Document) -> None:
    for match in _HTML_TAG.finditer(html):
        line = first_line + html.count("\n", 0, match.start())
        attributes = {
            name.lower(): next(
                (value for value in values if value), ""
            )  # "x", 'x' or x: findall gives "" for the others
            for name, *values in _HTML_ATTRIBUTE.findall(match.group(2))
        }
        if match.group(1).lower() == "a" and "href" in attributes:
            document.links.append(Link(attributes["href"], "", line, in_html=True))
        elif match.group(1).lower() == "img":
            decorative = DECORATIVE_CLASS in attributes.get("class", "").split() or attributes.get("role") in (
                "presentation",
                "none",
            )
            document.images.append(
                Link(
                    attributes.get("src", ""),
                    attributes.get("alt", "").strip(),
                    line,
                    in_html=True,
                    decorative=decorative,
                )
            )


FENCE_LINE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")


def lines_outside_code(text: str):
    """(1-based number, line) of every line not inside a fenced code block (a fence shows code
    as written: a `TODO` or a `{{< tag >}}` there is meant)."""
    fence = None
    for number, line in enumerate(text.splitlines(), start=1):
        opened = FENCE_LINE.match(line)
        if fence is None and opened:
            fence = opened.group(1)
        elif fence is not None and opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
            if not line.strip().lstrip(fence[0]):
                fence = None
        elif fence is None:
            yield number, line

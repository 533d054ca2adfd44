"""HTML (Ghost and Substack posts, Jekyll `.html` posts) -> our Markdown, with markdownify.

The editors' chrome is dropped first (Substack's image buttons and icons, subscribe and share
buttons, Ghost's card wrappers); a YouTube or Vimeo `<iframe>` becomes our ```video block
(docs/authoring.md, "Videos"), any other `<iframe>`, `<script>` or `<form>` is dropped with a note, since
neither a blog page we can check nor an email can carry it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, Tag
from markdownify import MarkdownConverter

from pipeline.authoring.importers.shortcodes import EMBEDDED_VIDEO, GENERIC_TITLES, video_block

VIDEO_TOKEN = "NEWSLETTERVIDEOBLOCK"  # stands for a ```video block while markdownify runs
CHROME_CLASSES = ("image-link-expand", "pencraft", "subscription-widget-wrap", "share-dialog", "post-ufi")


@dataclass
class Converted:
    markdown: str
    notes: list[str] = field(default_factory=list)


class _Converter(MarkdownConverter):
    """markdownify with our choices: `#` headings, `-` bullets, fenced code, and pictures' alt text kept."""

    def convert_figcaption(self, el, text, parent_tags):
        text = " ".join(text.split())
        return f"\n\n*{text}*\n\n" if text else ""


def html_to_markdown(html: str) -> Converted:
    soup = BeautifulSoup(html or "", "html.parser")
    notes: list[str] = []
    videos: list[str] = []
    _clean(soup, notes, videos)
    markdown = _Converter(heading_style="ATX", bullets="-", code_language="", escape_underscores=False).convert_soup(
        soup
    )
    markdown = re.sub(rf"{VIDEO_TOKEN}(\d+)", lambda found: videos[int(found[1])], markdown)
    return Converted(re.sub(r"\n{3,}", "\n\n", markdown).strip() + "\n", notes)


def _clean(soup: BeautifulSoup, notes: list[str], videos: list[str]) -> None:
    for element in soup.find_all(class_=lambda value: value and any(c in value for c in CHROME_CLASSES)):
        element.decompose()
    for svg in soup.find_all("svg"):
        svg.decompose()
    for button in soup.find_all(class_="button-wrapper"):
        _button_as_link(button)
    for picture in soup.find_all("img"):
        _canonical_picture(picture)
    for frame in soup.find_all(["iframe", "script", "form", "embed", "object"]):
        _embedded(frame, soup, notes, videos)


def _button_as_link(button: Tag) -> None:
    """Substack's subscribe/share buttons: a link to where they lead, or nothing."""
    link = button.find("a")
    if link is None or not link.get("href") or "subscribe" in link.get("href", "") or "share" in link.get("href", ""):
        button.decompose()
        return
    button.replace_with(link)


def _canonical_picture(picture: Tag) -> None:
    """Substack keeps the picture's own address in data-attrs; the src is a resizing proxy."""
    try:
        attrs = json.loads(picture.get("data-attrs") or "{}")
    except ValueError:
        attrs = {}
    if isinstance(attrs, dict) and attrs.get("src"):
        picture["src"] = attrs["src"]
    parent = picture.find_parent("a")
    if parent is not None and "image-link" in (parent.get("class") or []):
        parent.unwrap()


def _embedded(frame: Tag, soup: BeautifulSoup, notes: list[str], videos: list[str]) -> None:
    source = frame.get("src") or frame.get("data") or ""
    video = EMBEDDED_VIDEO.search(source)
    block, card = None, _figure_around(frame)
    if frame.name == "iframe" and video:
        start = re.search(r"[?&;](?:start|t)=(\d+)", source)
        host = "vimeo" if video["vimeo"] else "youtube"
        caption = card.find("figcaption") if card else None
        title = frame.get("title") or ""
        if caption is not None and (not title or title.lower() in GENERIC_TITLES):
            title = caption.get_text(" ")
        block = video_block(host, video["vimeo"] or video["youtube"], title, start[1] if start else "")
    if block:  # a paragraph of its own holding a token, replaced by the block once in Markdown
        paragraph = soup.new_tag("p")
        paragraph.string = f"{VIDEO_TOKEN}{len(videos)}"
        videos.append(block.strip("\n"))
        (card or frame).replace_with(paragraph)
        return
    what = f"<{frame.name}>" + (f" from {source}" if source else "")
    notes.append(f"{what} dropped: neither the blog nor an email can show it; add a link to it if it matters")
    frame.decompose()


def _figure_around(frame: Tag) -> Tag | None:
    """Ghost's and Substack's embed card around a player (its caption goes with it)."""
    parent = frame.parent
    classes = " ".join(parent.get("class") or []) if isinstance(parent, Tag) else ""
    return parent if parent is not None and parent.name in ("figure", "div") and "embed" in classes else None

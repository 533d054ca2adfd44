"""Markdown -> HTML for every channel, with links resolved against the site.

Content links to other content files (`../exercises/hip-extension.md`) become site URLs, and
with `absolute=True` (email, feed) every link and image becomes a full URL.
"""
from __future__ import annotations

from xml.etree.ElementTree import Element

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markdown.util import AMP_SUBSTITUTE

from ..urls import absolute as absolute_url
from ..urls import resolve_content_link

EXTENSIONS = ["extra", "sane_lists", "smarty"]
MEMO_MAX_CHARS = 2000


class _LinkRewriter(Treeprocessor):
    def __init__(self, md, renderer: "MarkdownRenderer"):
        super().__init__(md)
        self.renderer = renderer

    def run(self, root: Element) -> None:
        for element in root.iter():
            for attribute in ("href", "src"):
                value = element.get(attribute)
                # An autolinked e-mail address (<a@b.example>) arrives entity-obfuscated: a mailto.
                if value and not value.startswith(AMP_SUBSTITUTE):
                    element.set(attribute, self.renderer.url_for(value))


class _LinkExtension(Extension):
    def __init__(self, renderer: "MarkdownRenderer"):
        super().__init__()
        self.renderer = renderer

    def extendMarkdown(self, md):
        md.treeprocessors.register(_LinkRewriter(md, self.renderer), "newsletter_links", 1)


class MarkdownRenderer:
    """Converts Markdown written in `source_path` (relative to the project root).

    `site_root` is the relative prefix from the current page to the site root ("../../") for
    the blog, or ignored when `absolute` is set and links get `base_url` in front.
    """

    def __init__(self, base_url: str, absolute: bool = False, site_root: str = ""):
        self.base_url = base_url
        self.absolute = absolute
        self.site_root = site_root
        self.source_path = ""
        self._md = markdown.Markdown(extensions=EXTENSIONS + [_LinkExtension(self)], output_format="html")
        self._memo: dict[tuple[str, str], str] = {}

    def url_for(self, href: str, source_path: str | None = None) -> str:
        """A link written in `source_path` (default: the file being converted), for this channel."""
        site_path = resolve_content_link(href, self.source_path if source_path is None else source_path)
        if site_path is None:
            return href
        if self.absolute:
            return absolute_url(self.base_url, site_path)
        return self.site_root + site_path if not site_path.startswith("#") else site_path

    def convert(self, text: str, source_path: str = "") -> str:
        # Short texts (summaries, card steps and tips) are converted again and again across
        # pages: remember them. Article bodies are converted once per page and are not kept.
        if len(text) > MEMO_MAX_CHARS:
            return self._convert(text, source_path)
        key = (text, source_path)
        if key not in self._memo:
            self._memo[key] = self._convert(text, source_path)
        return self._memo[key]

    def _convert(self, text: str, source_path: str) -> str:
        self.source_path = source_path
        self._md.reset()
        return self._md.convert(text)

    def inline(self, text: str, source_path: str = "") -> str:
        """Convert a one-paragraph snippet (a tip, a step) without the <p> wrapper."""
        html = self.convert(text, source_path)
        if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
            return html[3:-4]
        return html

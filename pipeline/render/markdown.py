"""Markdown -> HTML for every channel, with links resolved against the site.

Content links to other content files (`../exercises/hip-extension.md`) become site URLs, and
with `absolute=True` (email, feed) every link and image becomes a full URL.

Every renderer converts with one Python-Markdown instance per thread, which skips the searches
that cannot match (see "the same HTML, faster" below): the HTML is Python-Markdown's own.
"""

from __future__ import annotations

import re
import threading
from xml.etree.ElementTree import Element, SubElement

import markdown
from markdown import blockprocessors, inlinepatterns, util
from markdown.blockparser import BlockParser
from markdown.extensions import Extension, abbr, def_list, footnotes, smarty, tables
from markdown.extensions.toc import TocTreeprocessor
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import InlineProcessor, Treeprocessor
from markdown.util import AMP_SUBSTITUTE
from pymdownx import magiclink

from pipeline.content.video_fences import fenced_videos, may_hold_videos
from pipeline.core.errors import ContentError
from pipeline.core.urls import absolute as absolute_url
from pipeline.core.urls import resolve_content_link
from pipeline.render.images import BLOG_SIZES, DECORATIVE_CLASS, Pictures, email_size, srcset, variant_path
from pipeline.render.lists import as_python_markdown
from pipeline.render.sanitise import email_safe
from pipeline.render.text import html_to_text, tree_to_text
from pipeline.render.typography import Typography
from pipeline.render.video import fence_html
from pipeline.tools.images import PreparedImage

# Markdown as writers write it (GitHub, other tools): heading ids so in-page links work (toc),
# ~~strike~~ (pymdownx.tilde), - [x] task lists, bare URLs as links (pymdownx.magiclink),
# > [!NOTE] callouts (markdown-callouts), Markdown inside <details> and other HTML blocks
# (md_in_html); nested lists and lists after a paragraph: render/lists.py. Typography: smarty's
# HTML in one pass over the text (render/typography.py).
EXTENSIONS = [
    "extra",
    "sane_lists",
    Typography(),
    "toc",
    "pymdownx.tilde",
    "pymdownx.tasklist",
    "pymdownx.magiclink",
    "github-callouts",
]
EXTENSION_CONFIGS = {
    "pymdownx.tilde": {"subscript": False},  # ~one~ stays text: only ~~strike~~
    "pymdownx.magiclink": {"hide_protocol": False},
}
MEMO_MAX_CHARS = 2000
HTML_BLOCK_OPENING = re.compile(r"^(<(?:details|div|aside|section|figure)\b)(?![^>]*\bmarkdown=)([^>]*>)", re.MULTILINE)
TASK_BOXES = {  # ballot boxes, checked or not: no form field in a page or an email
    '<input type="checkbox" disabled checked/>': "\u2611",
    '<input type="checkbox" disabled/>': "\u2610",
}
VIDEO_FRAME = re.compile(
    r"<iframe\b[^>]*\bsrc=[\"'](?:https?:)?//(?:www\.)?(?:youtube(?:-nocookie)?\.com/embed/(?P<youtube>[\w-]+)"
    r"|player\.vimeo\.com/video/(?P<vimeo>\d+))[^>]*>\s*</iframe>",
    re.IGNORECASE,
)
EMBEDDED = re.compile(r"<(iframe|script|object|embed)\b.*?(?:</\1\s*>|/>|(?=<)|$)", re.IGNORECASE | re.DOTALL)


class _WritersMarkdown(Preprocessor):
    """Lists re-indented as CommonMark reads them, and Markdown allowed inside HTML blocks."""

    def run(self, lines: list[str]) -> list[str]:
        text = as_python_markdown("\n".join(lines))
        if "<" in text:
            text = HTML_BLOCK_OPENING.sub(r'\1 markdown="1"\2', text)
        return text.split("\n")


class _VideoFences(Preprocessor):
    """A ```video fence (content/video_fences.py) becomes the video's thumbnail, as HTML of its
    own (render/video.py); one with a mistake stays as written (loading the file reports it)."""

    def __init__(self, md):
        super().__init__(md)
        self.renderer: MarkdownRenderer | None = None

    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        if self.renderer is None or not may_hold_videos(text):
            return lines
        out: list[str] = []
        position = 0
        for start, end, video in fenced_videos(text):
            if video.problems:
                continue
            html = fence_html(video, self.renderer.site_url, click_to_play=not self.renderer.absolute)
            out += [*lines[position:start], "", self.md.htmlStash.store(html), ""]
            position = end
        return out + lines[position:] if out else lines


class _Finish(Postprocessor):
    """Task boxes as characters; in an email or feed (absolute links), no <iframe> or <script>:
    a YouTube or Vimeo player becomes a link to the video, anything else is dropped (`newsletter
    check` reports it: authoring/check/rules/templates.py)."""

    def __init__(self, md):
        super().__init__(md)
        self.renderer: MarkdownRenderer | None = None

    def run(self, text: str) -> str:
        if "checkbox" in text:
            for box, character in TASK_BOXES.items():
                text = text.replace(box, character)
        if self.renderer is not None and self.renderer.absolute and "<" in text:
            text = VIDEO_FRAME.sub(_video_link, text)
            text = EMBEDDED.sub("", text)
        return text


def _video_link(match: re.Match) -> str:
    if match["youtube"]:
        return f'<p><a href="https://www.youtube.com/watch?v={match["youtube"]}">Watch the video on YouTube</a></p>'
    return f'<p><a href="https://vimeo.com/{match["vimeo"]}">Watch the video on Vimeo</a></p>'


class _LinkRewriter(Treeprocessor):
    def __init__(self, md):
        super().__init__(md)
        self.renderer: MarkdownRenderer | None = None  # the renderer converting right now

    def run(self, root: Element) -> None:
        renderer = self.renderer
        for parent in list(root.iter()):
            for index, element in enumerate(parent):
                picture = renderer.prepared_picture(element) if element.tag == "img" else None
                if picture is not None:
                    replacement = renderer.picture_element(element, picture)
                    replacement.tail, element.tail = element.tail, None
                    parent[index] = replacement
                    continue
                for attribute in ("href", "src"):
                    value = element.get(attribute)
                    # An autolinked e-mail address (<a@b.example>) arrives entity-obfuscated: a mailto.
                    if value and not value.startswith(AMP_SUBSTITUTE):
                        element.set(attribute, renderer.url_for(value))


class _KeepTree(Treeprocessor):
    """The finished tree, for the plain text made from it (MarkdownRenderer.convert_with_text)."""

    root: Element | None = None

    def run(self, root: Element) -> None:
        self.root = root


class _LinkExtension(Extension):
    def extendMarkdown(self, md):
        md.treeprocessors.register(_LinkRewriter(md), "newsletter_links", 1)
        md.treeprocessors.register(_KeepTree(md), "newsletter_tree", -1)  # after everything, unescape (0) too
        md.preprocessors.register(_WritersMarkdown(md), "newsletter_writers", 28)  # before fenced code (25)
        md.preprocessors.register(_VideoFences(md), "newsletter_videos", 27)
        md.postprocessors.register(_Finish(md), "newsletter_finish", 5)  # after raw HTML is put back (30)


class MarkdownRenderer:
    """Converts Markdown written in `source_path` (relative to the project root).

    `site_root` is the relative prefix from the current page to the site root ("../../") for
    the blog, or ignored when `absolute` is set and links get `base_url` in front.
    """

    def __init__(
        self,
        base_url: str,
        absolute: bool = False,
        site_root: str = "",
        sanitise: bool = False,
        pictures: Pictures | None = None,
        for_email: bool = False,
    ):
        self.base_url = base_url
        self.absolute = absolute
        self.site_root = site_root
        self.sanitise = sanitise  # for the email and the feed: pipeline/render/sanitise.py
        self.pictures = pictures or {}
        self.for_email = for_email  # one resized <img> per picture; else a <picture> with srcset
        self.source_path = ""
        self._memo: dict[tuple[str, str], str] = {}
        self._memo_with_text: dict[tuple[str, str], tuple[str, str]] = {}

    def url_for(self, href: str, source_path: str | None = None) -> str:
        """A link written in `source_path` (default: the file being converted), for this channel."""
        site_path = resolve_content_link(href, self.source_path if source_path is None else source_path)
        if site_path is None:
            return href
        if self.absolute:
            return absolute_url(self.base_url, site_path)
        return self.site_root + site_path if not site_path.startswith("#") else site_path

    def site_url(self, site_path: str) -> str:
        return absolute_url(self.base_url, site_path) if self.absolute else self.site_root + site_path

    def prepared_picture(self, img: Element) -> PreparedImage | None:
        """The prepared variants of the picture an <img> shows, if the build prepared it."""
        src = img.get("src")
        site_path = resolve_content_link(src, self.source_path) if src else None
        return self.pictures.get(site_path) if site_path else None

    def picture_element(self, img: Element, prepared: PreparedImage, lazy: bool = True) -> Element:
        """The <img> of the email variant, or the blog's <picture> (see render/images.py);
        `lazy`: loaded when scrolled near (not for the picture at the top of a page)."""
        alt = "" if DECORATIVE_CLASS in (img.get("class") or "").split() else (img.get("alt") or "")
        kept = {name: value for name, value in img.items() if name in ("title", "class", "id")}
        if self.for_email:
            width, height = email_size(prepared)
            style = "display:block;max-width:100%;height:auto;border:0"
            src = self.site_url(variant_path(prepared.email))
            return Element("img", src=src, width=str(width), height=str(height), alt=alt, style=style, **kept)
        picture = Element("picture")
        sizes = BLOG_SIZES
        SubElement(picture, "source", type="image/webp", srcset=srcset(prepared.blog, self.site_url), sizes=sizes)
        largest = prepared.blog[-1]
        attributes = {"width": str(largest.width), "height": str(largest.height), "alt": alt, **kept}
        src = self.site_url(variant_path(prepared.fallback[-1]))  # one JPEG/PNG: browsers without WebP
        if lazy:
            attributes["loading"] = "lazy"
        SubElement(picture, "img", src=src, **attributes)
        return picture

    def convert(self, text: str, source_path: str = "") -> str:
        # Short texts (summaries, card steps and tips) are converted again and again across
        # pages: remember them. Article bodies are converted once per page and are not kept.
        if len(text) > MEMO_MAX_CHARS:
            return self._convert(text, source_path)[0]
        key = (text, source_path)
        if key not in self._memo:
            self._memo[key] = self._convert(text, source_path)[0]
        return self._memo[key]

    def convert_with_text(self, text: str, source_path: str = "") -> tuple[str, str]:
        """The HTML and its plain text (render/text.py), from one conversion: the text is written
        from Python-Markdown's tree when it can be, else html2text reads the HTML."""
        if len(text) > MEMO_MAX_CHARS:
            return self._convert(text, source_path, with_text=True)
        key = (text, source_path)
        if key not in self._memo_with_text:
            self._memo_with_text[key] = self._convert(text, source_path, with_text=True)
        return self._memo_with_text[key]

    def _convert(self, text: str, source_path: str, with_text: bool = False) -> tuple[str, str]:
        self.source_path = source_path
        md = _thread_markdown()
        md.treeprocessors["newsletter_links"].renderer = self
        md.postprocessors["newsletter_finish"].renderer = self
        md.preprocessors["newsletter_videos"].renderer = self
        try:
            converted = md.reset().convert(text)
        except BaseException as failure:
            # A conversion that stopped half-way leaves the instance's parser state behind (an
            # open list, say), and reset() does not clear it: the next conversion gets a new one.
            _per_thread.markdown = None
            if not isinstance(failure, RecursionError):
                raise
            raise ContentError(
                source_path or "content",
                1,
                "lists or block quotes are nested too deeply to render: flatten them to a few levels",
            ) from None
        finished = converted
        if self.sanitise:
            raw_html = any("<" in str(stashed) for stashed in md.htmlStash.rawHtmlBlocks)
            finished = email_safe(converted, had_raw_html=raw_html)
        return finished, self._plain_text(md, converted, finished) if with_text else ""

    @staticmethod
    def _plain_text(md: markdown.Markdown, converted: str, finished: str) -> str:
        """From the tree when the HTML is the tree's own (nothing stashed, nothing sanitised away)."""
        keeper = md.treeprocessors["newsletter_tree"]
        root, keeper.root = keeper.root, None
        plain = None
        if root is not None and not md.htmlStash.rawHtmlBlocks and finished == converted:
            plain = tree_to_text(root, md.treeprocessors["typography"].characters)
        return html_to_text(finished) if plain is None else plain

    def inline(self, text: str, source_path: str = "") -> str:
        """Convert a one-paragraph snippet (a tip, a step) without the <p> wrapper."""
        return _without_paragraph(self.convert(text, source_path))

    def inline_with_text(self, text: str, source_path: str = "") -> tuple[str, str]:
        html, plain = self.convert_with_text(text, source_path)
        return _without_paragraph(html), plain


def _without_paragraph(html: str) -> str:
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        return html[3:-4]
    return html


_per_thread = threading.local()


def _thread_markdown() -> markdown.Markdown:
    """One Python-Markdown instance per thread, reset before each conversion, shared by every
    renderer: building one (extensions, registries) costs more than converting a paragraph."""
    md = getattr(_per_thread, "markdown", None)
    if md is None:
        extensions = [*EXTENSIONS, "md_in_html", _LinkExtension(), SkipImpossibleMatches()]
        md = _per_thread.markdown = markdown.Markdown(
            extensions=extensions, extension_configs=EXTENSION_CONFIGS, output_format="html"
        )
    return md


# --- the same HTML, faster ------------------------------------------------------------------
#
# Python-Markdown asks every block processor about every block and tries every inline pattern
# (15, and smarty's 18) on every run of text; most cannot match there: no "[" for a link, no "'"
# for a smart quote. Those searches were most of the email render's time: several regexes start
# with a look-behind or "(^|\n)" and so try every position. Here a processor or pattern is only
# tried on text containing one of its triggers, strings which every match contains: skipping it
# elsewhere is what Python-Markdown does after searching, so the HTML is the same. Anything not
# listed is always tried.

_SINGLE_QUOTES = ("'",)
_DOUBLE_QUOTES = ('"',)
INLINE_TRIGGERS: dict[str, tuple[str, ...]] = {  # a pattern's regex -> its triggers
    inlinepatterns.BACKTICK_RE: ("`",),
    inlinepatterns.ESCAPE_RE: ("\\",),
    inlinepatterns.LINK_RE: ("[",),  # also REFERENCE_RE and the short reference
    inlinepatterns.IMAGE_LINK_RE: ("![",),  # also IMAGE_REFERENCE_RE and the short one
    inlinepatterns.AUTOLINK_RE: ("<",),
    inlinepatterns.AUTOMAIL_RE: ("<",),
    inlinepatterns.HTML_RE: ("<",),
    smarty.HTML_STRICT_RE: ("<",),
    inlinepatterns.ENTITY_RE: ("&",),
    inlinepatterns.LINE_BREAK_RE: ("  \n",),
    r"\[\^([^\]]*)\]": ("[^",),  # footnotes: a reference
    r"(?<!-)---(?!-)": ("---",),  # smarty: dashes, ellipses, angled quotes
    r"(?<!-)--(?!-)": ("--",),
    r"(?<!\.)\.{3}(?!\.)": ("...",),
    r"\<\<": ("<<",),
    r"\>\>": (">>",),
    smarty.singleQuoteStartRe: _SINGLE_QUOTES,  # smarty: quotes
    smarty.doubleQuoteStartRe: _DOUBLE_QUOTES,
    smarty.doubleQuoteSetsRe: ("\"'",),
    smarty.singleQuoteSetsRe: ("'\"",),
    smarty.doubleQuoteSetsRe2: ("'\"",),
    smarty.singleQuoteSetsRe2: ("\"'",),
    smarty.decadeAbbrRe: _SINGLE_QUOTES,
    smarty.openingSingleQuotesRegex: _SINGLE_QUOTES,
    smarty.closingSingleQuotesRegex: _SINGLE_QUOTES,
    smarty.closingSingleQuotesRegex2: _SINGLE_QUOTES,
    smarty.remainingSingleQuotesRegex: _SINGLE_QUOTES,
    smarty.openingDoubleQuotesRegex: _DOUBLE_QUOTES,
    smarty.closingDoubleQuotesRegex: _DOUBLE_QUOTES,
    smarty.closingDoubleQuotesRegex2: _DOUBLE_QUOTES,
    smarty.remainingDoubleQuotesRegex: _DOUBLE_QUOTES,
    magiclink.RE_AUTOLINK: ("://",),  # pymdownx.magiclink: <https://...>, bare URLs, www., e-mail addresses
    magiclink.RE_LINK: ("://", "w.", "W."),
    magiclink.RE_MAIL: ("@",),
}
BLOCK_TRIGGERS: dict[type, tuple[str, ...]] = {  # a block processor's class -> its triggers
    blockprocessors.BlockQuoteProcessor: (">",),
    blockprocessors.HashHeaderProcessor: ("#",),
    blockprocessors.SetextHeaderProcessor: ("\n=", "\n-"),
    blockprocessors.HRProcessor: ("-", "_", "*"),
    blockprocessors.ReferenceProcessor: ("]:",),
    def_list.DefListProcessor: (":",),
    tables.TableProcessor: ("|",),
    footnotes.FootnoteBlockProcessor: ("[^",),
    abbr.AbbrBlockprocessor: ("*[",),
}


def inline_triggers(pattern: inlinepatterns.Pattern) -> tuple[str, ...] | None:
    """Strings one of which every match of `pattern` contains; None: always try it."""
    if not isinstance(pattern, inlinepatterns.InlineProcessor):
        return None  # an old-style pattern matches at a position, it does not search
    delimiters = getattr(inlinepatterns, "DelimiterProcessor", None)  # emphasis, Markdown >= 3.11
    if delimiters is not None and type(pattern) is delimiters:
        return tuple(pattern.tokens) or None
    if type(pattern).__name__ == "DelimiterProcessor" and getattr(pattern, "tokens", None):  # pymdownx.tilde's
        return tuple(pattern.tokens)
    return INLINE_TRIGGERS.get(pattern.getCompiledRegExp().pattern)


def _contains_any(text: str, triggers: tuple[str, ...] | None) -> bool:
    if triggers is None:
        return True
    for trigger in triggers:  # noqa: SIM110 - hot (every block x every processor): any() of a generator is slower
        if trigger in text:
            return True
    return False


def _fewest(all_triggers: list[tuple[str, ...] | None]) -> tuple[str, ...] | None:
    """Triggers one of which any text something can match contains ("[" stands for "![" too)."""
    if None in all_triggers:
        return None
    distinct = {trigger for triggers in all_triggers for trigger in triggers}
    return tuple(sorted(t for t in distinct if not any(other != t and other in t for other in distinct)))


class _TriggeredBlockParser(BlockParser):
    def parseBlocks(self, parent: Element, blocks: list[str]) -> None:  # noqa: N802 (Python-Markdown's name)
        """BlockParser.parseBlocks, skipping a processor whose triggers are not in the block."""
        if not hasattr(self, "_triggered"):  # every processor is registered by the first conversion
            self._triggered = [(processor, BLOCK_TRIGGERS.get(type(processor))) for processor in self.blockprocessors]
        while blocks:
            for processor, triggers in self._triggered:
                applies = _contains_any(blocks[0], triggers) and processor.test(parent, blocks[0])
                if applies and processor.run(parent, blocks) is not False:
                    break


class _TriggeredInlineProcessor(InlineProcessor):
    """InlineProcessor (the inline pass, and smarty's), skipping a pattern whose triggers are not
    in the text, and the whole pass when no text in the tree has any trigger."""

    def run(self, tree: Element, ancestors: list[str] | None = None) -> Element:
        if not hasattr(self, "_triggered"):  # every pattern is registered by the first conversion
            self._triggered = [(pattern, inline_triggers(pattern)) for pattern in self.inlinePatterns]
            self._any_trigger = _fewest([triggers for _, triggers in self._triggered])
        if self._any_trigger is not None and not any(_contains_any(text, self._any_trigger) for text in _texts(tree)):
            return tree
        return super().run(tree, ancestors)

    # Python-Markdown's private loop over the patterns (InlineProcessor.__handleInline), with the check.
    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:  # noqa: N802
        if isinstance(data, util.AtomicString) or not _contains_any(data, self._any_trigger):
            return data
        apply_pattern = self._InlineProcessor__applyPattern
        start = 0
        while patternIndex < len(self._triggered):
            pattern, triggers = self._triggered[patternIndex]
            if not _contains_any(data, triggers):
                patternIndex, start = patternIndex + 1, 0
                continue
            data, matched, start = apply_pattern(pattern, data, patternIndex, start)
            if not matched:
                patternIndex += 1
        return data


def _texts(tree: Element):
    for element in tree.iter():
        if element.text:
            yield element.text
        if element.tail:
            yield element.tail


# The inline check replaces a private method; should a release rename it, keep the stock loop.
_CAN_REPLACE_INLINE_LOOP = all(
    hasattr(InlineProcessor, name) for name in ("_InlineProcessor__handleInline", "_InlineProcessor__applyPattern")
)


class _MarkerCheckedToc(TocTreeprocessor):
    """toc, looking for its [TOC] marker only when some element's text holds it: its search
    joins the text under every element of the page, for a marker almost no page has."""

    def replace_marker(self, root: Element, elem: Element) -> None:
        marker = self.marker
        if any(element.text and marker in element.text for element in root.iter()):
            super().replace_marker(root, elem)


class SkipImpossibleMatches(Extension):
    """Load it last: the block parser and the inline passes then skip what cannot match."""

    def extendMarkdown(self, md):
        if "toc" in md.treeprocessors and type(md.treeprocessors["toc"]) is TocTreeprocessor:
            md.treeprocessors["toc"].__class__ = _MarkerCheckedToc
        if type(md.parser) is BlockParser:
            md.parser.__class__ = _TriggeredBlockParser
        if _CAN_REPLACE_INLINE_LOOP:
            for name in ("inline", "smarty"):
                if name in md.treeprocessors and type(md.treeprocessors[name]) is InlineProcessor:
                    md.treeprocessors[name].__class__ = _TriggeredInlineProcessor

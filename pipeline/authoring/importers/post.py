"""One post on its way in: what every reader (sites.py, exports.py) makes of a source post, and
the content file it becomes (content/articles/<slug>.md, front matter as docs/authoring.md says).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipeline.content.fields import slugify

FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
MARKS = re.compile(r"!\[[^\]]*\]\([^)]*\)|\[([^\]]*)\]\([^)]*\)|[*_`]+|<[^>]+>|^#+\s*|^>\s*", re.MULTILINE)
SUMMARY_MARKERS = re.compile(r"^[ \t]*<!--\s*(?:more|PELICAN_END_SUMMARY)\s*-->[ \t]*$", re.MULTILINE | re.IGNORECASE)


@dataclass
class Picture:
    """A picture file that goes with a post: copied to content/images/<slug>/<name>."""

    source: Path
    name: str


@dataclass
class ImportedPost:
    source: str  # the file (or export entry) it came from, as the report names it
    title: str
    date: str  # our front matter's form (dates.py)
    slug: str
    body: str  # Markdown, shortcodes already converted
    summary: str = ""
    summary_written: bool = False  # taken from the first paragraph: for her to review
    tags: list[str] = field(default_factory=list)
    author: str = ""
    draft: bool = False
    newsletter: bool = True  # False: blog only (an undated page)
    aliases: list[str] = field(default_factory=list)  # old addresses that must keep working
    pictures: list[Picture] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what to look at, "line 12: ..."

    def file_text(self) -> str:
        meta: dict = {"title": self.title, "date": self.date, "summary": self.summary or self.title}
        if self.tags:
            meta["tags"] = self.tags
        if self.author:
            meta["author"] = self.author
        if self.draft:
            meta["draft"] = True
        if not self.newsletter:
            meta["newsletter"] = False
        if self.aliases:
            meta["aliases"] = self.aliases
        front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000)
        return f"---\n{front}---\n\n{self.body.strip()}\n"


def post_slug(text: str) -> str:
    return slugify(text) or "post"


def plain_text(markdown: str) -> str:
    """Markdown as one line of plain text: for a summary."""
    text = MARKS.sub(lambda mark: mark.group(1) or "", markdown)
    return " ".join(text.split())


def summary_from_body(body: str) -> tuple[str, bool]:
    """(summary, written): the text above a summary marker (`<!--more-->`, Pelican's
    `<!-- PELICAN_END_SUMMARY -->`), else the first paragraph, flagged as written for review."""
    found = SUMMARY_MARKERS.search(body)
    if found and plain_text(body[: found.start()]):
        return _shortened(plain_text(body[: found.start()])), False
    paragraph = first_paragraph(body)
    return (_shortened(plain_text(paragraph), PREVIEW_LIMIT), True) if paragraph else ("", True)


def without_summary_markers(body: str) -> str:
    return SUMMARY_MARKERS.sub("", body)


def first_paragraph(body: str) -> str:
    """The first run of ordinary text (not a heading, fence, picture, list, quote or HTML)."""
    in_fence = False
    for block in re.split(r"\n\s*\n", body):
        lines = block.strip().splitlines()
        if not lines:
            continue
        opens = sum(1 for line in lines if FENCE.match(line))
        if in_fence or FENCE.match(lines[0]):
            in_fence = in_fence != (opens % 2 == 1)
            continue
        first = lines[0].lstrip()
        if first.startswith(("#", "!", "<", "|", "{", "-", "*", "+", ">", "[")) or re.match(r"\d+[.)]\s", first):
            continue
        return block.strip()
    return ""


PREVIEW_LIMIT = 140  # what inboxes show of the preview text (a summary is the email's preview text)


def _shortened(text: str, limit: int = 300) -> str:
    """A summary is also the email's preview text: long first paragraphs are cut at a sentence."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    return cut[: end + 1] if end > limit // 3 else cut[: limit - 3].rsplit(" ", 1)[0] + "..."


def demote_headings(body: str) -> str:
    """A `# Heading` in the body moves every heading down one level (the page's title is the
    only level 1); code fences are left alone."""
    lines = body.split("\n")
    in_fence = False
    has_top = False
    for line in lines:
        if FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and re.match(r"^# \S", line):
            has_top = True
    if not has_top:
        return body
    in_fence = False
    out = []
    for line in lines:
        if FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and re.match(r"^#{1,5} \S", line):
            line = "#" + line
        out.append(line)
    return "\n".join(out)

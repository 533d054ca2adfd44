"""What `newsletter check` gathered of a project: config, content, the rendered blog and emails;
every rule reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from pipeline.authoring.check.documents import Document, scan_document
from pipeline.core.config import Config
from pipeline.core.model import Article, Content, Exercise, Issue, RenderedEmail
from pipeline.render.images import Pictures


@dataclass
class Project:
    """Everything the rules look at, gathered once."""

    config: Config
    week: str
    texts: dict[str, str]  # content file (relative path) -> its text
    content: Content  # what loaded
    unloaded: set[str]  # content files with errors, left out of `content`
    site: dict[str, bytes | Path] | None  # the blog as `render_site` returns it; None if it did not render
    issues: list[Issue] = field(default_factory=list)  # every version of the week's issue; [] for an empty week
    emails: list[RenderedEmail] = field(default_factory=list)  # the versions that rendered
    pictures: Pictures = field(default_factory=dict)  # the pictures shown, resized as the build would
    _ids: dict[str, set[str]] = field(default_factory=dict, init=False, repr=False)

    @cached_property
    def documents(self) -> dict[str, Document]:
        """The links, images and headings of every readable content file."""
        scanned = {path: scan_document(text, path) for path, text in self.texts.items()}
        return {path: document for path, document in scanned.items() if document is not None}

    @cached_property
    def articles_by_path(self) -> dict[str, Article]:
        return {article.source.path: article for article in self.content.articles}

    @cached_property
    def exercises_by_path(self) -> dict[str, Exercise]:
        return {exercise.source.path: exercise for exercise in self.content.exercises.values()}

    def site_file(self, site_path: str) -> str | None:
        """The file of the built blog that a site path ("articles/x/", "images/a.jpg") serves."""
        if self.site is None:
            return None
        for candidate in (site_path, site_path + "index.html", site_path.rstrip("/") + "/index.html"):
            if candidate in self.site:
                return candidate
        return None

    def page_ids(self, site_file: str) -> set[str]:
        """The `id`s on one built page: the anchors a link to it may name."""
        if site_file not in self._ids:
            self._ids[site_file] = _html_ids(self.site.get(site_file, b"")) if self.site else set()
        return self._ids[site_file]


_ID = re.compile(rb"""\sid\s*=\s*["']([^"']+)["']""")


def _html_ids(html: bytes | Path) -> set[str]:
    if isinstance(html, Path):
        return set()
    return {match.decode("utf-8", "replace") for match in _ID.findall(html)}

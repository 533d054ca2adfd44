"""Accessibility basics a writer controls: headings that do not skip levels (screen-reader users
move through a page by heading), and link text that says where the link leads."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pipeline.authoring.check.documents import Document
from pipeline.core.model import Finding
from pipeline.core.urls import CONTENT_ARTICLES

if TYPE_CHECKING:
    from pipeline.authoring.check.project import Project

# Link text that means nothing when a screen reader lists the page's links out of context.
VAGUE_LINK_TEXT = {
    "here",
    "click here",
    "click",
    "this",
    "this link",
    "link",
    "this page",
    "read more",
    "more",
    "go",
    "go here",
    "click this link",
    "learn more",
}
TITLE_LEVEL = 1  # an article page's title is its <h1>; the body starts at level 2


def accessibility_findings(project: Project) -> list[Finding]:
    findings: list[Finding] = []
    for path, document in project.documents.items():
        if path.startswith(CONTENT_ARTICLES):  # exercise cards and issue notes have fixed heading structures
            findings += heading_findings(document)
        findings += link_text_findings(document)
    return findings


def heading_findings(document: Document) -> list[Finding]:
    findings = []
    previous = TITLE_LEVEL
    for heading in document.headings:
        marks = "#" * heading.level
        if heading.level == TITLE_LEVEL:
            findings.append(
                Finding(
                    document.path,
                    heading.line,
                    "warning",
                    f"'{marks} {heading.text}' is a level-1 heading: the article's title is "
                    f"the page's only one; use '## {heading.text}'",
                    "a11y.heading-level",
                )
            )
        elif heading.level > previous + 1:
            better = "#" * (previous + 1)
            findings.append(
                Finding(
                    document.path,
                    heading.line,
                    "warning",
                    f"'{marks} {heading.text}' jumps from heading level {previous} to "
                    f"{heading.level}, which screen-reader "
                    f"users read as a missing section; use '{better} {heading.text}'",
                    "a11y.heading-level",
                )
            )
        previous = heading.level
    return findings


def link_text_findings(document: Document) -> list[Finding]:
    findings = []
    for link in document.links:
        if link.in_html:
            continue
        words = " ".join(re.sub(r"[^\w\s]", " ", link.text.lower()).split())
        if not words:
            message = (
                f"the link to '{link.href}' has no text: screen readers read out the "
                "address instead; write where it leads"
            )
        elif words in VAGUE_LINK_TEXT:
            message = (
                f"the link text '{link.text}' does not say where it leads (screen readers list links out of context): "
                "name the destination, like [the piriformis stretch](…)"
            )
        else:
            continue
        findings.append(Finding(document.path, link.line, "warning", message, "a11y.link-text"))
    return findings

"""Unfinished text: a 'TODO' (the placeholders `newsletter new` writes, or the writer's own
notes) must not reach subscribers. In a draft it is only a warning. A TODO inside a fenced code
block is code shown as written, not unfinished text."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pipeline.authoring.check.documents import lines_outside_code
from pipeline.core.model import Finding

if TYPE_CHECKING:
    from pipeline.authoring.check.project import Project

PLACEHOLDER = re.compile(r"\bTODO\b")


def placeholder_findings(project: Project) -> list[Finding]:
    findings = []
    for path, text in project.texts.items():
        article = project.articles_by_path.get(path)
        severity = "warning" if article is not None and article.draft else "error"
        for number, line in lines_outside_code(text):
            if PLACEHOLDER.search(line):
                findings.append(
                    Finding(
                        path,
                        number,
                        severity,
                        f"unfinished text: '{_shorten(line.strip())}': write it, or remove the line",
                        "content.todo",
                    )
                )
    return findings


def _shorten(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

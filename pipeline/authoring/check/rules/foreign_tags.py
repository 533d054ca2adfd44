"""Template syntax of other tools left in the text: a Hugo or Zola shortcode, a Liquid tag
(`{{< youtube x >}}`, `{{ image(src="a") }}`, `{% include x %}`) shows on the blog and in the
email as literal text. `newsletter import` converts the ones it knows and keeps the others
visible; each is a finding here until the writer replaces it. Fenced code is left alone."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pipeline.authoring.check.documents import lines_outside_code
from pipeline.core.model import WARNING, Finding

if TYPE_CHECKING:
    from pipeline.authoring.check.project import Project

EMBED = re.compile(r"<(iframe|script|object|embed)\b[^>]*>", re.IGNORECASE)
VIDEO_EMBED = re.compile(r"youtube(?:-nocookie)?\.com/embed/|player\.vimeo\.com/video/", re.IGNORECASE)
TEMPLATE_TAG = re.compile(r"\{\{[<%].*?[>%]\}\}|\{%-?\s*\w.*?%\}|\{\{-?\s*[\w.]+(?:\(.*?\))?\s*(?:\|[^}]*)?-?\}\}")


def template_tag_findings(project: Project) -> list[Finding]:
    findings = []
    for path, text in project.texts.items():
        if not path.startswith(("content/articles/", "content/issues/")):
            continue
        for number, line in lines_outside_code(text):
            for tag in TEMPLATE_TAG.finditer(line):
                findings.append(
                    Finding(
                        path,
                        number,
                        WARNING,
                        f"'{tag.group(0)}' is another tool's template tag: it shows as this text on the blog and "
                        "in the email; replace it with Markdown (a link, a picture) or delete it",
                        "content.template-tag",
                    )
                )
    return findings


def embed_findings(project: Project) -> list[Finding]:
    """An <iframe> or <script> in an article never reaches the email (mail apps strip it): a
    YouTube or Vimeo player is sent as a link to the video (render/markdown.py); anything else
    is dropped from the email, which is said here."""
    findings = []
    for path, text in project.texts.items():
        if not path.startswith(("content/articles/", "content/issues/")):
            continue
        for number, line in lines_outside_code(text):
            for tag in EMBED.finditer(line):
                if tag.group(1).lower() == "iframe" and VIDEO_EMBED.search(tag.group(0)):
                    continue
                findings.append(
                    Finding(
                        path,
                        number,
                        WARNING,
                        f"a <{tag.group(1).lower()}> is left out of the email (mail apps remove it): link to what it "
                        "shows instead, so email readers can see it too",
                        "email.embed",
                    )
                )
    return findings

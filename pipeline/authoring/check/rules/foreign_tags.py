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

"""schema.org structured data for the blog: a HowTo per exercise, a BlogPosting per article."""
from __future__ import annotations

import json
from typing import Callable

from markupsafe import Markup

from ..model import Article, ExerciseBlock

# Turns a Markdown snippet into plain text (schema.org text fields are not HTML).
PlainText = Callable[[str], str]


def howto(block: ExerciseBlock, url: str, plain: PlainText) -> dict:
    data: dict = {
        "@context": "https://schema.org",
        "@type": "HowTo",
        "name": block.name,
        "url": url,
    }
    if block.summary:
        data["description"] = plain(block.summary)
    if block.steps:
        data["step"] = [
            {"@type": "HowToStep", "position": position, "text": plain(step)}
            for position, step in enumerate(block.steps, start=1)
        ]
    if block.equipment:
        data["tool"] = [{"@type": "HowToTool", "name": item} for item in block.equipment]
    if block.video:
        data["video"] = {"@type": "VideoObject", "name": block.name, "contentUrl": block.video, "url": block.video}
    return data


def blog_posting(article: Article, url: str, description: str, site_author: str, image_url: str | None, publisher: str) -> dict:
    data: dict = {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": article.title,
        "description": description,
        "datePublished": article.date.isoformat(),
        "url": url,
        "mainEntityOfPage": url,
        "author": {"@type": "Person", "name": article.author}
        if article.author
        else {"@type": "Organization", "name": site_author or publisher},
        "publisher": {"@type": "Organization", "name": publisher},
    }
    if article.tags:
        data["keywords"] = article.tags
    if image_url:
        data["image"] = image_url
    return data


def script_body(data: dict) -> Markup:
    """JSON safe to place inside <script>: no `<`, `>` or `&` can end the script or open a comment."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)

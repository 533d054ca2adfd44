"""`newsletter new article "Title"` and `newsletter new exercise "Name"`: a new content file,
named after its slug, with every front matter key and the section headings of the authoring
format (docs/authoring.md). The text to replace says TODO, which `newsletter check` reports
until it is written; the new file builds as it is, so `newsletter preview` shows it at once.

The file texts are pure functions; only `create` touches the disk, and it never overwrites.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import yaml

from pipeline.content.fields import exercise_slug, slugify
from pipeline.core import clock
from pipeline.core.config import Config
from pipeline.core.errors import PipelineError


def new_article(config: Config, title: str, today: date | None = None) -> Path:
    slug = _slug(slugify(title), title, "title")
    today = today or clock.today(config.email.timezone)
    return create(
        config.content_dir / "articles" / f"{slug}.md", article_text(title, slug, today, config.site.author), config
    )


def new_exercise(config: Config, name: str) -> Path:
    slug = _slug(exercise_slug(name), name, "name")
    return create(config.content_dir / "exercises" / f"{slug}.md", exercise_text(name), config)


def create(path: Path, text: str, config: Config) -> Path:
    """Write a new file; refuse if it exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8") as file:
            file.write(text)
    except FileExistsError:
        shown = path.relative_to(config.root).as_posix()
        raise PipelineError(f"{shown} already exists: edit that file, or choose a different title") from None
    return path


# The sections every exercise has from its steps on, in an article block and on a card alike.
EXERCISE_SECTIONS_FROM_STEPS = """### How to do it

1. TODO: the first step.
2. TODO: the next step.

### Tips

1. TODO: a cue that keeps it safe and effective.

### Progression

TODO: when and how to make it harder.

### Safety

TODO: when to stop, and how to adapt it in pregnancy and after birth, with a prolapse and with a diastasis.
"""


def article_text(title: str, slug: str, today: date, author: str = "") -> str:
    return (
        f"""---
title: {yaml_value(title.strip())}
date: {today.isoformat()}
summary: "TODO: one or two sentences on what the reader gets from this; it is also the email's preview text"
tags: []                # e.g. [glutes, pelvic floor]
author: {yaml_value(author)}
slug: {slug}
image:                  # optional: a picture, e.g. ../images/kneeling.jpg
image_alt:              # with image: what the picture shows
draft: false            # true keeps it off the blog and out of emails
newsletter: true        # false: on the blog only
reviewed_by:            # who checked the exercise guidance
last_reviewed:          # YYYY-MM-DD
---

TODO: the opening: who this is for and what they will take away.

## TODO: a heading for the first part

TODO: the article. Link to other articles and cards by their file, like
`[the piriformis stretch](../exercises/piriformis-stretch.md)`.

## Exercise - TODO: the exercise's name

TODO: one or two sentences about the exercise (delete this whole exercise if the article has none).

### Why it helps

TODO: what it does for the reader.

### Equipment

None

### Before you start

TODO: anything to do first, e.g. a stretch; or delete this section.

"""
        + EXERCISE_SECTIONS_FROM_STEPS
    )


def exercise_text(name: str) -> str:
    return (
        f"""---
name: {yaml_value(name.strip())}
muscles: []             # e.g. [glutes, piriformis]
equipment: []           # e.g. [mat]; [] means no equipment needed
level:                  # e.g. beginner
video:                  # optional: https://...
pregnancy:              # safe, modify or avoid (check reports it until set)
cautions: []            # short warnings shown with the exercise
reviewed_by:            # who checked it
last_reviewed:          # YYYY-MM-DD
before: []              # cards to do first, by file name without .md
progresses_to: []       # cards to move on to
exercise_type:          # optional: e.g. strength, stretching, breathing
video_poster:           # optional, with a YouTube/Vimeo video: a picture for its thumbnail, e.g. ../images/clam.jpg
---

TODO: one or two sentences: what this exercise does and who it is for.

### Why it helps

TODO: what it does for the reader.

"""
        + EXERCISE_SECTIONS_FROM_STEPS
    )


def yaml_value(text: str) -> str:
    """`text` as a YAML value: as written when YAML reads it back unchanged, else in quotes."""
    if not text:
        return ""
    try:
        plain_ok = "#" not in text and yaml.safe_load(f"key: {text}") == {"key": text}
    except yaml.YAMLError:
        plain_ok = False
    if plain_ok:
        return text
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a double-quoted YAML string


def _slug(slug: str, text: str, what: str) -> str:
    if not slug:
        raise PipelineError(f"the {what} '{text}' has no letters or digits to name the file after: use words")
    return slug

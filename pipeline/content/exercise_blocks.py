"""Exercise blocks inside an article: an `## Exercise: Name` heading or an ```exercise fence, read
into an ExerciseBlock with its sections (why it works, steps, tips, progression, safety, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.content.blocks import URL, Block, block_text, equipment_items, list_items
from pipeline.content.fields import (
    FENCE_FIELDS,
    SLUG_PATTERN,
    FileErrors,
    check_fields,
    exercise_slug,
    suggestion,
)
from pipeline.content.frontmatter import parse_yaml_mapping
from pipeline.core.errors import ContentError
from pipeline.core.model import (
    PREGNANCY_VALUES,
    CardLink,
    ExerciseBlock,
    Part,
    Section,
    Source,
)
from pipeline.core.urls import exercise_path, resolve_content_link

# ---------------------------------------------------------------- exercise sections

# Checked in this order: the first kind with a keyword in the heading wins. Safety comes first
# so that safety guidance is never filed as something else ("Safety tips" is safety).
SECTION_KEYWORDS: list[tuple[str, tuple[str, ...]]] = [
    ("safety", ("safety", "caution", "pregnan", "prolapse")),
    ("video", ("video",)),
    ("equipment", ("equipment",)),
    ("progression", ("progress",)),
    ("before", ("before", "first", "prerequisite")),
    ("tips", ("tip",)),
    ("benefits", ("why", "benefit")),
    ("steps", ("how to", "step", "technique")),
]
TEXT_KINDS = ("benefits", "progression", "safety", "before")
LIST_KINDS = ("steps", "tips")

EXERCISE_HEADING = re.compile(r"^exercise(?:\s+\d+)?\s*(?:(?P<separator>[:\-–—])\s*(?P<name>.*))?$", re.IGNORECASE)


def section_kind(heading: str) -> str | None:
    lowered = heading.lower()
    for kind, keywords in SECTION_KEYWORDS:
        if any(re.search(r"\b" + re.escape(keyword), lowered) for keyword in keywords):
            return kind
    return None


@dataclass
class Region:
    """The lines of one exercise: a `## Exercise` block of an article, or a card's body."""

    lines: list[str]
    blocks: list[Block]
    start: int
    end: int
    first_line: int  # file line of body line 0


def exercise_block(name: str, slug: str, source: Source, region: Region, problems: FileErrors) -> ExerciseBlock:
    block = ExerciseBlock(name=name, slug=slug, source=source)
    headings = [b for b in region.blocks if b.type == "heading" and b.level == 3]
    summary_end = headings[0].start if headings else region.end
    block.summary = block_text(region.lines, region.start, summary_end)
    for position, heading in enumerate(headings):
        section_end = headings[position + 1].start if position + 1 < len(headings) else region.end
        inner = [b for b in region.blocks if heading.end <= b.start < section_end]
        _add_section(block, heading, inner, heading.end, section_end, region, problems)
    return block


def _add_section(
    block: ExerciseBlock, heading: Block, inner: list[Block], start: int, end: int, region: Region, problems: FileErrors
) -> None:
    kind = section_kind(heading.title)
    line = region.first_line + heading.start
    text = block_text(region.lines, start, end)
    if kind is None:
        block.other_sections.append(Section(title=heading.title, markdown=text, source=Source(problems.path, line)))
        return
    if kind == "safety" and text:
        text_line = region.first_line + next(i for i in range(start, end) if region.lines[i].strip())
        text = _take_pregnancy_line(block, text, text_line, problems)
    if not text:
        problems.add(line, f"the {kind} section '### {heading.title}' is empty: write it, or remove the heading")
        return
    if kind in LINKING_KINDS:
        attribute, label = LINKING_KINDS[kind]
        origin = f"the {label} section '### {heading.title}'"
        links = getattr(block, attribute)
        links[:] = unique_links(
            links + section_card_links(region.lines, start, end, region.first_line, problems.path, origin)
        )
    if kind in TEXT_KINDS:
        previous = getattr(block, kind)
        setattr(block, kind, f"{previous}\n\n{text}" if previous else text)
    elif kind in LIST_KINDS:
        getattr(block, kind).extend(list_items(inner, region.lines))
    elif kind == "equipment":
        block.equipment = (block.equipment or []) + equipment_items(inner, region.lines, text)
    elif kind == "video":
        match = URL.search(text)
        if not match:
            problems.add(
                line, f"the video section '### {heading.title}' has no web address: paste the video's https:// link"
            )
        elif block.video is None:
            block.video = match.group(0).rstrip(".,;:!?")


# Sections whose links to library cards are also the exercise's prerequisites / harder versions.
LINKING_KINDS = {"before": ("prerequisites", "before-you-start"), "progression": ("progresses_to", "progression")}
PREGNANCY_LINE = re.compile(r"^[ \t]*pregnancy[ \t]*:[ \t]*(?P<value>[A-Za-z]+)[ \t]*$", re.IGNORECASE | re.MULTILINE)
_MARKDOWN_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)")


def _take_pregnancy_line(block: ExerciseBlock, text: str, text_line: int, problems: FileErrors) -> str:
    """A safety section's own line `pregnancy: safe|modify|avoid` sets the exercise's pregnancy
    suitability (how an exercise written in an article states it); the line is not shown as text."""
    match = PREGNANCY_LINE.search(text)
    if match is None:
        return text
    value = match.group("value").lower()
    if value not in PREGNANCY_VALUES:
        at = text_line + text.count("\n", 0, match.start())
        hint = suggestion(value, PREGNANCY_VALUES, prefix=" - did you mean") or ""
        problems.add(
            at, f"'pregnancy' must be one of {', '.join(PREGNANCY_VALUES)}, not '{match.group('value')}'{hint}"
        )
    else:
        block.pregnancy = value
    return (text[: match.start()] + text[match.end() :]).strip()


def section_card_links(
    lines: list[str], start: int, end: int, first_line: int, path: str, origin: str
) -> list[CardLink]:
    """Links to library cards (`[stretch](../exercises/piriformis-stretch.md)`) in body lines
    [start, end), each at its file line. Links to anything else are left alone."""
    links = []
    for index in range(start, end):
        for href in _MARKDOWN_LINK.findall(lines[index]):
            slug = card_slug(href, path)
            if slug:
                links.append(CardLink(slug, Source(path, first_line + index), origin))
    return unique_links(links)


def card_slug(href: str, path: str) -> str | None:
    """The card a link written in `path` leads to, or None."""
    site_path = resolve_content_link(href, path)
    library = exercise_path("").rstrip("/") + "/"  # "exercises/"
    if site_path is None or not site_path.startswith(library):
        return None
    slug = site_path[len(library) :].split("#")[0].split("/")[0]
    return slug if SLUG_PATTERN.match(slug) else None


def unique_links(links: list[CardLink]) -> list[CardLink]:
    seen: dict[str, CardLink] = {}
    for link in links:
        seen.setdefault(link.slug, link)
    return list(seen.values())


# Where an exercise of an article can start: a `## Exercise ...` heading (`#`s or a setext
# underline) has "exercise" first in its text, so at the start of a line or after `#` and
# whitespace; an ```exercise fence has it after the fence's backticks or tildes. Markdown also
# starts a line after a lone \r. The same case rule as EXERCISE_HEADING (re.IGNORECASE).
_EXERCISE_START = re.compile(r"[\n\r#`~]\s*exercise", re.IGNORECASE)


def may_hold_exercises(body: str) -> bool:
    """False when no line of `body` can start an exercise: the body is then prose only, and its
    Markdown block structure (the slowest part of parsing) is not needed."""
    return _EXERCISE_START.search("\n" + body) is not None  # the "\n": the first line starts one too


def is_exercise_heading(block: Block) -> bool:
    return block.type == "heading" and block.level == 2 and bool(EXERCISE_HEADING.match(block.title))


def is_exercise_fence(block: Block) -> bool:
    return block.type == "fence" and block.info.split(maxsplit=1)[:1] == ["exercise"]


def ends_exercise(block: Block) -> bool:
    return (block.type == "heading" and block.level <= 2) or is_exercise_fence(block)


def inline_exercise(heading: Block, region: Region, problems: FileErrors) -> ExerciseBlock | None:
    line = region.first_line + heading.start
    name = (EXERCISE_HEADING.match(heading.title).group("name") or "").strip()
    if not name:
        problems.add(
            line, f"exercise heading '## {heading.title}' has no name: write it like  ## Exercise - the hip extension"
        )
        return None
    slug = exercise_slug(name)
    if not slug:
        problems.add(line, f"exercise name '{name}' has no letters or digits to make a slug from")
        return None
    return exercise_block(name, slug, Source(problems.path, line), region, problems)


def fence_exercise(fence: Block, lines: list[str], first_line: int, problems: FileErrors) -> ExerciseBlock | None:
    line = first_line + fence.start
    closing = lines[fence.end - 1].strip() if fence.end - fence.start > 1 else ""
    if not closing.startswith(fence.markup):
        problems.add(line, f"the ```exercise block is not closed: add a line {fence.markup} after its last key")
        return None
    try:
        meta, key_lines = parse_yaml_mapping(fence.content, problems.path, first_line=line + 1)
    except ContentError as error:
        problems.absorb(error)
        return None
    before = len(problems.errors)
    values = check_fields(meta, key_lines, FENCE_FIELDS, problems, where="```exercise block", default_line=line)
    if len(problems.errors) > before:
        return None
    ref = values["ref"]
    return ExerciseBlock(
        name=ref,
        slug=ref,
        source=Source(problems.path, line),
        ref=ref,
        reps=values.get("reps"),
        sets=values.get("sets"),
        note=values.get("note"),
        rest=values.get("rest"),
    )


def check_unique_exercise_slugs(parts: list[Part], problems: FileErrors) -> None:
    seen: dict[str, int] = {}
    for part in parts:
        if isinstance(part, ExerciseBlock) and part.ref is None:
            if part.slug in seen:
                problems.add(
                    part.source.line,
                    f"a second exercise with the slug '{part.slug}' in this article (first on "
                    f"line {seen[part.slug]}): give it a different name",
                )
            seen.setdefault(part.slug, part.source.line)

"""One Markdown content file -> Article, Exercise or IssueNote. Pure: text and path in, model out.

Every problem in a file is collected and raised together as ContentErrors, each error at its
`file:line`. Cross-file checks (exercise refs, duplicate slugs, issue order) live in load.py.
The authoring format is described in docs/authoring.md; keep the two in step.
"""
from __future__ import annotations

import dataclasses
import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePosixPath
from typing import Sequence

from markdown_it import MarkdownIt

from .errors import ContentError, ContentErrors, PipelineError
from .frontmatter import FrontMatter, parse_yaml_mapping, read_front_matter
from .model import PREGNANCY_VALUES, Article, CardLink, Exercise, ExerciseBlock, IssueNote, Part, Prose, Section, Source
from .stages import DEFAULT_STAGES
from .urls import exercise_path, resolve_content_link
from .weeks import WEEK_PATTERN, parse_week

# ---------------------------------------------------------------- front matter fields


@dataclass(frozen=True)
class Field:
    kind: str  # "text", "date", "bool", "list", "slug", "slugs", "url", "pregnancy", "count"
    required: bool = False
    example: str = ""  # what a good value looks like, for messages


ARTICLE_FIELDS = {
    "title": Field("text", required=True, example="Why your glutes grip"),
    "date": Field("date", required=True, example="2026-11-26"),
    "summary": Field("text", required=True, example="One or two sentences; also the email preview text"),
    "tags": Field("list", example="[glutes, pelvic floor]"),
    "author": Field("text"),
    "image": Field("text", example="images/glutes.jpg"),
    "image_alt": Field("text", example="A woman kneeling on a yoga mat"),
    "slug": Field("slug", example="why-glutes-grip"),
    "draft": Field("bool"),
    "newsletter": Field("bool"),
    "reviewed_by": Field("text"),
    "last_reviewed": Field("date", example="2026-11-01"),
}
ARTICLE_META_KEYS = ("reviewed_by", "last_reviewed")

EXERCISE_FIELDS = {
    "name": Field("text", required=True, example="Piriformis stretch"),
    "muscles": Field("list", example="[glutes, piriformis]"),
    "equipment": Field("list", example="[mat]  (or [] for no equipment)"),
    "level": Field("text", example="beginner"),
    "video": Field("url", example="https://videos.example.com/piriformis"),
    "pregnancy": Field("pregnancy"),
    "cautions": Field("list", example="[Stop if you feel pins and needles]"),
    "reviewed_by": Field("text"),
    "last_reviewed": Field("date", example="2026-11-01"),
    "before": Field("slugs", example="[piriformis-stretch]"),
    "progresses_to": Field("slugs", example="[single-leg-bridge]"),
    "exercise_type": Field("text", example="strength"),
    "video_poster": Field("text", example="../images/clam-poster.jpg"),
}
EXERCISE_META_KEYS = ("reviewed_by", "last_reviewed", "before", "progresses_to", "video_poster")

ISSUE_FIELDS = {
    "subject": Field("text", example="Wake up your glutes"),
    "order": Field("slugs", example="[why-glutes-grip, breathing-and-your-pelvic-floor]"),
}

FENCE_FIELDS = {
    "ref": Field("slug", required=True, example="hip-extension"),
    "reps": Field("count", example="10"),
    "sets": Field("count", example="2"),
    "note": Field("text", example="Go slowly today."),
    "rest": Field("count", example="30 seconds"),
}

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Problems:
    """Collects the ContentErrors of one file so the writer sees them all at once."""

    def __init__(self, path: str):
        self.path = path
        self.errors: list[ContentError] = []

    def add(self, line: int, message: str) -> None:
        self.errors.append(ContentError(self.path, line, message))

    def absorb(self, error: ContentError) -> None:
        self.errors.append(error)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ContentErrors(self.errors)


def suggestion(word: str, choices, prefix: str = ": did you mean") -> str:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"{prefix} '{match[0]}'?" if match else ""


def check_fields(
    meta: dict, lines: dict[str, int], fields: dict[str, Field], problems: Problems, where: str = "front matter", default_line: int = 1
) -> dict:
    """Validate `meta` against `fields`; returns the clean values of the keys that were valid."""
    values = {}
    for key, value in meta.items():
        line = lines.get(str(key), default_line)
        if key not in fields:
            hint = suggestion(str(key), fields) or f" (known keys: {', '.join(fields)})"
            problems.add(line, f"unknown key '{key}' in the {where}{hint}")
            continue
        if value is None or value == "":
            if fields[key].required:
                problems.add(line, f"'{key}' is empty: write it like  {key}: {fields[key].example}")
            continue
        try:
            values[key] = _convert(key, value, fields[key])
        except ValueError as exc:
            problems.add(line, str(exc))
    for key, spec in fields.items():
        if spec.required and key not in meta:
            problems.add(default_line, f"missing required key '{key}' in the {where}: add a line  {key}: {spec.example}")
    return values


def _convert(key: str, value, spec: Field):
    kind = spec.kind
    if kind == "text":
        if not isinstance(value, str):
            raise ValueError(f"'{key}' must be text, not {_describe(value)}: put the value in quotes")
        return value.strip()
    if kind == "count":
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValueError(f"'{key}' must be a number or short text such as 10 or \"8-10 each side\", not {_describe(value)}")
        return str(value).strip()
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"'{key}' must be true or false, not {_describe(value)}")
        return value
    if kind == "date":
        return _date(key, value, spec)
    if kind == "list":
        return _text_list(key, value, spec)
    if kind == "slugs":
        return [_slug_value(key, item) for item in _text_list(key, value, spec)]
    if kind == "slug":
        return _slug_value(key, _convert(key, value, Field("text")))
    if kind == "url":
        url = _convert(key, value, Field("text"))
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"'{key}' must be a full web address starting with https://, not '{url}'")
        return url
    if kind == "pregnancy":
        text = _convert(key, value, Field("text")).lower()
        if text not in PREGNANCY_VALUES:
            hint = suggestion(text, PREGNANCY_VALUES, prefix=" - did you mean") or ""
            raise ValueError(f"'{key}' must be one of {', '.join(PREGNANCY_VALUES)}, not '{value}'{hint}")
        return text
    raise AssertionError(f"unknown field kind {kind}")


def _date(key: str, value, spec: Field) -> date:
    text = str(value).strip()
    if isinstance(value, str) and DATE_PATTERN.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"'{key}' {text} is not a real date ({exc}): write it as YYYY-MM-DD, e.g. {spec.example}") from None
    raise ValueError(f"'{key}' must be a date written YYYY-MM-DD, e.g. {spec.example}, not '{text}'")


def _text_list(key: str, value, spec: Field) -> list[str]:
    if not isinstance(value, list):
        raise ValueError(f"'{key}' must be a list, not {_describe(value)}: write it like  {key}: {spec.example}")
    for item in value:
        if not isinstance(item, (str, int, float)) or isinstance(item, bool):
            raise ValueError(f"every item of '{key}' must be text, not {_describe(item)}")
    return [str(item).strip() for item in value]


def _slug_value(key: str, text: str) -> str:
    if not SLUG_PATTERN.match(text):
        raise ValueError(f"'{key}' must be a slug (lowercase letters, digits and hyphens) like '{slugify(text) or 'hip-extension'}', not '{text}'")
    return text


def _describe(value) -> str:
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a set of keys"
    return f"'{value}'"


# ---------------------------------------------------------------- slugs


def slugify(text: str) -> str:
    without_accents = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", without_accents.lower()).strip("-")


def exercise_slug(name: str) -> str:
    """"the hip extension" -> "hip-extension": a leading "the" is dropped, then slugify."""
    return slugify(re.sub(r"^\s*the\s+", "", name, flags=re.IGNORECASE))


def file_slug(path: str) -> str:
    return slugify(PurePosixPath(path).stem)


# ---------------------------------------------------------------- Markdown blocks

# Block structure only: the inline rules (emphasis, links...) are the renderer's job, and skipping
# them here makes parsing several times faster. Headings keep their text in `.content`.
# text_join only tidies inline tokens, so it goes too.
_MARKDOWN = MarkdownIt("commonmark").enable("table").disable(["inline", "text_join"])


@dataclass
class Block:
    """A top-level Markdown block with its 0-based line range [start, end) in the body."""

    type: str  # "heading", "fence", "paragraph", "bullet_list", "ordered_list", "blockquote", ...
    start: int
    end: int
    level: int = 0  # heading level
    title: str = ""  # heading text
    info: str = ""  # fence info string
    content: str = ""  # fence content
    markup: str = ""  # fence marker
    items: list[tuple[int, int]] = field(default_factory=list)  # list items' line ranges


def markdown_blocks(body: str) -> list[Block]:
    tokens = _MARKDOWN.parse(body)
    blocks: list[Block] = []
    for index, token in enumerate(tokens):
        if token.level == 0 and token.map and token.nesting >= 0:
            start, end = token.map
            if token.type == "heading_open":
                title = tokens[index + 1].content.strip()
                blocks.append(Block("heading", start, end, level=int(token.tag[1]), title=title))
            elif token.type == "fence":
                blocks.append(Block("fence", start, end, info=token.info.strip(), content=token.content, markup=token.markup))
            else:
                blocks.append(Block(token.type.removesuffix("_open"), start, end))
        elif token.type == "list_item_open" and token.level == 1:
            blocks[-1].items.append(tuple(token.map))
    return blocks


def _text(lines: list[str], start: int, end: int) -> str:
    return "".join(lines[start:end]).strip()


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
NUMBERED_LINE = re.compile(r"^\s*\d+(?:\s*[-–—]\s+|[.)]\s+)")
LIST_MARKER = re.compile(r"^\s*(?:\d+[.)]|[-*+])\s+")
URL = re.compile(r"https?://[^\s<>()\[\]\"']+")
NO_EQUIPMENT = ("none", "no equipment", "nothing")


def section_kind(heading: str) -> str | None:
    lowered = heading.lower()
    for kind, keywords in SECTION_KEYWORDS:
        if any(re.search(r"\b" + re.escape(keyword), lowered) for keyword in keywords):
            return kind
    return None


@dataclass
class _Region:
    """The lines of one exercise: a `## Exercise` block of an article, or a card's body."""

    lines: list[str]
    blocks: list[Block]
    start: int
    end: int
    first_line: int  # file line of body line 0


def _build_block(name: str, slug: str, source: Source, region: _Region, problems: Problems) -> ExerciseBlock:
    block = ExerciseBlock(name=name, slug=slug, source=source)
    headings = [b for b in region.blocks if b.type == "heading" and b.level == 3]
    summary_end = headings[0].start if headings else region.end
    block.summary = _text(region.lines, region.start, summary_end)
    for position, heading in enumerate(headings):
        section_end = headings[position + 1].start if position + 1 < len(headings) else region.end
        inner = [b for b in region.blocks if heading.end <= b.start < section_end]
        _add_section(block, heading, inner, heading.end, section_end, region, problems)
    return block


def _add_section(
    block: ExerciseBlock, heading: Block, inner: list[Block], start: int, end: int, region: _Region, problems: Problems
) -> None:
    kind = section_kind(heading.title)
    line = region.first_line + heading.start
    text = _text(region.lines, start, end)
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
        links[:] = unique_links(links + section_card_links(region.lines, start, end, region.first_line, problems.path, origin))
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
            problems.add(line, f"the video section '### {heading.title}' has no web address: paste the video's https:// link")
        elif block.video is None:
            block.video = match.group(0).rstrip(".,;:!?")


# Sections whose links to library cards are also the exercise's prerequisites / harder versions.
LINKING_KINDS = {"before": ("prerequisites", "before-you-start"), "progression": ("progresses_to", "progression")}
PREGNANCY_LINE = re.compile(r"^[ \t]*pregnancy[ \t]*:[ \t]*(?P<value>[A-Za-z]+)[ \t]*$", re.IGNORECASE | re.MULTILINE)
_MARKDOWN_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)")


def _take_pregnancy_line(block: ExerciseBlock, text: str, text_line: int, problems: Problems) -> str:
    """A safety section's own line `pregnancy: safe|modify|avoid` sets the exercise's pregnancy
    suitability (how an exercise written in an article states it); the line is not shown as text."""
    match = PREGNANCY_LINE.search(text)
    if match is None:
        return text
    value = match.group("value").lower()
    if value not in PREGNANCY_VALUES:
        at = text_line + text.count("\n", 0, match.start())
        hint = suggestion(value, PREGNANCY_VALUES, prefix=" - did you mean") or ""
        problems.add(at, f"'pregnancy' must be one of {', '.join(PREGNANCY_VALUES)}, not '{match.group('value')}'{hint}")
    else:
        block.pregnancy = value
    return (text[: match.start()] + text[match.end():]).strip()


def section_card_links(lines: list[str], start: int, end: int, first_line: int, path: str, origin: str) -> list[CardLink]:
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
    slug = site_path[len(library):].split("#")[0].split("/")[0]
    return slug if SLUG_PATTERN.match(slug) else None


def unique_links(links: list[CardLink]) -> list[CardLink]:
    seen: dict[str, CardLink] = {}
    for link in links:
        seen.setdefault(link.slug, link)
    return list(seen.values())


def list_items(blocks: list[Block], lines: list[str]) -> list[str]:
    """Tips or steps: a Markdown list, or pasted paragraphs numbered `1 - `, `1 – `, `1 — `, `1. `.

    An unnumbered paragraph after a numbered one continues that item; otherwise it is an item.
    """
    items: list[str] = []
    continuing = False
    for block in blocks:
        if block.type in ("ordered_list", "bullet_list"):
            items.extend(_item_text(lines[start:end]) for start, end in block.items)
            continuing = False
        elif block.type == "paragraph":
            for numbered, chunk in _numbered_chunks(lines[block.start:block.end]):
                if numbered or not (continuing and items):
                    items.append(chunk)
                else:
                    items[-1] += "\n\n" + chunk
                continuing = continuing or numbered
        else:
            text = _text(lines, block.start, block.end)
            if continuing and items:
                items[-1] += "\n\n" + text
            else:
                items.append(text)
    return [item for item in items if item]


def _numbered_chunks(paragraph: list[str]) -> list[tuple[bool, str]]:
    chunks: list[tuple[bool, list[str]]] = []
    for line in paragraph:
        marker = NUMBERED_LINE.match(line)
        if marker:
            chunks.append((True, [line[marker.end():]]))
        elif chunks:
            chunks[-1][1].append(line)
        else:
            chunks.append((False, [line]))
    return [(numbered, _join_lines(chunk)) for numbered, chunk in chunks]


def _item_text(item_lines: list[str]) -> str:
    first = LIST_MARKER.sub("", item_lines[0], count=1)
    return _join_lines([first] + item_lines[1:])


def _join_lines(item_lines: list[str]) -> str:
    """Strip each line, keep paragraph breaks: the same item reads the same however it was indented."""
    text = "\n".join(line.strip() for line in item_lines).strip()
    return re.sub(r"\n{3,}", "\n\n", text)


def equipment_items(blocks: list[Block], lines: list[str], text: str) -> list[str]:
    items: list[str] = []
    for block in blocks:
        if block.type in ("bullet_list", "ordered_list"):
            items.extend(_item_text(lines[start:end]) for start, end in block.items)
        else:
            items.extend(line.strip() for line in lines[block.start:block.end] if line.strip())
    if text.lower().startswith(NO_EQUIPMENT) or (len(items) == 1 and items[0].lower().startswith(NO_EQUIPMENT)):
        return []
    return items


# ---------------------------------------------------------------- articles


def parse_article(text: str, path: str, stages: Sequence[str] = DEFAULT_STAGES) -> Article:
    """`stages`: the configured reader stages a `::: only <stage>` block may name."""
    problems = Problems(path)
    front = _front_matter(text, path)
    values = check_fields(front.meta, front.key_lines, ARTICLE_FIELDS, problems)
    if "image" in values and "image_alt" not in values:
        problems.add(front.line_of("image"), "'image' needs 'image_alt' too: describe the picture for readers who cannot see it")
    parts = article_parts(front.body, front.body_start_line, problems, stages)
    problems.raise_if_any()
    return Article(
        slug=values.get("slug") or file_slug(path),
        title=values["title"],
        date=values["date"],
        summary=values["summary"],
        source=Source(path, 1),
        parts=parts,
        tags=values.get("tags", []),
        author=values.get("author"),
        image=values.get("image"),
        image_alt=values.get("image_alt"),
        draft=values.get("draft", False),
        newsletter=values.get("newsletter", True),
        meta={key: values[key] for key in ARTICLE_META_KEYS if key in values},
    )


def article_parts(body: str, first_line: int, problems: Problems, stages: Sequence[str] = DEFAULT_STAGES) -> list[Part]:
    """Split an article body into Prose and ExerciseBlock parts, in order. A part inside a
    `::: only <stage>` block carries that block's stages; the block's first and last lines end
    prose and exercise blocks, as a level-2 heading does."""
    lines, segments = stage_segments(body.splitlines(keepends=True), first_line, problems, stages)
    text = "".join(lines)
    blocks = markdown_blocks(text) if may_hold_exercises(text) else []  # prose alone needs no blocks
    parts: list[Part] = []
    for segment in segments:
        inside = [block for block in blocks if segment.start <= block.start < segment.end]
        errors_before = len(problems.errors)
        found = _segment_parts(lines, inside, segment.start, segment.end, first_line, problems)
        if len(problems.errors) == errors_before:  # a block whose exercise is wrong is not also "empty"
            _check_not_empty(segment, found, problems)
        for part in found:
            part.stages = segment.stages
        parts.extend(found)
    _check_unique_exercise_slugs(parts, problems)
    return parts


# Where an exercise of an article can start: a `## Exercise ...` heading (`#`s or a setext
# underline) has "exercise" first in its text, so at the start of a line or after `#` and
# whitespace; an ```exercise fence has it after the fence's backticks or tildes. Markdown also
# starts a line after a lone \r. The same case rule as EXERCISE_HEADING (re.IGNORECASE).
_EXERCISE_START = re.compile(r"[\n\r#`~]\s*exercise", re.IGNORECASE)


def may_hold_exercises(body: str) -> bool:
    """False when no line of `body` can start an exercise: the body is then prose only, and its
    Markdown block structure (the slowest part of parsing) is not needed."""
    return _EXERCISE_START.search("\n" + body) is not None  # the "\n": the first line starts one too


def _segment_parts(lines: list[str], blocks: list[Block], segment_start: int, segment_end: int, first_line: int, problems: Problems) -> list[Part]:
    """The parts of body lines [segment_start, segment_end), whose Markdown blocks are `blocks`."""
    parts: list[Part] = []
    prose_start = segment_start

    def flush_prose(end: int) -> None:
        prose = _prose(lines, prose_start, end, first_line, problems.path)
        if prose:
            parts.append(prose)

    index = 0
    while index < len(blocks):
        block = blocks[index]
        if _is_exercise_heading(block):
            flush_prose(block.start)
            after = next((i for i in range(index + 1, len(blocks)) if _ends_exercise(blocks[i])), len(blocks))
            end = blocks[after].start if after < len(blocks) else segment_end
            region = _Region(lines, blocks[index + 1:after], block.end, end, first_line)
            exercise = _inline_exercise(block, region, problems)
            if exercise:
                parts.append(exercise)
            prose_start, index = end, after
            continue
        if _is_exercise_fence(block):
            flush_prose(block.start)
            exercise = _fence_exercise(block, lines, first_line, problems)
            if exercise:
                parts.append(exercise)
            prose_start = block.end
        index += 1
    flush_prose(segment_end)
    return parts


def _prose(lines: list[str], start: int, end: int, first_line: int, path: str) -> Prose | None:
    text = _text(lines, start, end)
    if not text:
        return None
    offset = next(i for i in range(start, end) if lines[i].strip())
    return Prose(markdown=text, source=Source(path, first_line + offset))


# ---------------------------------------------------------------- stage blocks: `::: only <stage>`

STAGE_BLOCK_LINE = re.compile(r"^:::(?P<rest>.*)$")


@dataclass
class _Segment:
    """Body lines [start, end): inside a `::: only` block opened on file line `line` (with its
    `stages`), or outside any block (stages None)."""

    start: int
    end: int
    stages: tuple[str, ...] | None = None
    line: int = 0


def stage_segments(lines: list[str], first_line: int, problems: Problems, known: Sequence[str]) -> tuple[list[str], list[_Segment]]:
    """Find the `::: only <stage>, ...` ... `:::` blocks of a body (lines starting with `:::`,
    outside code). Returns the lines with those marker lines blanked - Markdown then sees a
    paragraph break there, and line numbers stay - and the body cut into segments, in order."""
    code = _code_lines("".join(lines)) if any(line.startswith(":::") for line in lines) else set()
    cleaned = list(lines)
    segments: list[_Segment] = []
    current = _Segment(0, 0)
    for index, line in enumerate(lines):
        match = STAGE_BLOCK_LINE.match(line.rstrip())
        if not match or index in code:
            continue
        cleaned[index] = "\n"
        where = first_line + index
        opening = match["rest"].strip()
        if opening and current.stages is not None:
            problems.add(where, f"a '::: only' block cannot start inside another one (opened on line {current.line}): close that one with a ':::' line first")
        elif opening:
            segments.append(dataclasses.replace(current, end=index))
            current = _Segment(index + 1, 0, _block_stages(opening, where, problems, known), where)
        elif current.stages is None:
            problems.add(where, "this ':::' line closes no '::: only' block: remove it, or open a block before it with a line like  ::: only pregnant")
        else:
            segments.append(dataclasses.replace(current, end=index))
            current = _Segment(index + 1, 0)
    if current.stages is not None:
        problems.add(current.line, "this '::: only' block is never closed: add a line ':::' after its last line")
    segments.append(dataclasses.replace(current, end=len(lines)))
    return cleaned, segments


def _block_stages(opening: str, line: int, problems: Problems, known: Sequence[str]) -> tuple[str, ...]:
    configured = f"the stages are {', '.join(known) or 'none'}: [audience] stages in newsletter.toml"
    keyword, _, names = opening.partition(" ")
    if keyword.lower() != "only":
        problems.add(line, f"unknown block '::: {opening}': write  ::: only <stage>, <stage>  to show a part to some stages only ({configured})")
        return ()
    stages = tuple(dict.fromkeys(name.strip() for name in names.split(",") if name.strip()))
    if not stages:
        problems.add(line, f"'::: only' names no stage: write it like  ::: only {known[0] if known else 'pregnant'}  ({configured})")
    for stage in stages:
        if stage not in known:
            problems.add(line, f"unknown stage '{stage}' in '::: only'{suggestion(stage, known)} ({configured})")
    return stages


def _code_lines(body: str) -> set[int]:
    """Body lines inside fenced or indented code, at any depth: a `:::` there is just code."""
    lines: set[int] = set()
    for token in _MARKDOWN.parse(body):
        if token.type in ("fence", "code_block") and token.map:
            lines.update(range(*token.map))
    return lines


def _check_not_empty(segment: _Segment, parts: list, problems: Problems) -> None:
    if segment.stages and not parts:
        problems.add(segment.line, f"the '::: only {', '.join(segment.stages)}' block is empty: write what those readers should see, or remove it")


def intro_parts(body: str, first_line: int, problems: Problems, stages: Sequence[str] = DEFAULT_STAGES) -> list[Prose]:
    """An issue note's intro as Prose parts, cut at its `::: only` blocks."""
    lines, segments = stage_segments(body.splitlines(keepends=True), first_line, problems, stages)
    parts: list[Prose] = []
    for segment in segments:
        prose = _prose(lines, segment.start, segment.end, first_line, problems.path)
        _check_not_empty(segment, [prose] if prose else [], problems)
        if prose:
            prose.stages = segment.stages
            parts.append(prose)
    return parts


def _is_exercise_heading(block: Block) -> bool:
    return block.type == "heading" and block.level == 2 and bool(EXERCISE_HEADING.match(block.title))


def _is_exercise_fence(block: Block) -> bool:
    return block.type == "fence" and block.info.split(maxsplit=1)[:1] == ["exercise"]


def _ends_exercise(block: Block) -> bool:
    return (block.type == "heading" and block.level <= 2) or _is_exercise_fence(block)


def _inline_exercise(heading: Block, region: _Region, problems: Problems) -> ExerciseBlock | None:
    line = region.first_line + heading.start
    name = (EXERCISE_HEADING.match(heading.title).group("name") or "").strip()
    if not name:
        problems.add(line, f"exercise heading '## {heading.title}' has no name: write it like  ## Exercise - the hip extension")
        return None
    slug = exercise_slug(name)
    if not slug:
        problems.add(line, f"exercise name '{name}' has no letters or digits to make a slug from")
        return None
    return _build_block(name, slug, Source(problems.path, line), region, problems)


def _fence_exercise(fence: Block, lines: list[str], first_line: int, problems: Problems) -> ExerciseBlock | None:
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
        name=ref, slug=ref, source=Source(problems.path, line),
        ref=ref, reps=values.get("reps"), sets=values.get("sets"), note=values.get("note"), rest=values.get("rest"),
    )


def _check_unique_exercise_slugs(parts: list[Part], problems: Problems) -> None:
    seen: dict[str, int] = {}
    for part in parts:
        if isinstance(part, ExerciseBlock) and part.ref is None:
            if part.slug in seen:
                problems.add(
                    part.source.line,
                    f"a second exercise with the slug '{part.slug}' in this article (first on line {seen[part.slug]}): give it a different name",
                )
            seen.setdefault(part.slug, part.source.line)


# ---------------------------------------------------------------- exercise cards


def parse_exercise(text: str, path: str) -> Exercise:
    problems = Problems(path)
    front = _front_matter(text, path)
    values = check_fields(front.meta, front.key_lines, EXERCISE_FIELDS, problems)
    slug = file_slug(path)
    lines = front.body.splitlines(keepends=True)
    region = _Region(lines, markdown_blocks(front.body), 0, len(lines), front.body_start_line)
    block = _build_block(values.get("name", slug), slug, Source(path, 1), region, problems)
    for key in ("equipment", "video", "pregnancy"):
        if key in values and getattr(block, key) is not None:
            problems.add(front.line_of(key), f"'{key}' is in the front matter and in a section of the text: keep one")
    problems.raise_if_any()
    block.muscles = values.get("muscles", [])
    block.level = values.get("level")
    block.pregnancy = values.get("pregnancy", block.pregnancy)
    block.exercise_type = values.get("exercise_type")
    for key, links in (("before", block.prerequisites), ("progresses_to", block.progresses_to)):
        written = [CardLink(slug, Source(path, front.line_of(key)), f"'{key}'") for slug in values.get(key, [])]
        links[:] = unique_links(written + links)
    block.cautions = values.get("cautions", [])
    if "equipment" in values:
        block.equipment = values["equipment"]
    if "video" in values:
        block.video = values["video"]
    meta = {key: values[key] for key in EXERCISE_META_KEYS if key in values}
    return Exercise(slug=slug, block=block, source=Source(path, 1), meta=meta)


# ---------------------------------------------------------------- issue notes


def parse_issue_note(text: str, path: str, stages: Sequence[str] = DEFAULT_STAGES) -> IssueNote:
    problems = Problems(path)
    stem = PurePosixPath(path).stem
    week = stem
    try:
        if not WEEK_PATTERN.match(stem):
            raise PipelineError("not an ISO week")
        week = parse_week(stem)
    except PipelineError:
        problems.add(1, f"the file name '{stem}' is not an ISO week: name the file like 2026-W48.md (year, W, week number)")
    try:
        front = read_front_matter(text, path)
    except ContentError as error:
        problems.absorb(error)
        problems.raise_if_any()
    values = check_fields(front.meta, front.key_lines, ISSUE_FIELDS, problems)
    intro = intro_parts(front.body, front.body_start_line, problems, stages)
    problems.raise_if_any()
    return IssueNote(
        week=week,
        source=Source(path, 1),
        subject=values.get("subject"),
        intro="\n\n".join(part.markdown for part in intro),
        order=values.get("order", []),
        intro_parts=intro,
    )


def _front_matter(text: str, path: str) -> FrontMatter:
    try:
        return read_front_matter(text, path)
    except ContentError as error:
        raise ContentErrors([error]) from None

"""One Markdown content file -> Article, Exercise or IssueNote. Pure: text and path in, model out.

Every problem in a file is collected and raised together as ContentErrors, each error at its
`file:line`. Cross-file checks (exercise refs, duplicate slugs, issue order) live in load.py.
The authoring format is described in docs/authoring.md; keep the two in step.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import PurePosixPath

from pipeline.content.audience_blocks import check_not_empty, stage_segments
from pipeline.content.blocks import Block, block_text, markdown_blocks
from pipeline.content.exercise_blocks import (
    Region,
    check_unique_exercise_slugs,
    ends_exercise,
    exercise_block,
    fence_exercise,
    inline_exercise,
    is_exercise_fence,
    is_exercise_heading,
    may_hold_exercises,
    unique_links,
)
from pipeline.content.fields import (
    ARTICLE_FIELDS,
    ARTICLE_META_KEYS,
    EXERCISE_FIELDS,
    EXERCISE_META_KEYS,
    ISSUE_FIELDS,
    FileErrors,
    check_fields,
    file_slug,
)
from pipeline.content.frontmatter import FrontMatter, read_front_matter
from pipeline.content.video_fences import fenced_videos, may_hold_videos
from pipeline.core.errors import ContentError, ContentErrors, PipelineError
from pipeline.core.model import (
    Article,
    CardLink,
    Exercise,
    IssueNote,
    Part,
    Prose,
    Source,
)
from pipeline.core.stages import DEFAULT_STAGES
from pipeline.core.weeks import WEEK_PATTERN, parse_week

# ---------------------------------------------------------------- articles


def parse_article(text: str, path: str, stages: Sequence[str] = DEFAULT_STAGES) -> Article:
    """`stages`: the configured reader stages a `::: only <stage>` block may name."""
    problems = FileErrors(path)
    front = _front_matter(text, path)
    meta = dict(front.meta)
    if "summary" not in meta:  # what other tools write instead: a description, an excerpt, <!--more-->
        fallback = meta.get("description") or meta.get("excerpt") or summary_before_more(front.body)
        if fallback:
            meta["summary"] = fallback
    values = check_fields(meta, front.key_lines, ARTICLE_FIELDS, problems, forgiving=True)
    if "image" in values and "image_alt" not in values:
        problems.add(
            front.line_of("image"), "'image' needs 'image_alt' too: describe the picture for readers who cannot see it"
        )
    body = MORE_MARKER.sub("", front.body)
    parts = article_parts(body, front.body_start_line, problems, stages)
    check_video_fences(body, front.body_start_line, problems)
    problems.raise_if_any()
    when = values["date"]
    return Article(
        slug=values.get("slug") or file_slug(path),
        title=values["title"],
        date=when.date() if isinstance(when, datetime) else when,
        published=when if isinstance(when, datetime) else None,
        aliases=values.get("aliases", []),
        forgiven=problems.forgiven,
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


def check_video_fences(body: str, first_line: int, problems: FileErrors) -> None:
    """Every ```video fence of the body names an https:// video and nothing else (content/video_fences.py)."""
    if not may_hold_videos(body):
        return
    for _, _, video in fenced_videos(body):
        for line, message in video.problems:
            problems.add(first_line + line - 1, message)


MORE_MARKER = re.compile(r"^[ \t]*<!--\s*more\s*-->[ \t]*$", re.MULTILINE | re.IGNORECASE)
MARKDOWN_MARKS = re.compile(r"[*_`]+|!?\[([^\]]*)\]\([^)]*\)|<[^>]+>")


def summary_before_more(body: str) -> str | None:
    """The text above a `<!--more-->` line (Hugo, Jekyll, Zola's summary marker) as plain text."""
    found = MORE_MARKER.search(body)
    if not found:
        return None
    text = " ".join(body[: found.start()].split())
    return MARKDOWN_MARKS.sub(lambda mark: mark.group(1) or "", text).strip() or None


def article_parts(
    body: str, first_line: int, problems: FileErrors, stages: Sequence[str] = DEFAULT_STAGES
) -> list[Part]:
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
            check_not_empty(segment, found, problems)
        for part in found:
            part.stages = segment.stages
        parts.extend(found)
    check_unique_exercise_slugs(parts, problems)
    return parts


def _segment_parts(
    lines: list[str], blocks: list[Block], segment_start: int, segment_end: int, first_line: int, problems: FileErrors
) -> list[Part]:
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
        if is_exercise_heading(block):
            flush_prose(block.start)
            after = next((i for i in range(index + 1, len(blocks)) if ends_exercise(blocks[i])), len(blocks))
            end = blocks[after].start if after < len(blocks) else segment_end
            region = Region(lines, blocks[index + 1 : after], block.end, end, first_line)
            exercise = inline_exercise(block, region, problems)
            if exercise:
                parts.append(exercise)
            prose_start, index = end, after
            continue
        if is_exercise_fence(block):
            flush_prose(block.start)
            exercise = fence_exercise(block, lines, first_line, problems)
            if exercise:
                parts.append(exercise)
            prose_start = block.end
        index += 1
    flush_prose(segment_end)
    return parts


def _prose(lines: list[str], start: int, end: int, first_line: int, path: str) -> Prose | None:
    text = block_text(lines, start, end)
    if not text:
        return None
    offset = next(i for i in range(start, end) if lines[i].strip())
    return Prose(markdown=text, source=Source(path, first_line + offset))


def intro_parts(
    body: str, first_line: int, problems: FileErrors, stages: Sequence[str] = DEFAULT_STAGES
) -> list[Prose]:
    """An issue note's intro as Prose parts, cut at its `::: only` blocks."""
    lines, segments = stage_segments(body.splitlines(keepends=True), first_line, problems, stages)
    parts: list[Prose] = []
    for segment in segments:
        prose = _prose(lines, segment.start, segment.end, first_line, problems.path)
        check_not_empty(segment, [prose] if prose else [], problems)
        if prose:
            prose.stages = segment.stages
            parts.append(prose)
    return parts


# ---------------------------------------------------------------- exercise cards


def parse_exercise(text: str, path: str) -> Exercise:
    problems = FileErrors(path)
    front = _front_matter(text, path)
    values = check_fields(front.meta, front.key_lines, EXERCISE_FIELDS, problems, forgiving=True)
    slug = file_slug(path)
    lines = front.body.splitlines(keepends=True)
    region = Region(lines, markdown_blocks(front.body), 0, len(lines), front.body_start_line)
    block = exercise_block(values.get("name", slug), slug, Source(path, 1), region, problems)
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
    return Exercise(slug=slug, block=block, source=Source(path, 1), meta=meta, forgiven=problems.forgiven)


# ---------------------------------------------------------------- issue notes


def parse_issue_note(text: str, path: str, stages: Sequence[str] = DEFAULT_STAGES) -> IssueNote:
    problems = FileErrors(path)
    stem = PurePosixPath(path).stem
    week = stem
    try:
        if not WEEK_PATTERN.match(stem):
            raise PipelineError("not an ISO week")
        week = parse_week(stem)
    except PipelineError:
        problems.add(
            1, f"the file name '{stem}' is not an ISO week: name the file like 2026-W48.md (year, W, week number)"
        )
    try:
        front = read_front_matter(text, path)
    except ContentError as error:
        problems.absorb(error)
        problems.raise_if_any()
    values = check_fields(front.meta, front.key_lines, ISSUE_FIELDS, problems, forgiving=True)
    intro = intro_parts(front.body, front.body_start_line, problems, stages)
    problems.raise_if_any()
    return IssueNote(
        week=week,
        source=Source(path, 1),
        subject=values.get("subject"),
        intro="\n\n".join(part.markdown for part in intro),
        order=values.get("order", []),
        intro_parts=intro,
        forgiven=problems.forgiven,
    )


def _front_matter(text: str, path: str) -> FrontMatter:
    try:
        return read_front_matter(text, path)
    except ContentError as error:
        raise ContentErrors([error]) from None

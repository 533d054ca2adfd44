"""`::: only <stage>` blocks: the parts of an article or issue note written for one reader stage."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.content.blocks import BLOCK_PARSER
from pipeline.content.fields import FileErrors, suggestion

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


def stage_segments(
    lines: list[str], first_line: int, problems: FileErrors, known: Sequence[str]
) -> tuple[list[str], list[_Segment]]:
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
            problems.add(
                where,
                "a '::: only' block cannot start inside another one (opened on line "
                f"{current.line}): close that one with a ':::' line first",
            )
        elif opening:
            segments.append(dataclasses.replace(current, end=index))
            current = _Segment(index + 1, 0, _block_stages(opening, where, problems, known), where)
        elif current.stages is None:
            problems.add(
                where,
                "this ':::' line closes no '::: only' block: remove it, or open a block "
                "before it with a line like  ::: only pregnant",
            )
        else:
            segments.append(dataclasses.replace(current, end=index))
            current = _Segment(index + 1, 0)
    if current.stages is not None:
        problems.add(current.line, "this '::: only' block is never closed: add a line ':::' after its last line")
    segments.append(dataclasses.replace(current, end=len(lines)))
    return cleaned, segments


def _block_stages(opening: str, line: int, problems: FileErrors, known: Sequence[str]) -> tuple[str, ...]:
    configured = f"the stages are {', '.join(known) or 'none'}: [audience] stages in newsletter.toml"
    keyword, _, names = opening.partition(" ")
    if keyword.lower() != "only":
        problems.add(
            line,
            f"unknown block '::: {opening}': write  ::: only <stage>, <stage>  to "
            f"show a part to some stages only ({configured})",
        )
        return ()
    stages = tuple(dict.fromkeys(name.strip() for name in names.split(",") if name.strip()))
    if not stages:
        problems.add(
            line,
            f"'::: only' names no stage: write it like  ::: only {known[0] if known else 'pregnant'}  ({configured})",
        )
    for stage in stages:
        if stage not in known:
            problems.add(line, f"unknown stage '{stage}' in '::: only'{suggestion(stage, known)} ({configured})")
    return stages


def _code_lines(body: str) -> set[int]:
    """Body lines inside fenced or indented code, at any depth: a `:::` there is just code."""
    lines: set[int] = set()
    for token in BLOCK_PARSER.parse(body):
        if token.type in ("fence", "code_block") and token.map:
            lines.update(range(*token.map))
    return lines


def check_not_empty(segment: _Segment, parts: list, problems: FileErrors) -> None:
    if segment.stages and not parts:
        problems.add(
            segment.line,
            f"the '::: only {', '.join(segment.stages)}' block is empty: write what "
            "those readers should see, or remove it",
        )

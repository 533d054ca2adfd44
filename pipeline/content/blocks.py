"""The CommonMark block structure of a body with line numbers (markdown-it-py): headings, fences,
lists, and the items of a list as the writer wrote them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt

# ---------------------------------------------------------------- Markdown blocks

# Block structure only: the inline rules (emphasis, links...) are the renderer's job, and skipping
# them here makes parsing several times faster. Headings keep their text in `.content`.
# text_join only tidies inline tokens, so it goes too.
BLOCK_PARSER = MarkdownIt("commonmark").enable("table").disable(["inline", "text_join"])


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
    tokens = BLOCK_PARSER.parse(body)
    blocks: list[Block] = []
    for index, token in enumerate(tokens):
        if token.level == 0 and token.map and token.nesting >= 0:
            start, end = token.map
            if token.type == "heading_open":
                title = tokens[index + 1].content.strip()
                blocks.append(Block("heading", start, end, level=int(token.tag[1]), title=title))
            elif token.type == "fence":
                blocks.append(
                    Block("fence", start, end, info=token.info.strip(), content=token.content, markup=token.markup)
                )
            else:
                blocks.append(Block(token.type.removesuffix("_open"), start, end))
        elif token.type == "list_item_open" and token.level == 1:
            blocks[-1].items.append(tuple(token.map))
    return blocks


def block_text(lines: list[str], start: int, end: int) -> str:
    return "".join(lines[start:end]).strip()


NUMBERED_LINE = re.compile(r"^\s*\d+(?:\s*[-–—]\s+|[.)]\s+)")
LIST_MARKER = re.compile(r"^\s*(?:\d+[.)]|[-*+])\s+")
URL = re.compile(r"https?://[^\s<>()\[\]\"']+")
NO_EQUIPMENT = ("none", "no equipment", "nothing")


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
            for numbered, chunk in _numbered_chunks(lines[block.start : block.end]):
                if numbered or not (continuing and items):
                    items.append(chunk)
                else:
                    items[-1] += "\n\n" + chunk
                continuing = continuing or numbered
        else:
            text = block_text(lines, block.start, block.end)
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
            chunks.append((True, [line[marker.end() :]]))
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
            items.extend(line.strip() for line in lines[block.start : block.end] if line.strip())
    if text.lower().startswith(NO_EQUIPMENT) or (len(items) == 1 and items[0].lower().startswith(NO_EQUIPMENT)):
        return []
    return items

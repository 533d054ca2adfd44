"""Front matter: the YAML block between two `---` lines at the top of every content file.

`split_front_matter(text, path) -> (meta, body, body_start_line)` is the whole contract; line
numbers are kept exact so every later error can point at `file:line`. python-frontmatter
defines what a boundary line is, but its own `parse` strips the text and loses line numbers, so
the YAML is composed here with PyYAML, which also tells us the line of each key.

Dates are left as strings (no YAML timestamp magic): parse.py checks them and reports a bad
date at its own line instead of PyYAML failing on the whole file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml
from frontmatter.default_handlers import YAMLHandler

from pipeline.core.errors import ContentError

BOUNDARY = YAMLHandler.FM_BOUNDARY  # a line of three or more dashes

HOW_TO_ADD = "start the file with a '---' line, then 'key: value' lines, then a closing '---' line"


class _Loader(yaml.SafeLoader):
    """SafeLoader without the timestamp resolver: `date: 2026-11-26` stays the string '2026-11-26'."""


# libyaml's parser, when PyYAML has it, is about ten times faster; a file it rejects is parsed
# again with the pure-Python one, whose messages and marks are the ones writers are shown.
class _FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """The same rules as _Loader (no timestamps), on libyaml's parser."""


_NO_TIMESTAMPS = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.yaml_implicit_resolvers = _NO_TIMESTAMPS
_FastLoader.yaml_implicit_resolvers = _NO_TIMESTAMPS


@dataclass
class FrontMatter:
    meta: dict
    body: str
    body_start_line: int  # 1-based line of the body's first line in the file
    key_lines: dict[str, int] = field(default_factory=dict)  # top-level key -> 1-based line

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, 1)


def read_front_matter(text: str, path: str) -> FrontMatter:
    """Split and parse the front matter; any problem is a ContentError at its line."""
    lines = text.removeprefix("\ufeff").splitlines(keepends=True)
    if not lines or not BOUNDARY.fullmatch(lines[0].rstrip("\r\n")):
        raise ContentError(path, 1, f"no front matter: {HOW_TO_ADD}")
    closing = next((i for i in range(1, len(lines)) if BOUNDARY.fullmatch(lines[i].rstrip("\r\n"))), None)
    if closing is None:
        raise ContentError(path, 1, "front matter is not closed: add a '---' line after the last key")
    yaml_text = "".join(lines[1:closing])
    meta, key_lines = parse_yaml_mapping(yaml_text, path, first_line=2)
    _refuse_control_characters_in_values(meta, key_lines, path)
    body = "".join(lines[closing + 1 :])
    _refuse_control_characters_in_body(lines[closing + 1 :], path, first_line=closing + 2)
    return FrontMatter(meta=meta, body=body, body_start_line=closing + 2, key_lines=key_lines)


# C0 and C1 control characters but tab and line ends: XML (the feed) and HTML cannot carry them,
# and a pasted one is invisible in the editor.
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
FIX_CONTROL = "delete it (it is invisible in most editors: retype the text around it)"


def _refuse_control_characters_in_body(lines: list[str], path: str, first_line: int) -> None:
    for number, line in enumerate(lines, start=first_line):
        found = CONTROL_CHARACTER.search(line.rstrip("\r\n"))
        if found:
            raise ContentError(path, number, f"a control character U+{ord(found.group()):04X}: {FIX_CONTROL}")


def _refuse_control_characters_in_values(meta: dict, key_lines: dict[str, int], path: str) -> None:
    for key, value in meta.items():
        found = next((match for text in _strings(value) if (match := CONTROL_CHARACTER.search(text))), None)
        if found:
            character = f"U+{ord(found.group()):04X}"
            raise ContentError(
                path, key_lines.get(key, 1), f"'{key}' holds a control character {character}: {FIX_CONTROL}"
            )


def _strings(value, depth: int = 0):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict) and depth < MAX_DEPTH:
        for key, item in value.items():
            yield from _strings(key, depth + 1)
            yield from _strings(item, depth + 1)
    elif isinstance(value, list) and depth < MAX_DEPTH:
        for item in value:
            yield from _strings(item, depth + 1)


def split_front_matter(text: str, path: str) -> tuple[dict, str, int]:
    front = read_front_matter(text, path)
    return front.meta, front.body, front.body_start_line


def key_lines(text: str, path: str) -> dict[str, int]:
    """The 1-based file line of each top-level front matter key."""
    return read_front_matter(text, path).key_lines


def parse_yaml_mapping(yaml_text: str, path: str, first_line: int) -> tuple[dict, dict[str, int]]:
    """Parse a YAML mapping that starts at `first_line` of `path` (also used for ```exercise fences).

    Returns the data and the 1-based file line of each top-level key."""
    try:
        return _parse_mapping(_FastLoader, yaml_text, path, first_line)
    except ContentError:
        return _parse_mapping(_Loader, yaml_text, path, first_line)


def _parse_mapping(loader_class: type, yaml_text: str, path: str, first_line: int) -> tuple[dict, dict[str, int]]:
    try:
        loader = loader_class(yaml_text)  # the pure-Python reader checks every character here
    except yaml.reader.ReaderError as exc:
        raise _unreadable(exc, yaml_text, path, first_line) from None
    if _nesting(yaml_text) > MAX_DEPTH:
        loader.dispose()
        raise ContentError(path, first_line, f"the YAML is nested more than {MAX_DEPTH} levels deep: flatten it")
    try:
        node = loader.get_single_node()
        if node is None:
            return {}, {}
        if not isinstance(node, yaml.MappingNode):
            raise ContentError(path, first_line + node.start_mark.line, "expected 'key: value' lines here")
        lines = _key_lines(node, path, first_line)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        raise ContentError(path, first_line + _error_mark(exc, yaml_text).line, _yaml_message(exc)) from None
    except yaml.reader.ReaderError as exc:  # libyaml's reader, as it goes
        raise _unreadable(exc, yaml_text, path, first_line) from None
    finally:
        loader.dispose()
    return data, lines


# Front matter is a flat list of keys; anything this deep is a mistake (or an attack on the parser).
MAX_DEPTH = 50


def _nesting(yaml_text: str) -> int:
    """An upper bound of how deep brackets and indentation nest, counted without parsing."""
    deepest = depth = 0
    for char in yaml_text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
    indents = {len(line) - len(line.lstrip(" -")) for line in yaml_text.splitlines() if line.strip()}
    return max(deepest, len(indents))


def _unreadable(exc: yaml.reader.ReaderError, yaml_text: str, path: str, first_line: int) -> ContentError:
    """A character YAML does not accept (a control character pasted from another program, say).
    The pure-Python reader's position is an index into `yaml_text`: the line is counted the way
    the file's lines are (str.splitlines)."""
    line = len((yaml_text[: exc.position] + ".").splitlines()) - 1
    character = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or "\0")
    return ContentError(
        path,
        first_line + line,
        f"invalid character U+{character:04X} ({exc.reason}): delete it, or retype the text around it",
    )


UNCLOSED_CONTEXTS = ("flow sequence", "flow mapping", "quoted scalar", "simple key")


def _error_mark(exc: yaml.MarkedYAMLError, yaml_text: str) -> yaml.Mark:
    """Where the writer should look: for something left open (a bracket, a quote) that is where
    it was opened, not where PyYAML gave up."""
    opened_here = exc.context and any(context in exc.context for context in UNCLOSED_CONTEXTS)
    at_end = exc.problem_mark is None or exc.problem_mark.line >= yaml_text.count("\n")
    if exc.context_mark and (opened_here or at_end):
        return exc.context_mark
    return exc.problem_mark or exc.context_mark


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    where = f" ({exc.context})" if exc.context else ""
    return (
        f"invalid YAML: {exc.problem}{where}: check the indentation, and put quotes around text "
        "containing ': ' or starting with a symbol"
    )


def _key_lines(node: yaml.MappingNode, path: str, first_line: int) -> dict[str, int]:
    lines: dict[str, int] = {}
    for key_node, _ in node.value:
        key = key_node.value
        line = first_line + key_node.start_mark.line
        if not isinstance(key_node, yaml.ScalarNode):
            raise ContentError(path, line, "a key must be a plain word such as 'title'")
        if key in lines:
            raise ContentError(path, line, f"'{key}' is given twice (also on line {lines[key]}): keep one")
        lines[key] = line
    return lines

"""The header block of a post as other tools write it: YAML between `---` lines (Hugo, Jekyll,
Pelican's fenced style), TOML between `+++` lines (Hugo, Zola), or Pelican's `Key: value` lines.

`read_header(text) -> Header(meta, body, body_line, kind)`. Keys keep their spelling; values are
what the file says, with TOML and YAML dates as text so one date parser (dates.py) sees them all.
Lenient on purpose: Jekyll accepts a key given twice (the last wins), Pelican metadata is not YAML
(`title: DataFusion: a query engine` has two colons), and the importer must read what they read.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass

import yaml

YAML_FENCE = re.compile(r"^-{3,}\s*$")
YAML_CLOSING = re.compile(r"^(?:-{3,}|\.{3})\s*$")  # YAML's own document end, `...`, closes it too
TOML_FENCE = re.compile(r"^\+{3,}\s*$")
PELICAN_LINE = re.compile(r"^(?P<key>[A-Za-z][A-Za-z0-9_ -]*?)\s*:\s*(?P<value>.*)$")


class HeaderError(ValueError):
    """A header no reader understands; the message says what is wrong."""


@dataclass
class Header:
    meta: dict
    body: str
    body_line: int  # 1-based line of the body's first line in the file
    kind: str  # "yaml", "toml", "pelican" or "none"


class _TextDates(yaml.SafeLoader):
    """SafeLoader with timestamps left as text (dates.py reads every shape of date)."""


_TextDates.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_header(text: str) -> Header:
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and YAML_FENCE.match(lines[0]):
        return _fenced(lines, YAML_CLOSING, _yaml_or_pelican, "yaml")
    if lines and TOML_FENCE.match(lines[0]):
        return _fenced(lines, TOML_FENCE, _toml, "toml")
    if lines and PELICAN_LINE.match(lines[0]) and lines[0].split(":")[0].strip().lower() == "title":
        end = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
        return Header(_pelican(lines[:end]), "\n".join(lines[end + 1 :]), end + 2, "pelican")
    return Header({}, "\n".join(lines), 1, "none")


def _fenced(lines: list[str], fence: re.Pattern, parse, kind: str) -> Header:
    closing = next((i for i in range(1, len(lines)) if fence.match(lines[i])), None)
    if closing is None:
        raise HeaderError(f"the header's opening '{lines[0].strip()}' line is never closed")
    meta, kind = parse(lines[1:closing], kind)
    return Header(meta, "\n".join(lines[closing + 1 :]), closing + 2, kind)


def _yaml_or_pelican(lines: list[str], kind: str) -> tuple[dict, str]:
    try:
        meta = yaml.load("\n".join(lines), Loader=_TextDates)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        if all(not line.strip() or PELICAN_LINE.match(line) or line.startswith((" ", "\t")) for line in lines):
            return _pelican(lines), "pelican"  # Pelican's `---` fenced metadata, which is not YAML
        raise HeaderError(f"the YAML header does not parse: {_first_line(exc)}") from None
    if meta is None:
        return {}, kind
    if not isinstance(meta, dict):
        raise HeaderError("the header is not 'key: value' lines")
    return meta, kind


def _toml(lines: list[str], kind: str) -> tuple[dict, str]:
    try:
        meta = tomllib.loads("\n".join(lines))
    except tomllib.TOMLDecodeError as exc:
        raise HeaderError(f"the TOML header does not parse: {exc}") from None
    return _dates_as_text(meta), kind


def _dates_as_text(value):
    if isinstance(value, dict):
        return {key: _dates_as_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_dates_as_text(item) for item in value]
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    return value


def _pelican(lines: list[str]) -> dict:
    """Pelican's `Key: value` metadata: keys in lower case, values raw text (a line starting with
    a space continues the one before)."""
    meta: dict[str, str] = {}
    key = None
    for line in lines:
        found = PELICAN_LINE.match(line)
        if found and not line.startswith((" ", "\t")):
            key = found["key"].strip().lower()
            meta[key] = _unquoted(found["value"].strip())
        elif key and line.strip():
            meta[key] += " " + line.strip()
    return meta


def _unquoted(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _first_line(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f" (header line {mark.line + 1})" if mark else ""
    return f"{getattr(exc, 'problem', None) or exc}{where}"

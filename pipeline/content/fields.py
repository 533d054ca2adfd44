"""Front-matter fields: which keys each kind of file takes, their types and conversions, slugs,
and the per-file error collector (FileErrors) that reports every problem of a file at once.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import PurePosixPath

from pipeline.core.errors import ContentError, ContentErrors
from pipeline.core.model import PREGNANCY_VALUES

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


class FileErrors:
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
    meta: dict,
    lines: dict[str, int],
    fields: dict[str, Field],
    problems: FileErrors,
    where: str = "front matter",
    default_line: int = 1,
) -> dict:
    """Validate `meta` against `fields`; returns the clean values of the keys that were valid."""
    values = {}
    for key, value in meta.items():
        line = lines.get(str(key), default_line)
        if key not in fields:
            hint = suggestion(str(key), fields) or f" (known keys: {', '.join(fields)})"
            problems.add(line, f"unknown key '{key}' in the {where}{hint}")
            continue
        if value is None or (isinstance(value, str) and _blank(value)):
            if fields[key].required:
                problems.add(line, f"'{key}' is empty: write it like  {key}: {fields[key].example}")
            continue
        try:
            values[key] = _convert(key, value, fields[key])
        except ValueError as exc:
            problems.add(line, str(exc))
    for key, spec in fields.items():
        if spec.required and key not in meta:
            problems.add(
                default_line, f"missing required key '{key}' in the {where}: add a line  {key}: {spec.example}"
            )
    return values


def _blank(text: str) -> bool:
    """Nothing a reader would see: spaces, line breaks, zero-width and other invisible characters."""
    return all(char.isspace() or unicodedata.category(char) in ("Cf", "Cc") for char in text)


def _convert(key: str, value, spec: Field):
    kind = spec.kind
    if kind == "text":
        if not isinstance(value, str):
            raise ValueError(f"'{key}' must be text, not {_describe(value)}: put the value in quotes")
        return value.strip()
    if kind == "count":
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValueError(
                f"'{key}' must be a number or short text such as 10 or \"8-10 each side\", not {_describe(value)}"
            )
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
            raise ValueError(
                f"'{key}' {text} is not a real date ({exc}): write it as YYYY-MM-DD, e.g. {spec.example}"
            ) from None
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
        raise ValueError(
            f"'{key}' must be a slug (lowercase letters, digits and hyphens) like "
            f"'{slugify(text) or 'hip-extension'}', not '{text}'"
        )
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
    """ "the hip extension" -> "hip-extension": a leading "the" is dropped, then slugify."""
    return slugify(re.sub(r"^\s*the\s+", "", name, flags=re.IGNORECASE))


def file_slug(path: str) -> str:
    return slugify(PurePosixPath(path).stem)

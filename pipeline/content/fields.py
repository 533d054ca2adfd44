"""Front-matter fields: which keys each kind of file takes, their types and conversions, slugs,
and the per-file error collector (FileErrors) that reports every problem of a file at once.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import PurePosixPath

from rapidfuzz.distance import DamerauLevenshtein

from pipeline.core.errors import ContentError, ContentErrors
from pipeline.core.model import PREGNANCY_VALUES, LoadWarning

# ---------------------------------------------------------------- front matter fields


@dataclass(frozen=True)
class Field:
    kind: str  # "text", "date", "bool", "list", "slug", "slugs", "url", "pregnancy", "count"
    required: bool = False
    example: str = ""  # what a good value looks like, for messages


ARTICLE_FIELDS = {
    "title": Field("text", required=True, example="Why your glutes grip"),
    "date": Field("datetime", required=True, example="2026-11-26"),
    "summary": Field("text", required=True, example="One or two sentences; also the email preview text"),
    # what other tools call the summary; used when `summary` is not given
    "description": Field("text"),
    "excerpt": Field("text"),
    "tags": Field("list", example="[glutes, pelvic floor]"),
    "author": Field("text"),
    "image": Field("text", example="images/glutes.jpg"),
    "image_alt": Field("text", example="A woman kneeling on a yoga mat"),
    "slug": Field("slug", example="why-glutes-grip"),
    "draft": Field("bool"),
    "newsletter": Field("bool"),
    "reviewed_by": Field("text"),
    "last_reviewed": Field("date", example="2026-11-01"),
    "aliases": Field("aliases", example="[blog/2021/08/old-address/]"),
}
ARTICLE_META_KEYS = ("reviewed_by", "last_reviewed")
# Keys other tools write, read here (a summary when there is none; old addresses), which a new
# article does not need: `newsletter new` leaves them out.
ARTICLE_IMPORTED_KEYS = ("description", "excerpt", "aliases")

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
# What Hugo, Jekyll, Pelican and Zola write: a date, then maybe a time (T or a space, a one-digit
# hour, seconds and fractions optional) and a zone (Z, +05:30, +0530, or " -0700").
DATETIME_PATTERN = re.compile(
    r"^(?P<day>\d{4}-\d{2}-\d{2})(?:[T ](?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?"
    r"\s*(?P<zone>Z|[+-]\d{2}:?\d{2})?)?$"
)


class FileErrors:
    """Collects the ContentErrors of one file so the writer sees them all at once."""

    def __init__(self, path: str):
        self.path = path
        self.errors: list[ContentError] = []
        self.forgiven: list[LoadWarning] = []  # unknown front matter keys: content/load.py decides

    def forgive(self, line: int, key: str, hint: str) -> None:
        self.forgiven.append(LoadWarning(self.path, line, key, hint))

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


def near_miss(word: str, choices) -> str:
    """ ": did you mean 'title'?" only for a typo ('titel', 'tagz': one or two letters off, a
    swap counting one), never for another tool's own key ('subtitle', 'duration')."""
    allowed = 1 if len(word) <= 5 else 2
    ranked = sorted(
        (DamerauLevenshtein.distance(word, choice), -difflib.SequenceMatcher(None, word, choice).ratio(), choice)
        for choice in choices
    )
    return f": did you mean '{ranked[0][2]}'?" if ranked and ranked[0][0] <= allowed else ""


def check_fields(
    meta: dict,
    lines: dict[str, int],
    fields: dict[str, Field],
    problems: FileErrors,
    where: str = "front matter",
    default_line: int = 1,
    forgiving: bool = False,
) -> dict:
    """Validate `meta` against `fields`; returns the clean values of the keys that were valid.
    `forgiving`: an unknown key is noted in `problems.forgiven` (content/load.py makes it a
    warning, or an error in strict mode) instead of being an error here."""
    values = {}
    for key, value in meta.items():
        line = lines.get(str(key), default_line)
        if key not in fields:
            hint = near_miss(str(key), fields)
            if forgiving:
                problems.forgive(line, str(key), hint)
            else:
                problems.add(line, unknown_key_message(str(key), hint, fields, where))
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


def unknown_key_message(key: str, hint: str, fields, where: str = "front matter") -> str:
    known = ", ".join(fields)
    return f"unknown key '{key}' in the {where}{hint or f' (known keys: {known})'}"


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
        moment = _datetime(key, value, spec)
        return moment.date() if isinstance(moment, datetime) else moment
    if kind == "datetime":
        return _datetime(key, value, spec)
    if kind == "list":
        return _text_list(key, value, spec)
    if kind == "slugs":
        return [_slug_value(key, item) for item in _text_list(key, value, spec)]
    if kind == "aliases":
        return [_alias(key, item) for item in _text_list(key, value, spec)]
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


def _datetime(key: str, value, spec: Field) -> date | datetime:
    """A date, or a datetime when a time of day is written (kept: it orders the feed)."""
    text = str(value).strip()
    found = DATETIME_PATTERN.match(text) if isinstance(value, str) else None
    if not found:
        raise ValueError(
            f"'{key}' must be a date written YYYY-MM-DD (a time may follow: 2026-11-26 08:30), "
            f"e.g. {spec.example}, not '{text}'"
        )
    try:
        day = date.fromisoformat(found["day"])
        if found["hour"] is None:
            return day
        moment = datetime(day.year, day.month, day.day, int(found["hour"]), int(found["minute"]))
        moment = moment.replace(second=int(found["second"] or 0))
    except ValueError as exc:
        raise ValueError(
            f"'{key}' {text} is not a real date ({exc}): write it as YYYY-MM-DD, e.g. {spec.example}"
        ) from None
    return moment.replace(tzinfo=_zone(found["zone"])) if found["zone"] else moment


def _zone(text: str) -> timezone:
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _text_list(key: str, value, spec: Field) -> list[str]:
    if isinstance(value, str) and key == "tags":  # `tags: yoga`, `tags: yoga, pelvic floor`
        return [tag.strip() for tag in value.split(",") if tag.strip()]
    if not isinstance(value, list):
        raise ValueError(f"'{key}' must be a list, not {_describe(value)}: write it like  {key}: {spec.example}")
    for item in value:
        if not isinstance(item, (str, int, float)) or isinstance(item, bool):
            raise ValueError(f"every item of '{key}' must be text, not {_describe(item)}")
    return [str(item).strip() for item in value]


ALIAS_PATTERN = re.compile(r"^[^\s?#\\/\x00-\x1f][^?#\\\x00-\x1f]*$")  # a path as the old site served it


def _alias(key: str, text: str) -> str:
    """An old address of the article, as a site path: 'blog/2021/old/' or 'old-post.html'."""
    path = text.strip().lstrip("/")
    if not ALIAS_PATTERN.match(path) or any(part in ("", ".", "..") for part in path.rstrip("/").split("/")):
        raise ValueError(
            f"every item of '{key}' must be a path on the site like 'blog/2021/08/old-address/', not '{text}'"
        )
    return path if path.endswith("/") or "." in path.rsplit("/", 1)[-1] else path + "/"


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

"""Dates as other tools write them -> the form our front matter takes (content/fields.py):
`2026-11-26`, or `2026-11-26 08:30:00+05:30` when a time is given.

Seen in the corpus (tests/import_corpus/, FORMATS.md): `2021-06-28 08:30:00+00:00`,
`2022-05-10 8:30:00+00:00` (one-digit hour), `2016-10-06 11:10:38 -0700`, `2015-12-29 20:28`,
`2025-06-19T04:26:46.262Z`, `2018-10-09 08:17:38` (Ghost 2.x, UTC), and the malformed
`2023-01-29 18:30:22 2023 -0800` (a year typed twice) that Jekyll still reads.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

DAY = r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
TIME = r"(?:[T ]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?)?"
ZONE = r"(?:\s*(?:\d{4}\s+)?(?P<zone>Z|[+-]\d{2}:?\d{2}))?"
WRITTEN = re.compile(rf"^\s*{DAY}{TIME}{ZONE}\s*$")
FILE_NAME_DATE = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})[-_](?P<rest>.+)$")
PATH_DATE = re.compile(r"(?:^|/)(?P<year>\d{4})/(?P<month>\d{2})/(?P<day>\d{2})(?:/|$)")


def our_date(written) -> str | None:
    """`written` in our front matter's form, or None when it is not a date we can read."""
    if isinstance(written, datetime):
        return _with_time(written)
    if isinstance(written, date):
        return written.isoformat()
    if isinstance(written, (int, float)) and not isinstance(written, bool):  # Ghost: milliseconds
        return _with_time(datetime.fromtimestamp(written / 1000, UTC))
    found = WRITTEN.match(str(written or ""))
    if not found:
        return None
    try:
        day = date(int(found["year"]), int(found["month"]), int(found["day"]))
        if found["hour"] is None:
            return day.isoformat()
        moment = datetime(
            day.year, day.month, day.day, int(found["hour"]), int(found["minute"]), int(found["second"] or 0)
        )
    except ValueError:
        return None
    zone = found["zone"]
    text = moment.isoformat(sep=" ")
    if zone == "Z":
        return text + "+00:00"
    if zone:
        digits = zone[1:].replace(":", "")
        return f"{text}{zone[0]}{digits[:2]}:{digits[2:]}"
    return text


def utc_date(written) -> str | None:
    """A date with no zone that the tool means as UTC (Ghost 2.x's `2018-10-09 08:17:38`)."""
    text = our_date(written)
    if text and len(text) == 19:
        return text + "+00:00"
    return text


def _with_time(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat(sep=" ")


def file_name_date(stem: str) -> tuple[str, str] | None:
    """`2022-06-21-title` (Jekyll) or `2016-10-08_title` (Zola) -> ("2022-06-21", "title")."""
    found = FILE_NAME_DATE.match(stem)
    if not found:
        return None
    try:
        day = date(int(found["year"]), int(found["month"]), int(found["day"]))
    except ValueError:
        return None
    return day.isoformat(), found["rest"]


def path_date(path: str) -> str | None:
    """`2020/03/12/Rust-1.42` (the rust blog's Zola `path`) -> "2020-03-12"."""
    found = PATH_DATE.search(path)
    if not found:
        return None
    try:
        return date(int(found["year"]), int(found["month"]), int(found["day"])).isoformat()
    except ValueError:
        return None

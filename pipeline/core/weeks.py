"""ISO weeks as the writer names them: "2026-W48" runs Monday 23 to Sunday 29 November 2026."""

from __future__ import annotations

import re
from datetime import date, timedelta

from pipeline.core.errors import PipelineError

WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")


def parse_week(text: str) -> str:
    match = WEEK_PATTERN.match(text.strip())
    if not match:
        raise PipelineError(f"--week '{text}' is not an ISO week: write it like 2026-W48")
    year, number = int(match[1]), int(match[2])
    try:
        date.fromisocalendar(year, number, 1)
    except ValueError:
        raise PipelineError(f"--week '{text}': {year} has no week {number}") from None
    return f"{year}-W{number:02d}"


def week_of(day: date) -> str:
    year, number, _ = day.isocalendar()
    return f"{year}-W{number:02d}"


def week_monday(week: str) -> date:
    match = WEEK_PATTERN.match(week)
    if not match:
        raise PipelineError(f"'{week}' is not an ISO week such as 2026-W48")
    return date.fromisocalendar(int(match[1]), int(match[2]), 1)


def week_days(week: str) -> tuple[date, date]:
    monday = week_monday(week)
    return monday, monday + timedelta(days=6)

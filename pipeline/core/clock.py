"""The program's one clock: every module asks here for "now" and "today", and nowhere else.

Tests move it with time-machine; users pin a build with SOURCE_DATE_EPOCH (the reproducible-builds
convention, https://reproducible-builds.org/specs/source-date-epoch/). With it set, everything a
build derives from the time - the feed's and sitemap's dates, the email's Date and Message-ID,
which week "this week" is, whether a review has gone stale - takes that instant instead of the
system's clock, so two builds of the same content give byte-identical files. Without it nothing
changes. Decisions about the real world (is a schedule in the past, when was a campaign sent)
always use `now()`.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from pipeline.core.errors import ConfigError

EPOCH_VARIABLE = "SOURCE_DATE_EPOCH"


def now() -> datetime:
    """The current instant, in UTC."""
    return datetime.now(UTC)


def today(zone: str) -> date:
    """The date it is now in `zone`, the writer's `[email] timezone`."""
    return now().astimezone(ZoneInfo(zone)).date()


def build_time() -> datetime:
    """The instant a build stands for: SOURCE_DATE_EPOCH when set, else now (whole seconds)."""
    pinned = source_date_epoch()
    return pinned if pinned is not None else now().replace(microsecond=0)


def build_date(zone: str) -> date:
    """The build's day in `zone`: the day whose week is "this week" and against which review
    dates are judged."""
    return build_time().astimezone(ZoneInfo(zone)).date()


def source_date_epoch() -> datetime | None:
    text = os.environ.get(EPOCH_VARIABLE, "").strip()
    if not text:
        return None
    try:
        return datetime.fromtimestamp(int(text), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise ConfigError(
            f"{EPOCH_VARIABLE}='{text[:40]}' is not a time: set it to a whole number of seconds since "
            "1970-01-01 UTC (e.g. $(git log -1 --format=%ct)), or unset it"
        ) from None

"""Which version each reader gets on the day an issue goes out, from what we know of her: her
dates (due date, birth date) when she gave them, else the stage she chose, else her stage tags.

The rule itself is pipeline/core/stage_calendar.py; this module applies it to subscribers as the
senders hold them (the smtp list, or what a provider's sync read), and counts the versions for
`push --plan`. Dates are health data: nothing here logs or prints them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from pipeline.core.config import AudienceConfig
from pipeline.core.stage_calendar import send_day
from pipeline.core.stages import GENERAL_STAGE, versions
from pipeline.deliver.subscribers import Subscriber
from pipeline.deliver.subscribers import reader_version as chosen_version


def chosen_stage(person: Subscriber, audience: AudienceConfig) -> str | None:
    """The stage she picked herself ("general" meaning none), else her first stage tag."""
    version = chosen_version(person, audience.stages)
    return None if version == GENERAL_STAGE else version


def reader_version(person: Subscriber, day: date, audience: AudienceConfig) -> str:
    """The version `person` gets on `day`: a configured stage, or GENERAL_STAGE."""
    stage = audience.calendar.stage_on(
        day,
        due_date=person.due_date,
        birth_date=person.birth_date,
        chosen_stage=chosen_stage(person, audience),
    )
    return stage if stage in audience.stages else GENERAL_STAGE


def version_counts(people: Iterable, day: date, audience: AudienceConfig) -> dict[str, int]:
    """How many readers each version reaches on `day`, every version listed (0 included)."""
    counted = Counter(reader_version(person, day, audience) for person in people)
    return {version: counted.get(version, 0) for version in versions(audience.stages)}


def personal_line(person: Subscriber, day: date, audience: AudienceConfig) -> str | None:
    """ "You are 24 weeks pregnant" / "Your baby is 3 weeks old" for her, or None."""
    return audience.calendar.personal_line(day, due_date=person.due_date, birth_date=person.birth_date)


def baby_arrived(person: Subscriber, day: date, consent_at: datetime | None = None) -> Subscriber:
    """ "My baby has arrived" on `day`: her birth date set, so her stage follows from it at once
    (early postpartum from that day, whatever her due date said). Storing it needs her consent:
    the one she gave for her due date, or `consent_at` when she gives it now."""
    consent = person.dates_consent_at or consent_at
    if consent is None:
        raise ValueError("a birth date is kept only with her consent: ask for it before saving the date")
    return replace(person, birth_date=day, dates_consent_at=consent)


def issue_day(when: datetime, zone: str) -> date:
    """The day an issue sent (or scheduled) at `when` counts as, in the writer's time zone."""
    return send_day(when, zone)


DAY_FIRST, MONTH_FIRST = "DD/MM/YYYY", "MM/DD/YYYY"  # Mailchimp's two date formats for a date field
DATE_ORDERS = (DAY_FIRST, MONTH_FIRST)
ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
NUMERIC_DATE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})")
WRITE_IT = "write it YYYY-MM-DD"


def stored_date(value: Any, order: str | None = None) -> date | None:
    """A date as a provider stores it in a custom field: None when empty. Read: `YYYY-MM-DD`
    (what an HTML date input posts, and an ISO datetime such as `2027-03-01T00:00:00Z`, its date
    as written), and day, month and year as numbers (`01/03/2027`, `1.3.2027`, `01-03-2027`).
    `order` is the field's known order (Mailchimp's date field: DAY_FIRST or MONTH_FIRST by the
    audience's setting); None for free text (Kit custom fields, Buttondown metadata, listmonk
    attributes), where a date such as 03/04/2027 could be either and is refused rather than
    guessed. Raises ValueError saying why, without the value (it may be health data)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ValueError(f"not a date ({WRITE_IT})")
    text = value.strip()
    try:
        if found := ISO_DATE.fullmatch(text):
            if len(text) > len("YYYY-MM-DD"):
                datetime.fromisoformat(text)  # a time that is no time (25:00) is no date either
            return date(*map(int, found.groups()))
        if found := NUMERIC_DATE.fullmatch(text):
            first, second, year = int(found[1]), int(found[3]), int(found[4])
            day, month = _day_and_month(first, second, order)
            return date(year, month, day)
    except ValueError as error:
        if "day/month" in str(error):
            raise
    raise ValueError(f"not a date ({WRITE_IT})")


def _day_and_month(first: int, second: int, order: str | None) -> tuple[int, int]:
    if order == DAY_FIRST or (order is None and first > 12 >= second):
        return first, second
    if order == MONTH_FIRST or (order is None and second > 12 >= first) or first == second:
        return second, first
    raise ValueError(f"not a date we can read for sure: it could be day/month or month/day ({WRITE_IT})")

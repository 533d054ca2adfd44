"""Which version each reader gets on the day an issue goes out, from what we know of her: her
dates (due date, birth date) when she gave them, else the stage she chose, else her stage tags.

The rule itself is pipeline/core/stage_calendar.py; this module applies it to subscribers as the
senders hold them (the smtp list, or what a provider's sync read), and counts the versions for
`push --plan`. Dates are health data: nothing here logs or prints them.
"""

from __future__ import annotations

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


def stored_date(value: Any) -> date | None:
    """A date as a provider stores it in a custom field: None when empty; `YYYY-MM-DD` (what an
    HTML date input posts, optionally with a time after it) or Mailchimp's `MM/DD/YYYY`. Raises
    ValueError for anything else (without the value: it may be health data)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ValueError("not a date")
    text = value.strip()
    try:
        if len(text) >= 10 and text[4] == "-":
            return date.fromisoformat(text[:10])
        if len(text) == 10 and text[2] == "/" and text[5] == "/":
            return date(int(text[6:]), int(text[:2]), int(text[3:5]))
    except ValueError:
        pass
    raise ValueError("not a date")

"""A reader's stage on a given day, from the dates she gave. Pure: no I/O, no clock.

A reader who gave a due date or a birth date moves through the stages by herself: pregnant until
the birth (the due date when no birth date is known), then early postpartum for the first weeks,
then later postpartum, then - after the configured end - the general version. A reader with no
date keeps the stage she chose. The boundaries come from `[audience]` in newsletter.toml.

"A day" is a calendar date in the writer's time zone (`[email] timezone`): `send_day` turns the
instant an issue goes out into that date, so a reader due on Monday is postpartum in Monday's
issue whether it leaves at 00:05 or 23:55 local time.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pipeline.core.stages import DEFAULT_STAGES, GENERAL_STAGE

PREGNANCY_DAYS = 280  # 40 weeks from the first day of the last period to the due date
LATEST_DUE_DAYS = 44 * 7  # a due date further ahead than this is a typo (a pregnancy is ~40 weeks)


@dataclass(frozen=True)
class StageCalendar:
    """The date rule: which stage is pregnancy, early and later postpartum, and where they end.

    `dated_stages` is empty when dates do not pick stages (custom stages without the three)."""

    dated_stages: tuple[str, ...] = DEFAULT_STAGES
    early_postpartum_weeks: int = 6
    postpartum_end_months: int = 24  # after this, the dates no longer pick a stage: general

    @property
    def uses_dates(self) -> bool:
        return len(self.dated_stages) == 3

    def stage_on(
        self,
        day: date,
        *,
        due_date: date | None = None,
        birth_date: date | None = None,
        chosen_stage: str | None = None,
    ) -> str | None:
        """Her stage on `day`: from her dates when she gave any, else the stage she chose (None
        when she chose none). GENERAL_STAGE after the end of the dated stages."""
        start = birth_date or due_date
        if start is None or not self.uses_dates:
            return chosen_stage
        pregnant, early, later = self.dated_stages
        if day < start:
            return pregnant
        if day < start + timedelta(weeks=self.early_postpartum_weeks):
            return early
        if day < add_months(start, self.postpartum_end_months):
            return later
        return GENERAL_STAGE

    def stage_tag_on(self, day: date, *, due_date=None, birth_date=None, chosen_stage=None) -> str | None:
        """The stage tag she should carry on `day`: None for no stage tag (general or none)."""
        stage = self.stage_on(day, due_date=due_date, birth_date=birth_date, chosen_stage=chosen_stage)
        return None if stage in (None, GENERAL_STAGE) else stage

    def date_problem(
        self, today: date, *, due_date: date | None, birth_date: date | None, at_entry: bool = True
    ) -> str | None:
        """Why these dates cannot be right, in words for the reader or the importer; None if fine.
        The one rule of the form, `subscribers import` and `subscribers sync`. `at_entry=False`
        (the sync: dates a provider stored long ago) leaves out the "long ago" refusals, since a
        date given years ago has simply reached the calendar's end (general)."""
        if due_date is not None and due_date > today + timedelta(days=LATEST_DUE_DAYS):
            return (
                f"the due date {due_date.isoformat()} is more than 44 weeks away; check the year "
                "(a pregnancy lasts about 40 weeks)"
            )
        if birth_date is not None and birth_date > today + timedelta(days=1):  # +1: a day ahead somewhere
            return f"the birth date {birth_date.isoformat()} is in the future; check the date"
        if not at_entry:
            return None
        oldest = add_months(today, -self.postpartum_end_months)
        if due_date is not None and due_date < oldest and birth_date is None:
            return (
                f"the due date {due_date.isoformat()} is more than {self.postpartum_end_months} months ago; "
                "check the year, or leave the date out"
            )
        if birth_date is not None and birth_date < oldest:
            return (
                f"the birth date {birth_date.isoformat()} is more than {self.postpartum_end_months} months ago; "
                "check the year, or leave the date out"
            )
        return None

    def personal_line(self, day: date, *, due_date: date | None, birth_date: date | None) -> str | None:
        """ "You are 24 weeks pregnant" / "Your baby is 3 weeks old", or None when her dates do
        not say it for sure (no date, a due date gone by without a birth date, past the end)."""
        if not self.uses_dates:
            return None
        if birth_date is not None:
            if birth_date > day or day >= add_months(birth_date, self.postpartum_end_months):
                return None
            return f"Your baby is {age_words(birth_date, day)} old"
        if due_date is None or day >= due_date:
            return None
        weeks = (PREGNANCY_DAYS - (due_date - day).days) // 7
        return f"You are {weeks} weeks pregnant" if weeks >= 1 else None


def age_words(birth: date, day: date) -> str:
    """'5 days', '3 weeks', '7 months': days in the first week, weeks to 12, then months."""
    days = (day - birth).days
    if days < 7:
        return "1 day" if days == 1 else f"{days} days"
    weeks = days // 7
    if weeks <= 12:
        return "1 week" if weeks == 1 else f"{weeks} weeks"
    months = (day.year - birth.year) * 12 + day.month - birth.month - (day.day < birth.day)
    return f"{months} months"


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier); the month's last day when it has no such day
    (29 February plus 12 months is 28 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def send_day(instant: datetime, zone: str) -> date:
    """The calendar day an issue sent at `instant` goes out on, in the writer's time zone."""
    if instant.tzinfo is None:
        raise ValueError("the send time needs a time zone")
    return instant.astimezone(ZoneInfo(zone)).date()
